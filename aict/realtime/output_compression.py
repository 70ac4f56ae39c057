"""terminal-output compressed for one attachment, when its client asks (`"compress": "deflate-raw"`).

Socket.IO over gevent-websocket has no permessage-deflate (the library ignores the browser's offer),
so the compression is the event's own: each attachment has one raw-deflate stream (RFC 1951, what
the browser's DecompressionStream("deflate-raw") reads), flushed with Z_SYNC_FLUSH after every
chunk so that the chunk decodes the moment it arrives, while the stream's history carries over from
chunk to chunk: a line like the one before costs a few bytes. Offsets, `length`, acks and flow
control stay in the uncompressed bytes of the stream; a chunk smaller than MIN_BYTES (an echo, a
prompt) leaves as it is, as it would for a client that did not ask. bench/compression.py measured
the choices below (docs/performance.md).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

from aict.errors import bad_request

DEFLATE_RAW = "deflate-raw"
ENCODINGS = (DEFLATE_RAW,)
# Level 1 (zlib's fast matcher): a third of the bytes on mixed terminal text, and at level 6 only
# 0.31 instead of 0.34 for twice the CPU.
LEVEL = 1
# An 8 KiB window and memLevel 4: 40 KiB of compressor per attachment instead of zlib's default
# 256 KiB, for the same ratio on terminal output (0.334 against 0.335 on the 50 MB mixed flood).
WINDOW_BITS = 13
MEM_LEVEL = 4
# Smaller chunks go out uncompressed: a keystroke's echo would grow (1 byte -> 7), and the event's
# header (~90 bytes) outweighs what a few hundred bytes could save.
MIN_BYTES = 256
# Compressed this much at a time, letting everything else that is ready run in between: a 256 KiB
# chunk of noise took ~5 ms in one go, and another terminal's echo waited for it (bench/compression.py:
# echo p50 2.7 -> 8.3 ms while a compressed flood ran).
SLICE_BYTES = 16 * 1024


@dataclass(slots=True)
class Deflated:
    """One chunk of the attachment's deflate stream."""

    data: bytes  # compressed
    length: int  # the chunk's uncompressed bytes: what its offset and the acks count
    reset: bool  # the first chunk of a new deflate stream: the client starts a fresh decompressor

    def fields(self) -> dict:
        """The event's fields beside sessionId, offset and data (docs/api.md)."""
        fields = {"encoding": DEFLATE_RAW, "length": self.length}
        if self.reset:
            fields["reset"] = True
        return fields


class OutputCompressor:
    """The deflate stream of one attachment; made on its first chunk worth compressing (an attachment
    that only ever sees echoes holds no compressor)."""

    __slots__ = ("_deflate",)

    def __init__(self):
        self._deflate = None

    def encode(self, data: bytes, pause: Callable[[], None] | None = None) -> Deflated | None:
        """The chunk compressed, or None: send it as it is. `pause()` is called between slices."""
        if len(data) < MIN_BYTES:
            return None
        reset = self._deflate is None
        if reset:
            self._deflate = zlib.compressobj(LEVEL, zlib.DEFLATED, -WINDOW_BITS, MEM_LEVEL)
        deflate = self._deflate
        if len(data) <= SLICE_BYTES:
            return Deflated(deflate.compress(data) + deflate.flush(zlib.Z_SYNC_FLUSH), len(data), reset)
        view, parts = memoryview(data), []
        for start in range(0, len(data), SLICE_BYTES):
            parts.append(deflate.compress(view[start:start + SLICE_BYTES]))
            if pause is not None:
                pause()
        parts.append(deflate.flush(zlib.Z_SYNC_FLUSH))
        return Deflated(b"".join(parts), len(data), reset)


def compress_option(payload: dict) -> str | None:
    """The `compress` field of create-terminal / attach-terminal: None, or one of ENCODINGS."""
    value = payload.get("compress")
    if value is None or value in ENCODINGS:
        return value
    raise bad_request(f"'compress' must be one of {', '.join(ENCODINGS)}, or left out.")
