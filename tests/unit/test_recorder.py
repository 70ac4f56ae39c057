"""Recorder: a session's output as asciicast v2 lines."""

import json

from aict.audit.recorder import Recorder


def parse(text: str) -> tuple[dict, list[list]]:
    lines = text.splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def test_header_carries_the_starting_size_and_output_follows():
    recorder = Recorder("s1", 100, 30, max_bytes=1 << 20)
    recorder.output(0, b"hello ")
    recorder.resized(120, 40)
    recorder.output(6, b"world")
    header, events = parse(recorder.pending_lines(final=True))
    assert (header["version"], header["width"], header["height"]) == (2, 100, 30)
    assert [(kind, data) for _, kind, data in events] == [("o", "hello "), ("r", "120x40"), ("o", "world")]
    assert all(isinstance(at, float) for at, _, _ in events)


def test_a_character_split_across_chunks_and_batches_is_decoded_whole():
    recorder = Recorder("s1", 80, 24, max_bytes=1 << 20)
    recorder.output(0, b"caf" + b"\xc3")
    first = recorder.pending_lines()
    recorder.seq = 1  # the writer stored the first batch
    recorder.output(4, b"\xa9!")
    _, events = parse(first + recorder.pending_lines(final=True))
    assert "".join(data for _, kind, data in events if kind == "o") == "café!"


def test_invalid_bytes_become_replacement_characters():
    recorder = Recorder("s1", 80, 24, max_bytes=1 << 20)
    recorder.output(0, b"a\xffb")
    _, events = parse(recorder.pending_lines(final=True))
    assert events[0][2] == "a\ufffdb"


def test_the_header_is_written_once():
    recorder = Recorder("s1", 80, 24, max_bytes=1 << 20)
    recorder.output(0, b"x")
    first = recorder.pending_lines()
    recorder.seq = 1  # the writer stored the first batch
    recorder.output(1, b"y")
    assert '"version": 2' in first and '"version"' not in recorder.pending_lines()


def test_a_recording_stops_at_its_limit_and_says_so():
    recorder = Recorder("s1", 80, 24, max_bytes=10)
    recorder.output(0, b"0123456789")
    recorder.output(10, b"more")
    recorder.output(14, b"and more")
    _, events = parse(recorder.pending_lines(final=True))
    text = "".join(data for _, kind, data in events if kind == "o")
    assert text.startswith("0123456789") and "recording stopped" in text and "more" not in text
