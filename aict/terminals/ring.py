"""A byte-bounded ring buffer addressed by stream offset."""

from __future__ import annotations

import mmap


class RingBuffer:
    """Keeps the last `capacity` bytes of an endless stream; bytes are addressed by stream offset.

    One circular buffer in an anonymous memory map: appending copies the bytes in (a memcpy), and
    nothing is ever compacted or moved. The map is private to the process and its pages are only
    backed once written, so an idle session's ring costs a page or two, and a full one exactly its
    capacity. Holding the chunks that reads returned instead (one bytes object each, ~500 bytes on
    average while a terminal floods) cost 2-3x the ring in the server: the allocator could give
    little of the space between long-lived chunks back (issue 23).
    """

    __slots__ = ("capacity", "_buffer", "_start", "_end")

    def __init__(self, capacity: int):
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._buffer: mmap.mmap | None = None  # mapped at the first append
        self._start = 0  # offset of the oldest byte held
        self._end = 0

    @property
    def start(self) -> int:
        """Offset of the oldest byte still held."""
        return self._start

    @property
    def end(self) -> int:
        """Offset just past the newest byte: the total length of the stream so far."""
        return self._end

    def append(self, data: bytes) -> None:
        size = len(data)
        if not size:
            return
        if self._buffer is None:
            self._buffer = mmap.mmap(-1, self.capacity)
        capacity, buffer = self.capacity, self._buffer
        self._end += size
        if size > capacity:  # one huge append: only its last `capacity` bytes are held
            data, size = memoryview(data)[size - capacity:], capacity
        at = (self._end - size) % capacity
        first = min(size, capacity - at)
        buffer[at:at + first] = data[:first]
        if first < size:
            buffer[:size - first] = data[first:]
        self._start = max(self._start, self._end - capacity)

    def restore(self, start: int, data: bytes) -> None:
        """Hold `data` as the stream's bytes from offset `start` (a ring handed over by a host that
        restarted): offsets go on where they were."""
        if self._end:
            raise ValueError("restore() is for an empty ring")
        self._start = self._end = start
        self.append(data)
        self._start = max(start, self._end - self.capacity)

    def read(self, begin: int, end: int) -> bytes:
        """Bytes [begin, end) of the stream; the range must lie within [start, end]."""
        if begin < self._start or end > self._end or begin > end:
            raise IndexError(f"[{begin}, {end}) is outside the held range [{self._start}, {self._end})")
        if begin == end:
            return b""
        capacity, buffer = self.capacity, self._buffer
        at = begin % capacity
        stop = at + (end - begin)
        if stop <= capacity:
            return buffer[at:stop]
        return b"".join((buffer[at:], buffer[:stop - capacity]))

    def memory_bytes(self) -> int:
        """Bytes held for replay."""
        return self._end - self._start
