"""WebSocket unmasking (RFC 6455 §5.3) done on whole integers equals the bytewise definition."""

from __future__ import annotations

import os

import pytest

from aict.realtime.transport.websocket_frames import unmask


def _mask_bytewise(payload: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 125, 126, 65535, 65536, 100_003])
def test_unmask_matches_the_rfc_bytewise_definition(size):
    payload, key = os.urandom(size), os.urandom(4)
    assert unmask(payload, key) == _mask_bytewise(payload, key)
    assert unmask(unmask(payload, key), key) == payload


