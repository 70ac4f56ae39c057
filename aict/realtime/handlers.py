"""One handler per client→server event of the protocol (docs/api.md, aict/protocol.py)."""

from __future__ import annotations

import gevent
from flask import current_app, request

from aict import protocol
from aict.audit.events import record
from aict.errors import AppError, bad_request, not_found
from aict.extensions import db, socketio
from aict.models import TerminalSession
from aict.realtime.connections import Connection
from aict.realtime.guard import THROTTLED, current_user_of, session_id_of, socket_event
from aict.realtime.output_compression import OutputCompressor, compress_option
from aict.realtime.transport.inline_events import Later
from aict.realtime.viewer import HeldViewer, SocketViewer
from aict.services.access import session_for, wire_access, workspace_for
from aict.validation import int_field, name_field, text_field

MAX_SIZE = 1000


def _sessions():
    return current_app.extensions["aict"].sessions


def _terminals():
    return current_app.extensions["aict"].terminals


def _watchers():
    return current_app.extensions["aict"].watchers


def _live(session_id: str):
    """The live terminal of a session the caller may see. Its record exists, so a terminal this
    server does not hold has ended (past its retention, or ended by a restart): a conflict, as
    not_found would say there never was one."""
    session = _terminals().wait_get(session_id)
    if session is None:
        raise AppError("conflict", "That terminal has ended and its output is no longer held; "
                                   "its recording has it.")
    return session


def _size(payload: dict, default_cols: int | None, default_rows: int | None) -> tuple[int, int]:
    cols = int_field(payload, "cols", low=1, high=MAX_SIZE, default=default_cols, required=True)
    rows = int_field(payload, "rows", low=1, high=MAX_SIZE, default=default_rows, required=True)
    return cols, rows


def _amount(size: int) -> str:
    for unit, name in ((1024 * 1024, "MiB"), (1024, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


def input_bytes(payload: dict, max_bytes: int) -> bytes:
    """terminal-input's data as the bytes to write (a string as UTF-8, a lone surrogate as '?'):
    bad_request unless a string or bytes, too_large past `max_bytes` (MAX_INPUT_BYTES)."""
    data = payload.get("data")
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    elif not isinstance(data, bytes):
        raise bad_request("'data' must be a string or bytes.")
    if len(data) > max_bytes:
        raise AppError("too_large", f"Input events are limited to {_amount(max_bytes)}; split bigger pastes.")
    return data


def _attach(connection: Connection, session, level: str, since: int | None, viewer: SocketViewer | None = None,
            read_only: bool = False, compress: str | None = None) -> dict:
    access = "viewer" if read_only else wire_access(level)
    viewer = viewer or SocketViewer(request.sid, connection.user_id, connection.attached, read_only=read_only,
                                    username=connection.username)
    if compress is not None:  # before the attach: the replay may leave during it
        viewer.compressor = OutputCompressor()
    # Attached anew: the old stream ends before the new one's replay can start (it was detached).
    old = connection.compressing.pop(session.id, None)
    if old is not None:
        old.stop()
    try:
        result = session.attach(viewer, access, since)
    except Exception:
        if old is not None:  # refused: the old attachment goes on as it was
            old.stopped = False
            connection.compressing[session.id] = old
        raise
    if compress is not None:
        connection.compressing[session.id] = viewer
    connection.attached.add(session.id)
    if session.running and session.process is not None and not _watchers().watches(request.sid, session.workspace_id):
        # what it runs, as this process last heard (the host sends news within a second)
        gevent.spawn(socketio.server.emit, protocol.TERMINAL_PROCESS, session.process, to=request.sid, namespace="/")
    answer = {"sessionId": session.id, "status": result.status, "cols": result.cols, "rows": result.rows,
              "offset": result.offset, "replayFrom": result.replay_from, "access": access,
              "viewerId": result.viewer_id}
    if compress is not None:  # a client that asked can tell this server (which compresses) from an older one
        answer["compress"] = compress
    return answer


def _stop_compressing(connection: Connection, session_id: str) -> None:
    """The socket's compressing attachment to the session ended: a chunk it is still compressing
    (it yields meanwhile) is not sent after the detach's answer, nor after a new stream's start."""
    viewer = connection.compressing.pop(session_id, None)
    if viewer is not None:
        viewer.stop()


@socket_event(protocol.CREATE_TERMINAL)
def create_terminal(connection: Connection, payload: dict) -> dict:
    workspace_id = text_field(payload, "workspaceId", max_len=64)
    cols, rows = _size(payload, 80, 24)
    name = name_field(payload, "name", required=False, max_len=128) or None
    compress = compress_option(payload)
    user = current_user_of(connection)
    workspace, level = workspace_for(user, workspace_id, "operator")
    session = _sessions().create(user, workspace, cols, rows, name, creator_ip=connection.ip)
    # Its first output (the prompt) must not reach the page before this answer, which names the
    # session: held until the answer is queued (the greenlet spawned runs once this handler is done).
    viewer = HeldViewer(request.sid, connection.user_id, connection.attached, username=connection.username)
    attached = _attach(connection, session, level, 0, viewer, compress=compress)
    gevent.spawn(viewer.release)  # its attach event is written with its start (the host's create)
    answer = {"sessionId": session.id, "cols": cols, "rows": rows, "viewerId": attached["viewerId"]}
    if compress is not None:
        answer["compress"] = attached["compress"]
    return answer


@socket_event(protocol.ATTACH_TERMINAL)
def attach_terminal(connection: Connection, payload: dict) -> dict:
    session_id = session_id_of(payload)
    since = payload.get("since")
    if since is not None and (isinstance(since, bool) or not isinstance(since, int)):
        raise bad_request("'since' must be a whole number.")
    # readOnly (optional): watch as a viewer whatever the caller's rights, e.g. an admin reviewing a
    # terminal live; its input and resizes are refused like any viewer's.
    read_only = payload.get("readOnly", False)
    if not isinstance(read_only, bool):
        raise bad_request("'readOnly' must be true or false.")
    # compress (optional): this attachment's output as one deflate stream (aict.realtime.output_compression)
    compress = compress_option(payload)
    row, level = session_for(current_user_of(connection), session_id)
    answer = _attach(connection, _live(row.id), level, since, read_only=read_only, compress=compress)
    detail = {"since": since, "access": answer["access"]}
    if read_only:
        detail["read_only"] = True
    record("attach", username=connection.username, ip=connection.ip, workspace_id=row.workspace_id,
           session_id=row.id, detail=detail)
    return answer


@socket_event(protocol.DETACH_TERMINAL)
def detach_terminal(connection: Connection, payload: dict) -> dict:
    session_id = session_id_of(payload)
    session = _terminals().get(session_id)
    if session_id not in connection.attached or session is None:
        raise not_found("That attached terminal")
    session.detach(request.sid)
    _stop_compressing(connection, session_id)
    connection.attached.discard(session_id)
    row = db.session.get(TerminalSession, session_id)
    record("detach", username=connection.username, ip=connection.ip,
           workspace_id=row.workspace_id if row else None, session_id=session_id)
    return {}


@socket_event(protocol.TERMINAL_INPUT)
def terminal_input(connection: Connection, payload: dict) -> dict:
    session_id = session_id_of(payload)
    data = input_bytes(payload, current_app.config["AICT"].MAX_INPUT_BYTES)
    session = _terminals().get(session_id)
    # Fast path: an attached socket's access is kept current by membership changes.
    access = session.access_of(request.sid) if session is not None else None
    if access is None:
        session_for(current_user_of(connection), session_id, "operator")
        session = _live(session_id)
    elif access != "operator":
        raise AppError("forbidden", "You are watching this terminal; viewers cannot type.")
    session.write(data, wait=True, by=request.sid)  # answered once the host wrote it (or with its error)
    return {}


@socket_event(protocol.TERMINAL_RESIZE)
def terminal_resize(connection: Connection, payload: dict) -> dict:
    session_id = session_id_of(payload)
    cols, rows = _size(payload, None, None)
    session = _terminals().get(session_id)
    if session is None or session.access_of(request.sid) is None:
        session_for(current_user_of(connection), session_id, "operator")
        session = _live(session_id)
    elif session.access_of(request.sid) != "operator":
        raise AppError("forbidden", "Viewers cannot resize the terminal.")
    session.resize(cols, rows, by_key=request.sid)
    return {}


@socket_event(protocol.KILL_TERMINAL)
def kill_terminal(connection: Connection, payload: dict) -> dict:
    row, _ = session_for(current_user_of(connection), session_id_of(payload), "operator")
    _sessions().kill(row.id, by=connection.username, wait=True)
    return {}


@socket_event(protocol.WATCH_TERMINALS)
def watch_terminals(connection: Connection, payload: dict) -> dict:
    """From now on, terminal-process and terminal-command of every terminal of the workspace."""
    workspace_id = text_field(payload, "workspaceId", max_len=64)
    workspace, _ = workspace_for(current_user_of(connection), workspace_id)
    _watchers().watch(request.sid, workspace.id)
    return {"processes": [t.process for t in _terminals().in_workspace(workspace.id)
                          if t.running and t.process is not None]}  # ended ones run nothing


@socket_event(protocol.UNWATCH_TERMINALS)
def unwatch_terminals(connection: Connection, payload: dict) -> dict:
    workspace_id = text_field(payload, "workspaceId", max_len=64)
    _watchers().unwatch(request.sid, workspace_id)
    return {}


@socket_event(protocol.LIST_TERMINALS)
def list_terminals(connection: Connection, payload: dict) -> dict:
    workspace_id = payload.get("workspaceId")
    if workspace_id is not None and not isinstance(workspace_id, str):
        raise bad_request("'workspaceId' must be a string.")
    return {"sessions": _sessions().list_visible(current_user_of(connection), workspace_id)}


def input_fast_path(sessions, throttle, max_input: int):
    """terminal-input from an attached operator socket: no database, no request context. Anything
    unusual (not attached, a viewer, bad data, input the host may refuse) returns None for the full handler."""

    def fast(sid, payload):
        if not isinstance(payload, dict) or not isinstance(payload.get("sessionId"), str):
            return None
        session = sessions.get(payload["sessionId"])
        if session is None or session.access_of(sid) != "operator" or not session.running:
            return None
        try:
            data = input_bytes(payload, max_input)
        except AppError:
            return None  # the full handler answers it
        if not session.takes_at_once(len(data)):
            return None  # the full handler's answer waits for the host's: it may be `throttled`
        if throttle.exceeded(sid):
            return THROTTLED
        session.write(data, by=sid)
        return Later({"ok": True}, session.after_output)  # the ack follows the echo

    return fast


def ack_handler(sessions):
    """terminal-ack, answered with no Flask request context (with FAST_PATHS, inline: transport.inline_events):
    acks are the most frequent event and need neither (a request context cost ~10% of a flood's CPU).
    Malformed acks are ignored, and no answer is needed (an ack id, if sent, gets an empty one)."""

    def on_terminal_ack(sid, payload=None):
        if isinstance(payload, dict):
            session_id, offset = payload.get("sessionId"), payload.get("offset")
            if isinstance(session_id, str) and not isinstance(offset, bool) and isinstance(offset, int):
                session = sessions.get(session_id)
                if session is not None:
                    session.ack(sid, offset)
        return ()

    return on_terminal_ack
