"""Shell-integration marks (OSC 133 / OSC 633) taken out of a terminal's output.

The server's bash and zsh hooks (aict/terminals/shell_integration/) write marks such as
`ESC ] 633 ; E ; <nonce> ; <command line> ; <cwd> BEL` around each command. Every OSC 133 and 633
sequence is removed from the stream before the ring, a viewer or the recording sees it, whoever
wrote it; only marks that carry the terminal's own nonce become command events, so a file holding
forged marks that someone `cat`s records nothing.

Cost on the output path (bench.marks measures it): a chunk without `]`, or without ESC after its
first `]`, costs one or two memchr and a look at its last byte. CPython's find() of a two-byte
needle does not use memchr: it walks a 64 KiB read in ~55-150 µs, a tenth of what a flood spends on
it at 80 MB/s; memchr takes ~0.5 µs. Only output dense in both (coloured logs with brackets) is
searched for ESC ] with a compiled regex, 2-3 times faster than find().

A mark split across reads is held back until its end arrives, at most MAX_HELD bytes; past that
it is passed through as it is (a viewer's terminal ignores an OSC it does not know).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

ESC = 0x1B
JUMPS = 8  # memchr jumps between `]` and ESC before the regex takes over
MAX_HELD = 64 * 1024  # an unterminated mark longer than this is given up on and passed through
_OURS = (b"133", b"633")
_OSC = re.compile(rb"\x1b\]")
_END = re.compile(rb"[\x07\x1b]")  # BEL, or ESC: ST (ESC \) or the start of whatever aborts the OSC
_ESCAPED = re.compile(rb"\\(\\|x([0-9a-fA-F]{2}))")


@dataclass(frozen=True)
class Mark:
    """One authentic mark: its kind (A prompt, E command line, D finished, ...) and its fields."""

    kind: str
    fields: tuple[str, ...]


def unescape(field: bytes) -> str:
    """A field as the hooks escape it (backslash as \\\\, `;` and control characters as \\xHH)."""
    raw = _ESCAPED.sub(lambda m: b"\\" if m.group(1) == b"\\" else bytes([int(m.group(2), 16)]), field)
    return raw.decode("utf-8", "replace")


def _first_osc(data: bytes, position: int = 0) -> int:
    """Where the first ESC ] from `position` on is, or -1. Jumps between `]` and ESC with memchr (a chunk without one of
    them is done at once); output where both are dense (coloured logs) goes to the regex after a few
    jumps."""
    for _ in range(JUMPS):
        bracket = data.find(b"]", position)
        if bracket < 0:
            return -1
        escape = data.find(b"\x1b", bracket - 1 if bracket > position else position)
        if escape < 0:
            return -1
        if data[escape + 1:escape + 2] == b"]":
            return escape
        position = escape + 1
    found = _OSC.search(data, position)
    return found.start() if found is not None else -1


class MarkFilter:
    """Strips OSC 133/633 from a byte stream; calls on_mark for each one carrying `nonce`."""

    __slots__ = ("_nonce", "_on_mark", "_held")

    def __init__(self, nonce: str | None = None, on_mark: Callable[[Mark], None] | None = None):
        self._nonce = nonce.encode() if nonce else None
        self._on_mark = on_mark
        self._held = b""  # the start of a mark whose end has not arrived yet

    @property
    def held(self) -> bytes:
        return self._held

    def hold(self, data: bytes) -> None:
        """Take over what another filter held (a host restart's handoff)."""
        self._held = data

    def strip(self, data: bytes) -> bytes:
        """The chunk without marks; an incomplete one at its end is kept for the next call."""
        if self._held:
            data, self._held = self._held + data, b""
            return self._scan(data, -1)
        first = _first_osc(data)
        if first < 0:
            if not data.endswith(b"\x1b"):
                return data  # the flood's path: nothing more than this
            return self._scan(data, -1)  # maybe the first byte of a mark
        return self._scan(data, first)

    def finish(self) -> bytes:
        """The stream ended: whatever was held, as it is."""
        held, self._held = self._held, b""
        return held

    def _scan(self, data: bytes, start: int) -> bytes:
        """Strip marks; `start` is where the first OSC begins, or -1 to search for it."""
        out, position, size = [], 0, len(data)
        while True:
            if start < position:
                start = _first_osc(data, position)
            if start < 0:
                if data.endswith(b"\x1b") and size - 1 >= position:  # maybe the first byte of an OSC
                    out.append(data[position:size - 1])
                    self._held = data[size - 1:]
                else:
                    out.append(data[position:])
                break
            code_at = start + 2
            head = data[code_at:code_at + 4]
            if len(head) < 4 and any(code.startswith(head[:3]) for code in _OURS) \
                    and (len(head) < 3 or head[:3] in _OURS):
                out.append(data[position:start])  # too short to tell yet: wait for more
                self._held = self._bounded(data, start, out)
                break
            if head[:3] not in _OURS or head[3:4] not in (b";", b"\x07", b"\x1b"):
                out.append(data[position:code_at])  # another OSC (a title, a hyperlink): untouched
                position = code_at
                continue
            end = _END.search(data, code_at + 3)
            if end is None or (data[end.start()] == ESC and end.start() + 1 == size):
                out.append(data[position:start])  # its end has not arrived yet
                self._held = self._bounded(data, start, out)
                break
            stop = end.start()
            terminated = data[stop] != ESC or data[stop + 1] == 0x5C  # BEL, or ST (ESC \)
            after = stop + (1 if data[stop] != ESC else 2 if terminated else 0)
            if terminated:
                self._parse(data[code_at:stop])
            out.append(data[position:start])
            position = after
        return b"".join(out)

    def _bounded(self, data: bytes, start: int, out: list[bytes]) -> bytes:
        """Hold data[start:] unless it is past MAX_HELD: then pass it through and hold nothing."""
        if len(data) - start <= MAX_HELD:
            return data[start:]
        out.append(data[start:])
        return b""

    def _parse(self, body: bytes) -> None:
        if self._nonce is None or self._on_mark is None or not body.startswith(b"633;"):
            return
        fields = body.split(b";")
        if len(fields) < 3 or not hmac.compare_digest(fields[2], self._nonce):
            return
        self._on_mark(Mark(fields[1].decode("ascii", "replace"), tuple(unescape(f) for f in fields[3:])))
