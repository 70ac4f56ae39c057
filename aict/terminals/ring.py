"""A byte-bounded ring buffer addressed by stream offset."""

from __future__ import annotations


class RingBuffer:
    """Keeps the last `capacity` bytes of an endless stream; bytes are addressed by stream offset.

    Backed by one bytearray: CPython deletes from its front in O(1) (it moves the start pointer),
    so append-then-trim costs only the copy of the new bytes. Memory grows lazily, so an idle
    session's ring costs almost nothing.
    """

    __slots__ = ("capacity", "_buf", "_start")

    def __init__(self, capacity: int):
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._buf = bytearray()
        self._start = 0

    @property
    def start(self) -> int:
        """Offset of the oldest byte still held."""
        return self._start

    @property
    def end(self) -> int:
        """Offset just past the newest byte: the total length of the stream so far."""
        return self._start + len(self._buf)

    def append(self, data: bytes) -> None:
        self._buf += data
        excess = len(self._buf) - self.capacity
        if excess > 0:
            del self._buf[:excess]
            self._start += excess

    def read(self, begin: int, end: int) -> bytes:
        """Bytes [begin, end) of the stream; the range must lie within [start, end]."""
        if begin < self._start or end > self.end or begin > end:
            raise IndexError(f"[{begin}, {end}) is outside the held range [{self._start}, {self.end})")
        with memoryview(self._buf) as view:  # one copy, and released before the next append
            return bytes(view[begin - self._start:end - self._start])

    def memory_bytes(self) -> int:
        return len(self._buf)
