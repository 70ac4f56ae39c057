"""Host-key offers in Redis (REDIS_URL): what one process remembers, another sees, until the TTL."""

from __future__ import annotations

import subprocess
import time

from aict.ssh.host_keys import SharedHostKeyOffers
from aict.ssh.keys import parse_host_key
from tests.integration.shared import redis_client


def _key(tmp_path, name: str):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / name)], check=True)
    return parse_host_key((tmp_path / f"{name}.pub").read_text())


def test_an_offer_is_seen_by_another_client_until_it_expires_or_is_used(tmp_path, redis_prefix):
    key, newer = _key(tmp_path, "first"), _key(tmp_path, "second")
    here, there = (SharedHostKeyOffers(redis_client(), redis_prefix, ttl=1) for _ in range(2))
    assert there.offered("ws1") is None
    here.remember("ws1", key)
    assert there.offered("ws1") == key and there.offered("ws2") is None
    here.remember("ws1", newer)  # the key presented last is the one offered
    assert there.offered("ws1") == newer
    there.forget("ws1")
    assert here.offered("ws1") is None

    here.remember("ws2", key)
    time.sleep(1.2)
    assert there.offered("ws2") is None  # Redis let it expire
