"""The Socket.IO wire protocol in one place: event names and payload shapes (docs/api.md describes
them for people; static/src/lib/protocol.js mirrors the names for the page).

Shapes are TypedDicts for readers and type checkers; the handlers check payloads themselves, since
a client may send anything.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

# ---- client -> server ---------------------------------------------------------------------------
CREATE_TERMINAL = "create-terminal"
ATTACH_TERMINAL = "attach-terminal"
DETACH_TERMINAL = "detach-terminal"
TERMINAL_INPUT = "terminal-input"
TERMINAL_RESIZE = "terminal-resize"
TERMINAL_ACK = "terminal-ack"  # the only event that needs no acknowledgement
KILL_TERMINAL = "kill-terminal"
LIST_TERMINALS = "list-terminals"
AUTHENTICATE = "authenticate"  # v1.1: a new access token of the same user, before the old one expires

CLIENT_EVENTS = (CREATE_TERMINAL, ATTACH_TERMINAL, DETACH_TERMINAL, TERMINAL_INPUT, TERMINAL_RESIZE,
                 TERMINAL_ACK, KILL_TERMINAL, LIST_TERMINALS, AUTHENTICATE)

# ---- server -> client ---------------------------------------------------------------------------
TERMINAL_OUTPUT = "terminal-output"
TERMINAL_EXIT = "terminal-exit"
TERMINAL_RESIZED = "terminal-resized"
ERROR = "error"

SERVER_EVENTS = (TERMINAL_OUTPUT, TERMINAL_EXIT, TERMINAL_RESIZED, ERROR)

Access = Literal["operator", "viewer"]


class CreateTerminal(TypedDict):
    workspaceId: str
    cols: NotRequired[int]  # 1-1000, default 80
    rows: NotRequired[int]  # 1-1000, default 24
    name: NotRequired[str]


class AttachTerminal(TypedDict):
    sessionId: str
    since: NotRequired[int]  # replay from this offset while the ring holds it


class SessionRef(TypedDict):  # detach-terminal, kill-terminal
    sessionId: str


class TerminalInput(TypedDict):
    sessionId: str
    data: str | bytes


class TerminalResize(TypedDict):
    sessionId: str
    cols: int
    rows: int


class TerminalAck(TypedDict):
    sessionId: str
    offset: int  # the first byte not rendered yet


class ListTerminals(TypedDict):
    workspaceId: NotRequired[str]


class Authenticate(TypedDict):
    token: str  # an access token of the socket's user; ack {"ok"}, or ok: false and nothing changes


class ErrorBody(TypedDict):
    code: str
    message: str


class Attached(TypedDict):  # attach-terminal's ack, with "ok": true
    sessionId: str
    status: Literal["starting", "running", "exited"]
    cols: int
    rows: int
    offset: int  # the stream's end when attached: what comes before it is replay
    replayFrom: int
    access: Access


class TerminalOutput(TypedDict):
    sessionId: str
    offset: int
    data: bytes  # a binary attachment, never re-encoded


class TerminalExit(TypedDict):
    sessionId: str
    exitCode: int | None
    signal: str | None


class TerminalResized(TypedDict):
    sessionId: str
    cols: int
    rows: int
