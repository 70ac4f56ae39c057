"""RingBuffer: the bounded tail of an endless byte stream, addressed by stream offset."""

import random

import pytest

from aict.terminals.ring import RingBuffer


def test_capacity_must_be_positive():
    for capacity in (0, -1):
        with pytest.raises(ValueError):
            RingBuffer(capacity)


def test_an_empty_ring_starts_and_ends_at_zero():
    ring = RingBuffer(8)
    assert (ring.start, ring.end, ring.memory_bytes()) == (0, 0, 0)
    assert ring.read(0, 0) == b""


def test_appends_within_capacity_keep_everything():
    ring = RingBuffer(16)
    ring.append(b"hello ")
    ring.append(b"world")
    assert (ring.start, ring.end) == (0, 11)
    assert ring.read(0, 11) == b"hello world"
    assert ring.read(6, 9) == b"wor"


def test_overflow_drops_the_oldest_bytes_and_moves_start():
    ring = RingBuffer(8)
    ring.append(b"0123456789")
    assert (ring.start, ring.end) == (2, 10)
    assert ring.read(2, 10) == b"23456789"
    ring.append(b"ab")
    assert (ring.start, ring.end) == (4, 12)
    assert ring.read(4, 12) == b"456789ab"


def test_one_append_larger_than_capacity_keeps_its_tail():
    ring = RingBuffer(4)
    ring.append(b"x")
    ring.append(b"abcdefgh")
    assert (ring.start, ring.end) == (5, 9)
    assert ring.read(5, 9) == b"efgh"


def test_empty_append_changes_nothing():
    ring = RingBuffer(4)
    ring.append(b"abcdef")
    ring.append(b"")
    assert (ring.start, ring.end) == (2, 6)


@pytest.mark.parametrize("begin,end", [(1, 6), (2, 7), (5, 4), (-1, 3), (7, 7)])
def test_reads_outside_the_held_range_raise_index_error(begin, end):
    ring = RingBuffer(4)
    ring.append(b"abcdef")  # holds [2, 6)
    with pytest.raises(IndexError):
        ring.read(begin, end)


def test_reads_at_the_edges_of_the_held_range():
    ring = RingBuffer(4)
    ring.append(b"abcdef")
    assert ring.read(2, 2) == b""
    assert ring.read(6, 6) == b""
    assert ring.read(2, 6) == b"cdef"
    assert ring.read(5, 6) == b"f"


def test_read_returns_an_independent_copy():
    ring = RingBuffer(4)
    ring.append(b"abcd")
    data = ring.read(0, 4)
    ring.append(b"wxyz")
    assert data == b"abcd"
    assert isinstance(data, bytes)


def test_memory_stays_bounded_by_capacity():
    ring = RingBuffer(1000)
    for _ in range(500):
        ring.append(b"z" * 37)
        assert ring.memory_bytes() <= 1000
    assert ring.end == 500 * 37
    assert ring.memory_bytes() == 1000


def test_random_appends_match_a_reference_model():
    rng = random.Random(20240601)
    capacity = 997
    ring = RingBuffer(capacity)
    stream = bytearray()
    for _ in range(2000):
        data = rng.randbytes(rng.choice((0, 1, 7, 100, 500, 1500)))
        ring.append(data)
        stream += data
        assert ring.end == len(stream)
        assert ring.start == max(0, len(stream) - capacity)
        begin = rng.randint(ring.start, ring.end)
        end = rng.randint(begin, ring.end)
        assert ring.read(begin, end) == bytes(stream[begin:end])
