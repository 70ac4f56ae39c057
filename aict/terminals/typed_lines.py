"""Command lines as typed, for terminals without shell integration (SSH, other shells).

Input is assembled into a line: printable characters (pastes too), backspace, Ctrl-U; Ctrl-C drops
the line. A line edited with anything else (cursor keys, Tab completion, history recall, Ctrl-R,
Ctrl-W, ...) is given up on: what the shell ran is no longer what was typed. At Enter the line is
kept only if its text came back in the output, as the terminal echoed it, between its first
keystroke and the first newline after Enter: a password typed at a prompt that does not echo
(ssh, sudo, `read -s`) is never kept.

Lines typed ahead (the next one begun before the last one's echo came back: a fast typist on a slow
link, or a client sending a command and the next at once) wait in order. Their echo may follow the
earlier command's output (the shell draws them at its next prompt), so a line typed ahead is kept
when a row ends with it, as an echo at a prompt does, within ECHO_BUDGET of output. Lines are
reported in the order they were entered; one still waiting when a later one's echo is seen is
given up on (echoes come in the order lines were typed).
"""

from __future__ import annotations

import codecs
import re
import time
from collections import deque
from collections.abc import Callable

MAX_LINE = 4096  # characters kept of a line; longer ones are given up on
ECHO_BUDGET = 64 * 1024  # output looked at for one line's echo; past it the line is given up on
MAX_AWAITING = 16  # entered lines waiting for their echo; past it the oldest is given up on
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

    def ends_with(self, line: str) -> bool:
        """The row being drawn ends with `line` (trailing blanks aside): an echo at a prompt."""
        cells = self.cells
        return len(cells) >= len(line) and "".join(cells).rstrip().endswith(line)


class _Entered:
    """A line whose Enter was pressed, waiting for its echo."""

    __slots__ = ("line", "at", "row", "seen", "ahead", "kept")

    def __init__(self, line: str, at: float, row: _Row, seen: int, ahead: bool):
        self.line, self.at, self.row, self.seen, self.ahead = line, at, row, seen, ahead
        self.kept: bool | None = None  # None: waiting; True: echoed; False: given up on

    def follow(self, text: str, size: int) -> None:
        """Draw what the terminal printed (`size` bytes) and decide, if it can be decided yet."""
        self.seen += size
        if self.seen > ECHO_BUDGET:
            self.kept = False
            return
        row = self.row
        if not self.ahead:  # the echo counts up to the first newline (the echoed Enter)
            newline = text.find("\n")
            row.draw(text if newline < 0 else text[:newline + 1])
            if self.line in row.text():
                self.kept = True
            elif newline >= 0:
                self.kept = False
            return
        pieces = text.split("\n")  # typed ahead: a row that ends with the line, at its newline or now
        for n, piece in enumerate(pieces):
            row.draw(piece)
            if row.ends_with(self.line):
                self.kept = True
                return
            if n < len(pieces) - 1:
                row.draw("\n")


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
        self._awaiting: deque[_Entered] = deque()  # entered, in order, their echo not decided yet

    # ---- input ----------------------------------------------------------------------------
    def input(self, data: bytes) -> None:
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
            if not self._awaiting:  # nothing followed until now: no partial character is pending
                self._decoder.reset()
            self._row, self._seen = _Row(), 0

    def _enter(self) -> None:
        line = self._line.decode("utf-8", "replace")
        row, seen = self._row, self._seen
        spoilt = self._spoilt or not line.strip() or len(line) > MAX_LINE or row is None
        self._reset()
        if spoilt:
            return
        entered = _Entered(line, time.time(), row, seen, ahead=bool(self._awaiting))
        if line in row.text() if not entered.ahead else row.ends_with(line):  # echoed already as typed
            entered.kept = True
        if len(self._awaiting) >= MAX_AWAITING:
            self._awaiting[0].kept = False
        self._awaiting.append(entered)
        self._report()

    def _reset(self) -> None:
        """The line being typed is done with (entered, or given up on)."""
        self._line.clear()
        self._spoilt = self._pasting = False
        self._row, self._seen = None, 0

    def _report(self) -> None:
        """Hand on the decided lines at the front, in the order they were entered. A terminal echoes
        lines in the order they were typed: once one is seen, those before it still waiting never
        will be (a password typed ahead of its prompt, not echoed)."""
        awaiting = self._awaiting
        last_kept = max((n for n, entered in enumerate(awaiting) if entered.kept), default=-1)
        for n in range(last_kept):
            if awaiting[n].kept is None:
                awaiting[n].kept = False
        while awaiting and awaiting[0].kept is not None:
            entered = awaiting.popleft()
            if entered.kept:
                self.on_line(entered.line, entered.at)

    # ---- output ---------------------------------------------------------------------------
    def output(self, _offset: int, data: bytes) -> None:
        row = self._row
        if row is None and not self._awaiting:  # nobody is typing: nothing to follow (the flood's path)
            return
        text = self._decoder.decode(data)
        for entered in self._awaiting:
            if entered.kept is None:
                entered.follow(text, len(data))
        self._report()
        if row is not None:
            self._seen += len(data)
            if self._seen > ECHO_BUDGET:
                self._reset()
            else:
                row.draw(text)
