"""Command lines as typed, for terminals without shell integration (SSH, other shells).

Input is assembled into a line: printable characters (pastes too), backspace, Ctrl-U; Ctrl-C drops
the line. A line edited with anything else (cursor keys, Tab completion, history recall, Ctrl-R,
Ctrl-W, ...) is given up on: what the shell ran is no longer what was typed. At Enter the line is
kept only if its text came back in the output, as the terminal echoed it, between its first
keystroke and the first newline after Enter: a password typed at a prompt that does not echo
(ssh, sudo, `read -s`) is never kept.
"""

from __future__ import annotations

import codecs
import re
import time
from collections.abc import Callable

MAX_LINE = 4096  # characters kept of a line; longer ones are given up on
ECHO_BUDGET = 64 * 1024  # output looked at for one line's echo; past it the line is given up on
PASTE_START, PASTE_END = b"\x1b[200~", b"\x1b[201~"
_PASTE_MARKS = re.compile(rb"(\x1b\[20[01]~)")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_OUTPUT = re.compile(r"\x1b\[([0-9;?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?|([\x00-\x1f\x7f])"
                     r"|[^\x00-\x1f\x7f\x1b]+", re.S)
ENTER, ERASE, KILL_LINE, INTERRUPT = b"\r\n", b"\x7f\x08", 0x15, 0x03

LineHandler = Callable[[str, float], None]  # (the line, when Enter was pressed: time.time())


class _Row:
    """The rows the terminal drew since a line's first keystroke: enough of a terminal to read an echo
    (characters, backspace, carriage return, newline, erase and cursor moves on the row)."""

    def __init__(self):
        self.done: list[str] = []
        self.cells: list[str] = []
        self.cursor = 0

    def draw(self, text: str) -> None:
        for match in _OUTPUT.finditer(text):
            piece, final, control = match.group(0), match.group(2), match.group(3)
            if final is not None:
                self._csi(match.group(1), final)
            elif control is not None:
                self._control(control)
            elif piece[0] != "\x1b":
                cells, cursor = self.cells, self.cursor
                if cursor > len(cells):
                    cells.extend(" " * (cursor - len(cells)))
                cells[cursor:cursor + len(piece)] = piece
                self.cursor = cursor + len(piece)

    def _control(self, char: str) -> None:
        if char == "\b":
            self.cursor = max(0, self.cursor - 1)
        elif char == "\r":
            self.cursor = 0
        elif char == "\n":
            self.done.append("".join(self.cells))
            self.cells, self.cursor = [], 0

    def _csi(self, params: str, final: str) -> None:
        count = int(params) if params.isdigit() else 1
        if final == "K" and params in ("", "0"):
            del self.cells[self.cursor:]
        elif final == "D":
            self.cursor = max(0, self.cursor - count)
        elif final == "C":
            self.cursor += count
        elif final == "P":
            del self.cells[self.cursor:self.cursor + count]

    def text(self) -> str:
        return "".join(self.done) + "".join(self.cells)


class TypedLines:
    """Feed it a terminal's input and (mark-free) output; it calls on_line with each echoed line."""

    def __init__(self, on_line: LineHandler):
        self.on_line = on_line
        self._line = bytearray()
        self._spoilt = False  # edited beyond what can be followed: given up on until Enter
        self._pasting = False
        self._row: _Row | None = None  # the echo so far, from the line's first keystroke
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._seen = 0  # output bytes looked at for this line
        self._entered: tuple[str, float] | None = None  # Enter pressed, the echo not seen yet

    # ---- input ----------------------------------------------------------------------------
    def input(self, data: bytes) -> None:
        if self._entered is not None:  # typing again: an Enter whose echo never came is dropped
            self._entered = None
            self._reset()
        if b"\x1b" not in data:
            self._typed(data)
            return
        for piece in _PASTE_MARKS.split(data):  # bracketed paste is typing; other escapes spoil the line
            if piece == PASTE_START:
                self._pasting = True
            elif piece == PASTE_END:
                self._pasting = False
            elif piece:
                if b"\x1b" in piece:  # a cursor key, a function key, Alt-something
                    self._begin()
                    self._spoilt = True
                    piece = piece.replace(b"\x1b", b"")
                self._typed(piece)

    def _typed(self, data: bytes) -> None:
        position = 0
        for match in _CONTROL.finditer(data):
            self._printable(data[position:match.start()])
            self._control(match.group(0)[0])
            position = match.end()
        self._printable(data[position:])

    def _printable(self, text: bytes) -> None:
        if not text:
            return
        self._begin()
        if len(self._line) + len(text) > MAX_LINE * 4:
            self._spoilt = True
        elif not self._spoilt:
            self._line += text

    def _control(self, byte: int) -> None:
        if byte in ENTER:
            if self._pasting:  # a pasted newline runs what precedes it too: not one line any more
                self._spoilt = True
                return
            self._enter()
        elif byte in ERASE:
            self._begin()
            line = self._line
            while line and 0x80 <= line[-1] < 0xC0:  # one character: its UTF-8 continuation bytes...
                line.pop()
            if line:
                line.pop()  # ...and its first byte
        elif byte == KILL_LINE:
            self._begin()
            self._line.clear()
        elif byte == INTERRUPT:
            self._reset()
        else:  # Tab, Ctrl-R, Ctrl-P, Ctrl-W, Ctrl-A, ...
            self._begin()
            self._spoilt = True

    def _begin(self) -> None:
        if self._row is None:
            self._row = _Row()

    def _enter(self) -> None:
        line = self._line.decode("utf-8", "replace")
        if self._spoilt or not line.strip() or len(line) > MAX_LINE or self._row is None:
            self._reset()
            return
        self._entered = (line, time.time())
        if line in self._row.text():  # echoed as it was typed (and the newline came already: no matter)
            self._keep()

    def _keep(self) -> None:
        line, at = self._entered
        self._reset()
        self.on_line(line, at)

    def _reset(self) -> None:
        self._line.clear()
        self._spoilt = self._pasting = False
        self._row, self._entered, self._seen = None, None, 0
        self._decoder.reset()

    # ---- output ---------------------------------------------------------------------------
    def output(self, _offset: int, data: bytes) -> None:
        row = self._row
        if row is None:  # nobody is typing: nothing to follow (the flood's path)
            return
        self._seen += len(data)
        if self._seen > ECHO_BUDGET:
            self._reset()
            return
        entered = self._entered
        if entered is None:
            row.draw(self._decoder.decode(data))
            return
        # After Enter: the echo counts up to the first newline (the echoed Enter); what the program
        # prints next is its output, never an echo.
        newline = data.find(b"\n")
        row.draw(self._decoder.decode(data if newline < 0 else data[:newline + 1]))
        if entered[0] in row.text():
            self._keep()
        elif newline >= 0:
            self._reset()
