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
WATCH_TERMINALS = "watch-terminals"  # extension: terminal-process and terminal-command of a workspace's terminals
UNWATCH_TERMINALS = "unwatch-terminals"
WATCH_WORKSPACE = "watch-workspace"  # v1.1: live git status and file changes of a workspace
UNWATCH_WORKSPACE = "unwatch-workspace"

CLIENT_EVENTS = (CREATE_TERMINAL, ATTACH_TERMINAL, DETACH_TERMINAL, TERMINAL_INPUT, TERMINAL_RESIZE,
                 TERMINAL_ACK, KILL_TERMINAL, LIST_TERMINALS, AUTHENTICATE, WATCH_TERMINALS, UNWATCH_TERMINALS,
                 WATCH_WORKSPACE, UNWATCH_WORKSPACE)

# ---- server -> client ---------------------------------------------------------------------------
TERMINAL_OUTPUT = "terminal-output"
TERMINAL_EXIT = "terminal-exit"
TERMINAL_RESIZED = "terminal-resized"
TERMINAL_PROCESS = "terminal-process"  # v1.1: foreground program, process count, CPU and memory
TERMINAL_VIEWERS = "terminal-viewers"  # v1.1: who is attached
TERMINAL_COMMAND = "terminal-command"  # extension: a command of the terminal finished
TERMINAL_STATE = "terminal-state"  # extension: a terminal of a watched workspace started or ended
ERROR = "error"
WORKSPACE_STATUS = "workspace-status"  # to sockets watching the workspace
FILE_CHANGE = "file-change"  # v1.1, likewise
WORKSPACE_ACCESS = "workspace-access"  # extension: the user's membership of a workspace changed

SERVER_EVENTS = (TERMINAL_OUTPUT, TERMINAL_EXIT, TERMINAL_RESIZED, TERMINAL_PROCESS, TERMINAL_VIEWERS,
                 TERMINAL_COMMAND, TERMINAL_STATE, ERROR, WORKSPACE_STATUS, FILE_CHANGE, WORKSPACE_ACCESS)

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


class WatchTerminals(TypedDict):  # watch-terminals, unwatch-terminals
    workspaceId: str


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


class Foreground(TypedDict):
    pid: int
    command: str  # its command line, as ps shows it


class TerminalProcess(TypedDict):
    sessionId: str
    foreground: Foreground | None  # the program in the foreground (the shell itself at its prompt)
    processes: int  # in the terminal's tree
    cpu_percent: float  # of one CPU, the tree's together, over the last sample
    rss_bytes: int


class ViewerEntry(TypedDict):
    id: str  # names one attachment (DELETE /api/sessions/<id>/viewers/<viewer id>); not the socket's id
    username: str
    access: Access
    since: str  # ISO 8601 UTC


class TerminalViewers(TypedDict):
    sessionId: str
    viewers: list[ViewerEntry]


class TerminalCommand(TypedDict):
    sessionId: str
    command: str
    exit_code: int | None
    duration: float | None  # seconds it ran


class WatchWorkspace(TypedDict):  # watch-workspace, unwatch-workspace
    workspaceId: str


class ChangedFile(TypedDict):
    path: str  # relative to the repository's top
    status: str  # the two-letter `git status --porcelain` code: " M", "A ", "??", "UU"...
    # "from": the original path of a rename or copy


class WorkspaceStatus(TypedDict):  # watch-workspace's ack "status", and the workspace-status event
    workspaceId: str  # alone when the workspace's root is no git repository
    branch: NotRequired[str]  # absent on a detached HEAD ("detached": true, "commit")
    dirty: NotRequired[bool]
    files: NotRequired[list[ChangedFile]]  # at most 500; "changed" counts them all
    ahead: NotRequired[int]  # with an upstream only
    behind: NotRequired[int]


class FileChangeItem(TypedDict):
    path: str  # relative to the workspace's root; "." is the root
    change: Literal["created", "modified", "deleted", "moved", "many"]  # "many": a burst in that folder


class FileChange(TypedDict):
    workspaceId: str
    changes: list[FileChangeItem]
