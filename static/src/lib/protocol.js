// The Socket.IO events the page and the server exchange, named once. aict/protocol.py holds the
// same names for the server (tests/unit/test_protocol_names.py checks that the two agree) and the
// payload shapes; docs/api.md describes them for people.

// ---- client -> server ----
export const CREATE_TERMINAL = "create-terminal";
export const ATTACH_TERMINAL = "attach-terminal";
export const DETACH_TERMINAL = "detach-terminal";
export const TERMINAL_INPUT = "terminal-input";
export const TERMINAL_RESIZE = "terminal-resize";
export const TERMINAL_ACK = "terminal-ack"; // the only event that needs no acknowledgement
export const KILL_TERMINAL = "kill-terminal";
export const LIST_TERMINALS = "list-terminals";
export const AUTHENTICATE = "authenticate"; // a new access token for this socket, before the old one expires
export const WATCH_TERMINALS = "watch-terminals"; // terminal-process and terminal-command of a workspace's terminals
export const UNWATCH_TERMINALS = "unwatch-terminals";
export const WATCH_WORKSPACE = "watch-workspace"; // live git status and file changes of a workspace
export const UNWATCH_WORKSPACE = "unwatch-workspace";

export const CLIENT_EVENTS = [CREATE_TERMINAL, ATTACH_TERMINAL, DETACH_TERMINAL, TERMINAL_INPUT, TERMINAL_RESIZE,
  TERMINAL_ACK, KILL_TERMINAL, LIST_TERMINALS, AUTHENTICATE, WATCH_TERMINALS, UNWATCH_TERMINALS, WATCH_WORKSPACE,
  UNWATCH_WORKSPACE];

// ---- server -> client ----
export const TERMINAL_OUTPUT = "terminal-output";
export const TERMINAL_EXIT = "terminal-exit";
export const TERMINAL_RESIZED = "terminal-resized";
export const TERMINAL_PROCESS = "terminal-process"; // foreground program, process count, CPU and memory
export const TERMINAL_VIEWERS = "terminal-viewers"; // who is attached
export const TERMINAL_COMMAND = "terminal-command"; // a command of the terminal finished
export const TERMINAL_STATE = "terminal-state"; // a terminal of a watched workspace started or ended
export const ERROR = "error";
export const WORKSPACE_STATUS = "workspace-status"; // to sockets watching the workspace
export const FILE_CHANGE = "file-change";
export const WORKSPACE_ACCESS = "workspace-access"; // the user's membership of a workspace changed

export const SERVER_EVENTS = [TERMINAL_OUTPUT, TERMINAL_EXIT, TERMINAL_RESIZED, TERMINAL_PROCESS, TERMINAL_VIEWERS,
  TERMINAL_COMMAND, TERMINAL_STATE, ERROR, WORKSPACE_STATUS, FILE_CHANGE, WORKSPACE_ACCESS];
