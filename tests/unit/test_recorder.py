"""Recorder: a session's output stored as binary records, read back as asciicast v2."""

import json

from aict.recordings.playback import asciicast
from aict.recordings.recorder import ROW_BYTES, KeptTail, Recorder, Row


def cast(*batches: list[bytes]) -> tuple[dict, list[list]]:
    lines = "".join(asciicast(row for batch in batches for row in batch)).splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def output_of(events: list[list]) -> str:
    return "".join(data for _, kind, data in events if kind == "o")


def test_header_carries_the_starting_size_and_output_follows():
    recorder = Recorder("s1", 100, 30)
    recorder.output(0, b"hello ")
    recorder.resized(120, 40)
    recorder.output(6, b"world")
    header, events = cast(recorder.pending_rows())
    assert (header["version"], header["width"], header["height"]) == (2, 100, 30)
    assert [(kind, data) for _, kind, data in events] == [("o", "hello "), ("r", "120x40"), ("o", "world")]
    assert all(isinstance(at, float) for at, _, _ in events)


def test_output_close_together_is_one_event_unless_input_came_between():
    recorder = Recorder("s1", 80, 24)
    recorder.output(0, b"$ ")
    recorder.output(2, b"ls\r\n")  # within MERGE_SECONDS: one event
    recorder.input_arrived(b"echo next\r")
    recorder.output(6, b"echo next\r\n")  # as quick, but typed: an event of its own
    _, events = cast(recorder.pending_rows())
    assert [data for _, kind, data in events if kind == "o"] == ["$ ls\r\n", "echo next\r\n"]


def test_a_character_split_across_chunks_and_batches_is_decoded_whole():
    recorder = Recorder("s1", 80, 24)
    recorder.output(0, b"caf" + b"\xc3")
    first = recorder.pending_rows()
    recorder.output(4, b"\xa9!")
    assert output_of(cast(first, recorder.pending_rows())[1]) == "café!"


def test_invalid_bytes_and_a_dangling_partial_character_become_replacement_characters():
    recorder = Recorder("s1", 80, 24)
    recorder.output(0, b"a\xffb\xe2\x82")
    assert output_of(cast(recorder.pending_rows())[1]) == "a\ufffdb\ufffd"


def test_the_header_is_stored_once():
    recorder = Recorder("s1", 80, 24)
    recorder.output(0, b"x")
    first = recorder.pending_rows()
    recorder.output(1, b"y")
    header, events = cast(first, recorder.pending_rows())
    assert header["version"] == 2 and output_of(events) == "xy"


def test_a_flood_is_cut_into_rows_of_bounded_size_and_reads_back_whole():
    recorder = Recorder("s1", 80, 24)
    chunk = b"y\r\n" * 1365
    for offset in range(0, 3000 * len(chunk), len(chunk)):
        recorder.output(offset, chunk)
    rows = recorder.pending_rows()
    assert len(rows) > 1 and all(len(row.data) < ROW_BYTES + 128 * 1024 for row in rows)
    assert output_of(cast(rows)[1]) == (chunk * 3000).decode()


def test_rows_carry_the_output_before_them_so_a_reader_finds_what_was_left_out():
    recorder = Recorder("s1", 80, 24)
    chunk = b"0123456789" * 3000
    for n in range(160):  # 4.8 MB: several rows
        recorder.output(n * len(chunk), chunk)
        recorder.resized(80 + n % 2, 24)
    rows = recorder.pending_rows()
    assert len(rows) > 3
    assert [row.offset for row in rows] == [sum(r.output for r in rows[:i]) for i in range(len(rows))]
    assert sum(row.output for row in rows) == 160 * len(chunk) == recorder.recorded
    kept = [rows[0], *rows[-2:]]  # a head row and the tail, the rows between deleted
    left_out = rows[-2].offset - rows[0].output
    text = output_of(cast(kept)[1])
    assert f"[aict: {left_out} bytes" in text and "left out of this recording" in text
    assert text.endswith((chunk * 160)[-(rows[-2].output + rows[-1].output):].decode())


def test_a_character_cut_by_a_gap_is_not_joined_across_it():
    recorder = Recorder("s1", 80, 24)
    recorder.output(0, b"head \xe2\x82")
    head = recorder.pending_rows()
    recorder.output(7, b"x" * 100)  # left out
    recorder.pending_rows()
    recorder.output(107, b"\xac tail")
    lines = output_of(cast(head, recorder.pending_rows())[1])
    assert lines.startswith("head \ufffd\r\n[aict: 100 bytes") and lines.endswith("]\r\n\ufffd tail")


def test_the_tail_keeps_its_newest_rows_within_its_budget():
    tail = KeptTail()
    for seq in range(10, 20):
        tail.add(seq, 100)
    assert tail.trim(350) == (10, 16) and [seq for seq, _ in tail.rows] == [17, 18, 19]
    assert tail.trim(350) is None
    tail.add(20, 1000)
    assert tail.trim(350) == (17, 19) and list(tail.rows) == [(20, 1000)]  # the newest row stays


def test_a_recording_handed_over_goes_on_with_its_clock_rows_and_tail():
    recorder = Recorder("s1", 80, 24)
    recorder.output(0, b"before ")
    recorder.seq, recorder.tail = 7, KeptTail([(5, 10), (6, 20)])
    state = json.loads(json.dumps(recorder.handover()))
    resumed = Recorder("s1", 80, 24, resumed=state)
    resumed.output(7, b"after")
    rows = resumed.pending_rows()
    assert resumed.seq == 7 and list(resumed.tail.rows) == [(5, 10), (6, 20)]
    assert [row.offset for row in rows] == [0, 7] and output_of(cast(rows)[1]) == "before after"
    assert resumed.started <= recorder.started + 0.01


def test_stored_rows_without_offsets_read_as_before():
    recorder = Recorder("s1", 80, 24)
    recorder.output(0, b"old ")
    first = recorder.pending_rows()
    recorder.output(4, b"rows")
    old = [Row(row.data, None, 0) for row in first + recorder.pending_rows()]
    assert output_of(cast(old)[1]) == "old rows"


def test_handing_over_a_busy_second_copies_at_most_a_row():
    # The flusher takes rows on the event loop: joining a flood's whole second there (8-64 MB)
    # stalled every terminal once a second. Rows are packed as output arrives instead.
    import tracemalloc

    recorder = Recorder("s1", 80, 24)
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
