"""The session core's mark filter: every OSC 133/633 leaves the stream; only marks with the terminal's
nonce become command events."""

import pytest

from aict.terminals.shell_marks import MAX_HELD, Mark, MarkFilter

NONCE = "0123456789abcdef"
E = f"\x1b]633;E;{NONCE};ls -l\\x3b echo \\\\o/;/tmp\x07".encode()
D = f"\x1b]633;D;{NONCE};1\x1b\\".encode()  # ST-terminated


def strip_all(chunks, nonce=NONCE):
    marks: list[Mark] = []
    marks_filter = MarkFilter(nonce, marks.append)
    out = b"".join(marks_filter.strip(chunk) for chunk in chunks) + marks_filter.finish()
    return out, marks


def test_a_chunk_without_an_osc_comes_back_as_the_same_object():
    marks_filter = MarkFilter(NONCE, lambda mark: None)
    for chunk in (b"x" * 65536, b"\x1b[1m[INFO]\x1b[0m a[i] ]\r\n" * 2000, b"]" + b"\x1b[0m" * 100):
        assert marks_filter.strip(chunk) is chunk


def test_a_mark_after_brackets_and_escapes_in_the_same_chunk_is_found():
    for before in (b"[INFO] x[1] ", b"\x1b[1m[INFO]\x1b[0m a[1]\r\n" * 20, b"]\x1b" * 20, b"\x1b]0;t\x07" * 3):
        out, marks = strip_all([before + E + b"]]"])
        assert out == before + b"]]" and len(marks) == 1, before


def test_marks_are_stripped_and_parsed_with_bel_and_st():
    out, marks = strip_all([b"before " + E + b"output\r\n" + D + b"$ "])
    assert out == b"before output\r\n$ "
    assert marks == [Mark("E", ("ls -l; echo \\o/", "/tmp")), Mark("D", ("1",))]


@pytest.mark.parametrize("cut", range(1, len(E)))
def test_a_mark_split_anywhere_across_reads_is_stripped_and_parsed(cut):
    stream = b"a" + E + b"b"
    out, marks = strip_all([stream[:cut + 1], stream[cut + 1:]])
    assert out == b"ab"
    assert marks == [Mark("E", ("ls -l; echo \\o/", "/tmp"))]


def test_a_mark_split_byte_by_byte_is_stripped_and_parsed():
    stream = b"x" + E + D + b"y"
    out, marks = strip_all([stream[i:i + 1] for i in range(len(stream))])
    assert out == b"xy"
    assert [mark.kind for mark in marks] == ["E", "D"]


def test_a_forged_nonce_records_nothing_and_is_not_shown():
    forged = b"\x1b]633;E;not-the-nonce;rm -rf /;/\x07\x1b]133;A\x07\x1b]633;D\x07"
    out, marks = strip_all([b"cat file: " + forged + b"done"])
    assert out == b"cat file: done"
    assert marks == []


def test_a_terminal_without_a_nonce_strips_marks_and_records_nothing():
    out, marks = strip_all([b"a" + E + b"b"], nonce=None)
    assert (out, marks) == (b"ab", [])


def test_other_osc_sequences_pass_untouched():
    others = (b"\x1b]0;title\x07\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\"
              b"\x1b]1337;File=x\x07\x1b]13;x\x07\x1b]63\x07")
    out, marks = strip_all([others])
    assert out == others and marks == []
    out, _ = strip_all([others[:3], others[3:]])  # "\x1b]0" alone is held a moment, then passed on
    assert out == others


def test_a_mark_cut_short_by_another_escape_is_stripped_without_its_event():
    out, marks = strip_all([f"\x1b]633;E;{NONCE};half".encode() + b"\x1b[31mred"])
    assert out == b"\x1b[31mred"
    assert marks == []


def test_an_unterminated_mark_past_the_bound_is_passed_through():
    head = f"\x1b]633;E;{NONCE};".encode()
    filler = b"x" * 4096
    marks_filter = MarkFilter(NONCE, lambda mark: None)
    out = marks_filter.strip(b"a" + head)
    assert out == b"a"  # held: its end may come
    passed = b""
    for _ in range(MAX_HELD // len(filler) + 1):
        passed += marks_filter.strip(filler)
    assert passed.startswith(head) and len(passed) > MAX_HELD  # given up on: shown as it came
    assert marks_filter.held == b""
    assert marks_filter.strip(b"rest\x07after") == b"rest\x07after"


def test_a_held_tail_is_given_back_when_the_stream_ends():
    marks_filter = MarkFilter(NONCE, lambda mark: None)
    assert marks_filter.strip(b"abc\x1b") == b"abc"
    assert marks_filter.finish() == b"\x1b"
    assert marks_filter.strip(b"abc\x1b]63") == b"abc"
    assert marks_filter.finish() == b"\x1b]63"


def test_a_lone_escape_at_a_chunk_end_joins_the_next_chunk():
    out, _ = strip_all([b"abc\x1b", b"[31mred"])
    assert out == b"abc\x1b[31mred"


def test_control_characters_and_utf8_in_fields_are_unescaped():
    mark = f"\x1b]633;E;{NONCE};printf '\\x1b]0\\x3bx\\x07' caf\u00e9;/home/\u00fc\x07".encode()
    _, marks = strip_all([mark])
    assert marks == [Mark("E", ("printf '\x1b]0;x\x07' caf\u00e9", "/home/\u00fc"))]
