"""Recorder: a session's output stored as binary records, read back as asciicast v2."""

import json

from aict.recordings.recorder import ROW_BYTES, Recorder, asciicast


def cast(*batches: list[bytes]) -> tuple[dict, list[list]]:
    lines = "".join(asciicast(row for batch in batches for row in batch)).splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def output_of(events: list[list]) -> str:
    return "".join(data for _, kind, data in events if kind == "o")


def test_header_carries_the_starting_size_and_output_follows():
    recorder = Recorder("s1", 100, 30, max_bytes=1 << 20)
    recorder.output(0, b"hello ")
    recorder.resized(120, 40)
    recorder.output(6, b"world")
    header, events = cast(recorder.pending_rows())
    assert (header["version"], header["width"], header["height"]) == (2, 100, 30)
    assert [(kind, data) for _, kind, data in events] == [("o", "hello "), ("r", "120x40"), ("o", "world")]
    assert all(isinstance(at, float) for at, _, _ in events)


def test_a_character_split_across_chunks_and_batches_is_decoded_whole():
    recorder = Recorder("s1", 80, 24, max_bytes=1 << 20)
    recorder.output(0, b"caf" + b"\xc3")
    first = recorder.pending_rows()
    recorder.output(4, b"\xa9!")
    assert output_of(cast(first, recorder.pending_rows())[1]) == "café!"


def test_invalid_bytes_and_a_dangling_partial_character_become_replacement_characters():
    recorder = Recorder("s1", 80, 24, max_bytes=1 << 20)
    recorder.output(0, b"a\xffb\xe2\x82")
    assert output_of(cast(recorder.pending_rows())[1]) == "a\ufffdb\ufffd"


def test_the_header_is_stored_once():
    recorder = Recorder("s1", 80, 24, max_bytes=1 << 20)
    recorder.output(0, b"x")
    first = recorder.pending_rows()
    recorder.output(1, b"y")
    header, events = cast(first, recorder.pending_rows())
    assert header["version"] == 2 and output_of(events) == "xy"


def test_a_flood_is_cut_into_rows_of_bounded_size_and_reads_back_whole():
    recorder = Recorder("s1", 80, 24, max_bytes=64 << 20)
    chunk = b"y\r\n" * 1365
    for offset in range(0, 3000 * len(chunk), len(chunk)):
        recorder.output(offset, chunk)
    rows = recorder.pending_rows()
    assert len(rows) > 1 and all(len(row) < ROW_BYTES + 128 * 1024 for row in rows)
    assert output_of(cast(rows)[1]) == (chunk * 3000).decode()


def test_a_recording_stops_at_its_limit_and_says_so():
    recorder = Recorder("s1", 80, 24, max_bytes=10)
    recorder.output(0, b"0123456789")
    recorder.output(10, b"more")
    recorder.output(14, b"and more")
    text = output_of(cast(recorder.pending_rows())[1])
    assert text.startswith("0123456789") and "recording stopped" in text and "more" not in text


def test_handing_over_a_busy_second_copies_at_most_a_row():
    # The flusher takes rows on the event loop: joining a flood's whole second there (8-64 MB)
    # stalled every terminal once a second. Rows are packed as output arrives instead.
    import tracemalloc

    recorder = Recorder("s1", 80, 24, max_bytes=64 << 20)
    chunk = b"y\r\n" * 1365
    for offset in range(0, 4000 * len(chunk), len(chunk)):  # 16 MB
        recorder.output(offset, chunk)
    tracemalloc.start()
    try:
        rows = recorder.pending_rows()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= ROW_BYTES + 128 * 1024
    assert output_of(cast(rows)[1]) == (chunk * 4000).decode()
