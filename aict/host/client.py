"""A web process's view of the terminal host: the terminals it holds, as if they were here.

RemoteTerminals mirrors the host's table of terminals (the host sends every start, resize, exit
and forgetting), so looking one up, listing and counting cost nothing; what changes a terminal
(attach, input, resize, ack, kill) goes to the host over the link. Output the host sends for a
socket of this process goes to that socket's SocketViewer, as it did when terminals lived here.

If the link drops (the host restarts), the sockets attached through it are disconnected, so
their pages reconnect and re-attach from the offset they had; requests wait for the link to come
back (HOST_WAIT_SECONDS), then fail with 503 host_unavailable.
"""

from __future__ import annotations

import itertools
import json
import logging
import socket
import time
from collections.abc import Callable

import gevent
from gevent.event import AsyncResult, Event

from aict import protocol
from aict.db_pool import release_connection
from aict.errors import AppError
from aict.host import wire
from aict.terminals.backend import ExitStatus
from aict.terminals.live import AttachResult, Viewer

log = logging.getLogger(__name__)

TerminalEventSink = Callable[["RemoteTerminal", str, dict, bool], None]
MAX_OFFSET = 1 << 63  # a stream offset fits the wire's 8 bytes; an ack claiming more is ignored
HOST_WAIT_SECONDS = 30  # a request waits this long for a host that is (re)starting
REQUEST_SECONDS = 120  # longest answer: an SSH login, or a kill waiting for its record
RECONNECT_SECONDS = (0.05, 0.1, 0.2, 0.5, 1.0)
QUIET_SECONDS = 15  # an unreachable host is logged after this long, then as often
# Input is answered at once (before the host has taken it) only while it surely fits the host's
# queue: nothing was queued there at its last answer, and at most this much is on its way. Else the
# answer waits for the host's, which may be `throttled` (the process is not reading its input).
ANSWER_AT_ONCE_BYTES = 64 * 1024


def host_unavailable() -> AppError:
    return AppError("host_unavailable", "The terminal host of this server is not running; try again shortly.",
                    status=503)


class RemoteTerminal:
    """A live terminal on the host, as the realtime edge uses a LiveTerminal."""

    def __init__(self, host: RemoteTerminals, state: dict):
        self._host = host
        self.id: str = state["id"]
        self.owner_id: str = state["owner"]
        self.workspace_id: str = state["workspace"]
        self._viewers: dict[str, Viewer] = {}  # sockets of this process attached to it
        self._access: dict[str, str] = {}
        self._pending_acks: dict[int, list[Callable[[], None]]] = {}
        self._last_seq = 0
        self._in_flight: dict[int, int] = {}  # input sent, not answered yet: seq -> bytes
        self._in_flight_bytes = 0
        self.host_backlog = 0  # input the host held queued when it last answered
        self._typist: str | None = None  # the attachment whose input the host was last told of
        self.process: dict | None = None  # the last terminal-process payload the host sent for it
        self.update(state)

    def update(self, state: dict) -> None:
        self.node = state.get("node")
        if state["status"] == "exited" and getattr(self, "status", None) != "exited":
            self.ended = time.monotonic()  # when this process heard of it: its record is stored a moment later
        elif state["status"] != "exited":
            self.ended = None
        self.status, self.cols, self.rows = state["status"], state["cols"], state["rows"]
        self.exit_status = ExitStatus(state.get("exitCode"), state.get("signal")) if self.status == "exited" else None

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def viewer_count(self) -> int:
        return len(self._viewers)

    def viewer_keys(self) -> list[str]:
        """The sockets of this process attached to it."""
        return list(self._viewers)

    # ---- viewers --------------------------------------------------------------------------
    def attach(self, viewer: Viewer, access: str, since: int | None = None) -> AttachResult:
        key = viewer.key
        before = self._viewers.get(key), self._access.get(key)
        self._viewers[key] = viewer  # before the request: the replay may arrive before its answer
        self._access[key] = access
        release_connection()  # the host answers after its other work (a surge of replays: seconds)
        try:
            result = self._host.request("attach", session=self.id, key=key, user=viewer.user_id,
                                        username=getattr(viewer, "username", None), access=access, since=since,
                                        readOnly=bool(getattr(viewer, "read_only", False)))
        except BaseException:  # refused: an attachment this socket had stays as it was
            for table, value in zip((self._viewers, self._access), before, strict=True):
                if value is None:
                    table.pop(key, None)
                else:
                    table[key] = value
            raise
        return AttachResult(result["status"], result["cols"], result["rows"], result["offset"], result["replayFrom"],
                            result.get("viewerId"))

    def detach(self, key: str) -> bool:
        if self._viewers.pop(key, None) is None:
            return False
        self._access.pop(key, None)
        self._host.notify(op="detach", session=self.id, key=key)
        return True

    def ack(self, key: str, offset: int) -> None:
        if key in self._viewers and 0 <= offset < MAX_OFFSET:  # an absurd offset acks nothing
            self._host.send(wire.ack(self.id, key, offset))

    def access_of(self, key: str) -> str | None:
        return self._access.get(key)

    # ---- input and size -------------------------------------------------------------------
    def write(self, data: bytes, wait: bool = False, by: str | None = None) -> None:
        """Send input. With `wait`, return once the host wrote it (AppError if it could not):
        the handler's answer then follows the echo, as the fast path's does. `by`: the key of the
        attachment that typed it; the host is told when it changes (whose commands they are)."""
        if not self.running:
            raise AppError("conflict", "The terminal has exited.")
        if by is not None and by != self._typist:
            self._typist = by
            self._host.notify(op="typist", session=self.id, key=by)  # on the link before the input
        seq = self._host.next_seq() | (0 if wait else wire.PROMISED)  # unwaited input is answered already
        self._last_seq = seq
        self._in_flight[seq] = len(data)
        self._in_flight_bytes += len(data)
        done = AsyncResult() if wait else None
        if done is not None:
            self._pending_acks.setdefault(seq, []).append(_waited(done))
        self._host.send(*wire.input_frame(seq, self.id, data))
        if done is not None:
            release_connection()  # the host answers behind the echo: hold no database connection meanwhile
            try:
                error = done.get(timeout=REQUEST_SECONDS)
            except gevent.Timeout:
                self._pending_acks.pop(seq, None)
                raise AppError("host_timeout", "The terminal host did not answer in time.", status=503) from None
            if error:
                raise AppError(error["code"], error["message"])

    def takes_at_once(self, size: int) -> bool:
        """Whether `size` more bytes of input surely fit the host's queue for this terminal, so that
        it may be answered before the host's own answer (see ANSWER_AT_ONCE_BYTES)."""
        return self.host_backlog == 0 and self._in_flight_bytes + size <= ANSWER_AT_ONCE_BYTES

    def _answered(self, seq: int, backlog: int) -> None:
        self._in_flight_bytes -= self._in_flight.pop(seq, 0)
        self.host_backlog = backlog

    def _forget_in_flight(self) -> None:
        self._in_flight.clear()
        self._in_flight_bytes = 0
        self.host_backlog = 0

    def after_output(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the last input written has been written by the host and its echo
        (if any, within the host's short wait) has arrived here."""
        self._pending_acks.setdefault(self._last_seq, []).append(callback)

    def resize(self, cols: int, rows: int, by_key: str | None = None) -> None:
        if not self.running:
            raise AppError("conflict", "The terminal has exited.")
        release_connection()
        self._host.request("resize", session=self.id, cols=cols, rows=rows, key=by_key)

    def kill(self) -> None:
        self._host.request("kill", session=self.id)

    def memory_bytes(self) -> int:
        return 0  # held by the host (its /metrics has it)

    # ---- from the host --------------------------------------------------------------------
    def lost_viewers(self) -> list[str]:
        keys = list(self._viewers)
        self._viewers.clear()
        self._access.clear()
        return keys


class RemoteTerminals:
    """The host's terminals, mirrored; the manager the web edge talks to."""

    def __init__(self, socket_path: str | None, on_link_lost: Callable[[list[str]], None] | None = None,
                 open_link: Callable | None = None, where: str | None = None,
                 on_event: TerminalEventSink | None = None, hello_seconds: float = HOST_WAIT_SECONDS):
        self.socket_path = socket_path
        self.hello_seconds = hello_seconds  # a link made and its hello unanswered this long is made again
        # open_link(on_frame, on_close) -> a link (another node's host, over Redis); default: the Unix socket
        self._open_link = open_link or self._open_unix_link
        self.where = where or socket_path
        self.on_link_lost = on_link_lost  # called with the socket ids whose attachments the link took along
        # called with (terminal, event, payload, to_watchers) for what the host says about a terminal
        # (terminal-process, terminal-viewers, terminal-command): the realtime edge emits it
        self.on_event = on_event
        self.watched: set[str] = set()  # workspaces whose terminals sockets of this process watch
        self.on_watch_event: Callable[[dict], None] | None = None  # a watched workspace's event (realtime)
        self.on_watch_lost: Callable[[], None] | None = None  # the link took this process's watches along
        self.node: str | None = None
        self._terminals: dict[str, RemoteTerminal] = {}
        self._link: wire.FrameLink | None = None
        self._ready = Event()
        self._replies: dict[int, AsyncResult] = {}
        self._ids = itertools.count(1)
        self._seq = 0
        self._stopped = False
        self._connector: gevent.Greenlet | None = None

    # ---- the link -------------------------------------------------------------------------
    def start(self) -> None:
        if self._connector is None:
            self._connector = gevent.spawn(self._connect_loop)

    def stop(self) -> None:
        self._stopped = True
        if self._link is not None:
            self._link.close()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float = HOST_WAIT_SECONDS) -> bool:
        self.start()
        if self._ready.is_set():
            return True
        release_connection()  # the host may take seconds to come back: hold no database connection meanwhile
        return self._ready.wait(timeout)

    def _connect_loop(self) -> None:
        delays = iter(RECONNECT_SECONDS)
        warned = time.monotonic()  # a host (re)starting takes a few seconds: say nothing before QUIET_SECONDS
        while not self._stopped:
            try:
                link = self._link = self._open_link(self._on_frame, self._on_close)
            except OSError as error:
                if time.monotonic() - warned > QUIET_SECONDS:
                    log.warning("cannot reach the terminal host at %s (%s); retrying", self.where, error)
                    warned = time.monotonic()
                gevent.sleep(next(delays, RECONNECT_SECONDS[-1]))
                continue
            try:
                hello = self._request_on_link("hello", timeout=self.hello_seconds)
            except Exception as error:
                log.warning("the terminal host did not answer (%s); retrying", error)
                link.close()
                gevent.sleep(next(delays, RECONNECT_SECONDS[-1]))
                continue
            self.node = hello["node"]
            self._terminals = {}
            for state in hello["terminals"]:
                self._terminals[state["id"]] = RemoteTerminal(self, state)
            for workspace_id in self.watched:  # a host that restarted knows nothing of them
                self.notify(op="watch", workspace=workspace_id)
            self._ready.set()
            log.info("connected to the terminal host of node %s (pid %s, %d terminals)", self.node, hello["pid"],
                     len(self._terminals))
            return

    def _open_unix_link(self, on_frame, on_close) -> wire.FrameLink:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        return wire.FrameLink(sock, on_frame, on_close, name="terminal host link")

    def _on_close(self) -> None:
        established = self._ready.is_set()  # else the connect loop is still trying, and goes on
        self._ready.clear()
        self._link = None
        for reply in self._replies.values():
            reply.set_exception(host_unavailable())
        self._replies.clear()
        keys: list[str] = []
        for terminal in self._terminals.values():
            keys.extend(terminal.lost_viewers())
            for callbacks in terminal._pending_acks.values():
                _run_input_callbacks(terminal.id, callbacks, host_unavailable().body())
            terminal._pending_acks.clear()
            terminal._forget_in_flight()
        if keys and self.on_link_lost is not None:
            self.on_link_lost(sorted(set(keys)))
        if self.on_watch_lost is not None:
            self.on_watch_lost()
        if established and not self._stopped:
            log.warning("lost the link to the terminal host; reconnecting")
            self._connector = gevent.spawn(self._connect_loop)

    def send(self, *parts: bytes) -> None:
        link = self._link
        if link is not None:
            link.send(*parts)

    def next_seq(self) -> int:
        """1 to 2**31 - 1, then round again: the wire holds 31 bits of it (input numbers must fit)."""
        self._seq = self._seq % (wire.PROMISED - 1) + 1
        return self._seq

    def notify(self, **body) -> None:
        self.send(wire.message(body))

    def request(self, op: str, timeout: float = REQUEST_SECONDS, **body):
        if not self._ready.is_set() and not self.wait_ready():
            raise host_unavailable()
        return self._request_on_link(op, timeout=timeout, **body)

    def _request_on_link(self, op: str, timeout: float, **body):
        link = self._link
        if link is None:
            raise host_unavailable()
        request_id = next(self._ids)
        reply = self._replies[request_id] = AsyncResult()
        link.send(wire.message({"rid": request_id, "op": op, **body}))
        try:
            answer = reply.get(timeout=timeout)
        except gevent.Timeout:
            raise AppError("host_timeout", "The terminal host did not answer in time.", status=503) from None
        finally:
            self._replies.pop(request_id, None)
        if "error" in answer:
            error = dict(answer["error"])
            raise AppError(error.pop("code"), error.pop("message"), status=error.pop("status", None), **error)
        return answer["result"]

    # ---- frames from the host -------------------------------------------------------------
    def _on_frame(self, kind: int, payload: memoryview) -> None:
        if kind == wire.OUTPUT:
            session_id, key, offset, data = wire.parse_output(payload)
            terminal = self._terminals.get(session_id)
            viewer = terminal._viewers.get(key) if terminal is not None else None
            if viewer is not None:
                viewer.send_output(session_id, offset, data)
            return
        if kind != wire.MESSAGE:
            raise wire.LinkClosed(f"unknown frame kind {kind} from the host")
        body = json.loads(bytes(payload))
        if "rid" in body:
            reply = self._replies.get(body["rid"])
            if reply is not None:
                reply.set(body)
            return
        event = body.get("ev")
        handler = getattr(self, f"_ev_{event}", None)
        if handler is not None:
            handler(body)

    def _ev_term(self, body: dict) -> None:
        terminal = self._terminals.get(body["id"])
        was = None if terminal is None else terminal.status
        if terminal is None:
            terminal = self._terminals[body["id"]] = RemoteTerminal(self, body)
        else:
            terminal.update(body)
        if terminal.status != was:  # started or ended (not resized): pages listing the workspace's terminals
            state = {"sessionId": terminal.id, "workspaceId": terminal.workspace_id, "status": terminal.status}
            self._emit(terminal, protocol.TERMINAL_STATE, state, to_watchers=True)

    def _ev_gone(self, body: dict) -> None:
        for session_id in body["ids"]:
            self._terminals.pop(session_id, None)

    def _ev_input(self, body: dict) -> None:
        terminal = self._terminals.get(body["session"])
        if terminal is None:
            return
        terminal._answered(body["seq"], body.get("backlog", 0))
        _run_input_callbacks(terminal.id, terminal._pending_acks.pop(body["seq"], []), body.get("error"))

    def _viewer(self, body: dict) -> tuple[RemoteTerminal | None, Viewer | None]:
        terminal = self._terminals.get(body["session"])
        return terminal, terminal._viewers.get(body["key"]) if terminal is not None else None

    def _ev_exit(self, body: dict) -> None:
        terminal, viewer = self._viewer(body)
        if viewer is not None:
            viewer.send_exit(terminal.id, ExitStatus(body.get("exitCode"), body.get("signal")))

    def _ev_resized(self, body: dict) -> None:
        terminal, viewer = self._viewer(body)
        if viewer is not None:
            viewer.send_resized(terminal.id, body["cols"], body["rows"])

    def _ev_revoked(self, body: dict) -> None:
        """The host detached a socket: its user lost access to the workspace."""
        self._detached(body, "send_revoked")

    def _ev_detached(self, body: dict) -> None:
        """The host detached a socket: an owner or admin asked (DELETE .../viewers/<id>)."""
        self._detached(body, "send_detached")

    def _detached(self, body: dict, tell: str) -> None:
        terminal, viewer = self._viewer(body)
        if viewer is not None:
            terminal._viewers.pop(viewer.key, None)
            terminal._access.pop(viewer.key, None)
            getattr(viewer, tell)(terminal.id)

    def _ev_proc(self, body: dict) -> None:
        terminal = self._terminals.get(body["session"])
        if terminal is not None and body["process"] != terminal.process:
            terminal.process = body["process"]
            self._emit(terminal, protocol.TERMINAL_PROCESS, terminal.process, to_watchers=True)

    def _ev_viewers(self, body: dict) -> None:
        terminal = self._terminals.get(body["session"])
        if terminal is not None:
            self._emit(terminal, protocol.TERMINAL_VIEWERS, {"sessionId": terminal.id, "viewers": body["viewers"]},
                       to_watchers=False)

    def _ev_command(self, body: dict) -> None:
        terminal = self._terminals.get(body["session"])
        if terminal is not None:
            self._emit(terminal, protocol.TERMINAL_COMMAND, body["command"], to_watchers=True)

    def _emit(self, terminal: RemoteTerminal, event: str, payload: dict, to_watchers: bool) -> None:
        if self.on_event is not None:
            try:
                self.on_event(terminal, event, payload, to_watchers)
            except Exception:
                log.exception("session %s: passing on %s failed", terminal.id, event)

    def _ev_watch(self, body: dict) -> None:
        if self.on_watch_event is not None:
            self.on_watch_event(body)

    def _ev_access(self, body: dict) -> None:
        for terminal in self.in_workspace(body["workspace"]):
            for key, viewer in terminal._viewers.items():
                if viewer.user_id == body["user"]:  # a read-only watch stays one
                    terminal._access[key] = "viewer" if getattr(viewer, "read_only", False) else body["access"]

    # ---- the manager's surface ------------------------------------------------------------
    def get(self, terminal_id: str) -> RemoteTerminal | None:
        return self._terminals.get(terminal_id)

    def wait_get(self, terminal_id: str) -> RemoteTerminal | None:
        """get(), after waiting for the link if the host is restarting (handlers, not the fast path)."""
        if not self._ready.is_set() and not self.wait_ready():
            raise host_unavailable()
        return self._terminals.get(terminal_id)

    def all(self) -> list[RemoteTerminal]:
        return list(self._terminals.values())

    def count_running(self) -> int:
        return sum(1 for t in self._terminals.values() if t.running)

    def in_workspace(self, workspace_id: str) -> list[RemoteTerminal]:
        return [t for t in self._terminals.values() if t.workspace_id == workspace_id]

    def kill_workspace(self, workspace_id: str, by: str | None = None) -> None:
        self.request("kill_workspace", workspace=workspace_id, by=by)

    def set_access(self, user_id: str, workspace_id: str, access: str | None) -> None:
        self.request("set_access", user=user_id, workspace=workspace_id, access=access)

    def watch(self, workspace_id: str) -> None:
        """A socket of this process began to watch the workspace's terminals (the first one does)."""
        self.watched.add(workspace_id)
        self.notify(op="watch", workspace=workspace_id)

    def unwatch(self, workspace_id: str) -> None:
        """No socket of this process watches the workspace's terminals any more."""
        self.watched.discard(workspace_id)
        self.notify(op="unwatch", workspace=workspace_id)

    def stats(self) -> dict:
        return self.request("stats", timeout=5)

    def sweep(self) -> None:
        """Nothing to do here: the host ends idle terminals."""


def _waited(done: AsyncResult) -> Callable:
    """An input callback that wants the host's error (write(wait=True))."""

    def callback(error=None):
        done.set(error)

    callback.wants_error = True
    return callback


def _run_input_callbacks(session_id: str, callbacks: list[Callable], error: dict | None) -> None:
    for callback in callbacks:
        try:
            callback(error) if getattr(callback, "wants_error", False) else callback()
        except Exception:
            log.exception("session %s: input callback failed", session_id)
