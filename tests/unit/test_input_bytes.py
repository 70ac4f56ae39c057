"""terminal-input's data check, shared by the full handler and the attached operator's fast path."""

from __future__ import annotations

import pytest

from aict.errors import AppError
from aict.realtime.handlers import input_bytes


def test_strings_are_written_as_utf8_with_a_lone_surrogate_as_a_question_mark_and_bytes_as_they_are():
    assert input_bytes({"data": "é\ud800"}, 100) == "é?".encode()
    assert input_bytes({"data": b"\xff\x00"}, 100) == b"\xff\x00"


@pytest.mark.parametrize("data", [None, 5, ["x"], {"x": 1}])
def test_anything_but_a_string_or_bytes_is_bad_request(data):
    with pytest.raises(AppError) as refused:
        input_bytes({"data": data}, 100)
    assert refused.value.code == "bad_request"


@pytest.mark.parametrize(("limit", "said"), [(1024 * 1024, "1 MiB"), (512 * 1024, "512 KiB"), (1000, "1000 bytes")])
def test_the_limit_counts_encoded_bytes_and_the_refusal_names_the_configured_limit(limit, said):
    assert input_bytes({"data": "é" * (limit // 2)}, limit)
    with pytest.raises(AppError) as refused:
        input_bytes({"data": "é" * (limit // 2) + "x"}, limit)
    assert refused.value.code == "too_large"
    assert f"limited to {said};" in refused.value.message
