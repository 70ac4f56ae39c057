"""A byte-bounded ring buffer addressed by stream offset."""

from __future__ import annotations

from collections import deque


class RingBuffer:
    """Keeps the last `capacity` bytes of an endless stream; bytes are addressed by stream offset.

    Held as the chunks that were appended (the bytes objects the reads returned), so appending
    copies nothing and trimming drops whole chunks; one contiguous buffer would move megabytes
    whenever it compacts. Reads walk from the newest chunk, since live viewers read near the end.
    Memory grows lazily, so an idle session's ring costs almost nothing.
    """

    __slots__ = ("capacity", "_chunks", "_start", "_end", "_skip")

    def __init__(self, capacity: int):
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._chunks: deque[bytes] = deque()
        self._start = 0  # offset of the oldest byte held
        self._end = 0
        self._skip = 0  # bytes at the front of the first chunk that are no longer held

    @property
    def start(self) -> int:
        """Offset of the oldest byte still held."""
        return self._start

    @property
    def end(self) -> int:
        """Offset just past the newest byte: the total length of the stream so far."""
        return self._end

    def append(self, data: bytes) -> None:
        if not data:
            return
        self._chunks.append(bytes(data))
        self._end += len(data)
        excess = self._end - self._start - self.capacity
        while excess > 0:
            first = self._chunks[0]
            left = len(first) - self._skip
            if left <= excess:
                self._chunks.popleft()
                self._skip = 0
                self._start += left
                excess -= left
            else:
                self._skip += excess
                self._start += excess
                excess = 0
        if self._skip > self.capacity:  # one huge append: keep only what is held of it
            self._chunks[0] = self._chunks[0][self._skip:]
            self._skip = 0

    def read(self, begin: int, end: int) -> bytes:
        """Bytes [begin, end) of the stream; the range must lie within [start, end]."""
        if begin < self._start or end > self._end or begin > end:
            raise IndexError(f"[{begin}, {end}) is outside the held range [{self._start}, {self._end})")
        pieces = []
        chunk_end = self._end
        for chunk in reversed(self._chunks):
            chunk_start = chunk_end - len(chunk)
            if chunk_start < end:
                pieces.append(chunk[max(begin - chunk_start, 0):end - chunk_start])
            if chunk_start <= begin:
                break
            chunk_end = chunk_start
        pieces.reverse()
        return b"".join(pieces)

    def memory_bytes(self) -> int:
        """Bytes held for replay."""
        return self._end - self._start
