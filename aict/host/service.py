"""The terminal host's side of the link: every live terminal of the node, served to web processes.

The host runs the session core (aict.terminals: ring, offsets, per-viewer windows, coalescing)
and the services around it (records, audit, recordings). Web processes connect over a Unix socket
(aict.host.wire), authenticate and authorize their users themselves, and ask the host to start,
attach, type into, resize, ack, detach and kill. A viewer here is a socket of a web process
(RelayViewer); its output leaves over that process's link.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import secrets
import socket
from pathlib import Path

import gevent
from flask import Flask

from aict.errors import AppError
from aict.extensions import db
from aict.files.local import files_socket_path
from aict.host import wire
from aict.host.files_gate import FilesGate
from aict.host.listener import PrivateListener
from aict.host.process_watch import ProcessWatch
from aict.models import User, Workspace
from aict.models.base import iso, utcnow
from aict.services.workspace_watch import watch_target
from aict.terminals.backend import ExitStatus, InputBacklogFull
from aict.terminals.live import LiveTerminal
from aict.watching.hub import WatchHub

log = logging.getLogger(__name__)


class RelayViewer:
    """A web process's socket attached to one terminal: its output goes over that process's link.
    Others see it as `viewer_id` (terminal-viewers): never the socket's id, which would let them
    speak for that socket over long-polling."""

    __slots__ = ("key", "user_id", "link", "username", "viewer_id", "since", "read_only")

    def __init__(self, key: str, user_id: str, link: WebLink, username: str | None = None, read_only: bool = False):
        self.key, self.user_id, self.link = key, user_id, link
        self.username = username
        self.read_only = read_only  # a watch asked read-only: a viewer's whatever the user's access becomes
        self.viewer_id = secrets.token_hex(8)
        self.since = iso(utcnow())

    def listed(self, access: str) -> dict:
        return {"id": self.viewer_id, "username": self.username, "access": access, "since": self.since}

    def send_output(self, session_id: str, offset: int, data: bytes) -> None:
        self.link.frames.send(*wire.output(session_id, self.key, offset, data))

    def send_exit(self, session_id: str, status: ExitStatus) -> None:
        self.link.frames.send_message({"ev": "exit", "session": session_id, "key": self.key,
                                       "exitCode": status.exit_code, "signal": status.signal})

    def send_resized(self, session_id: str, cols: int, rows: int) -> None:
        self.link.frames.send_message({"ev": "resized", "session": session_id, "key": self.key,
                                       "cols": cols, "rows": rows})

    def send_revoked(self, session_id: str) -> None:
        self.link.viewers.discard((session_id, self.key))
        self.link.frames.send_message({"ev": "revoked", "session": session_id, "key": self.key})

    def send_detached(self, session_id: str) -> None:
        """An owner or admin detached this socket (DELETE .../viewers/<id>)."""
        self.link.viewers.discard((session_id, self.key))
        self.link.frames.send_message({"ev": "detached", "session": session_id, "key": self.key})

    def room(self) -> int:
        # The web process bounds what each of its sockets holds; here, what its link holds unsent.
        return max(0, wire.HIGH_WATER - self.link.frames.unsent)

    def when_room(self, callback) -> None:
        self.link.frames.when_drained(callback)


def terminal_state(terminal: LiveTerminal, owner_id: str, workspace_id: str, node: str) -> dict:
    status = terminal.exit_status or ExitStatus()
    return {"ev": "term", "id": terminal.id, "owner": owner_id, "workspace": workspace_id, "node": node,
            "status": terminal.status, "cols": terminal.cols, "rows": terminal.rows,
            "exitCode": status.exit_code, "signal": status.signal}


class WebLink:
    """One connected web process."""

    def __init__(self, host: HostService, sock: socket.socket | None, peer: str, frames=None):
        self.host = host
        self.viewers: set[tuple[str, str]] = set()  # (session id, viewer key) attached through this link
        self.watched: set[str] = set()  # workspace ids a socket of this web process watches (watch-terminals)
        if frames is None:  # a web process of this node, on the Unix socket
            frames = wire.FrameLink(sock, self._on_frame, self._on_close, name=f"web link {peer}")
        else:  # a web process of another node, over Redis (aict.host.redis_link)
            frames.on_frame, frames.on_close = self._on_frame, self._on_close
        self.frames = frames

    def _on_close(self) -> None:
        self.host.links.discard(self)
        self.host.processes.forget_link(self)
        left = set()
        self.host.watches.drop_owner(self)
        for session_id, key in list(self.viewers):
            terminal = self.host.terminals.get(session_id)
            if terminal is not None and terminal.detach(key):
                left.add(terminal)
        self.viewers.clear()
        self.watched.clear()
        for terminal in left:
            self.host.announce_viewers(terminal)

    def _on_frame(self, kind: int, payload: memoryview) -> None:
        terminals = self.host.terminals
        if kind == wire.ACK:
            session_id, key, offset = wire.parse_ack(payload)
            terminal = terminals.get(session_id)
            if terminal is not None:
                terminal.ack(key, offset)
        elif kind == wire.INPUT:
            self._input(*wire.parse_input(payload))
        elif kind == wire.MESSAGE:
            body = json.loads(bytes(payload))
            if "rid" in body:  # a request: answered in a greenlet of its own (it may wait)
                gevent.spawn(self._answer, body)
            else:
                self.host.notice(self, body)
        else:
            raise wire.LinkClosed(f"unknown frame kind {kind}")

    def _input(self, seq: int, session_id: str, data: bytes) -> None:
        terminal = self.host.terminals.get(session_id)
        error = None
        if terminal is None or not terminal.running:
            error = {"code": "conflict", "message": "The terminal has exited."}
        else:
            try:
                terminal.write(data, promised=bool(seq & wire.PROMISED))
            except InputBacklogFull:
                error = {"code": "throttled", "message": "The terminal is not reading its input; wait and try again."}
            except AppError as failure:
                error = failure.body()
        if error is not None:
            self.frames.send_message({"ev": "input", "seq": seq, "session": session_id, "error": error,
                                      "backlog": terminal.input_backlog() if terminal is not None else 0})
        else:  # answered behind the echo: the page's keystroke ack and its echo leave together
            terminal.after_output(lambda: self.frames.send_message(
                {"ev": "input", "seq": seq, "session": session_id, "backlog": terminal.input_backlog()}))

    def _answer(self, body: dict) -> None:
        reply: dict = {"rid": body["rid"]}
        try:
            reply["result"] = self.host.request(self, body)
        except AppError as error:
            reply["error"] = {**error.body(), "status": error.status}
        except Exception:
            log.exception("host request %s failed", body.get("op"))
            reply["error"] = {"code": "error", "message": "The terminal host failed to do that.", "status": 500}
        self.frames.send_message(reply)


class HostService:
    """The host: its listening socket, the links of web processes, and what they may ask."""

    def __init__(self, app: Flask):
        self.app = app
        self.state = app.extensions["aict"]
        self.settings = self.state.settings
        self.sessions = self.state.sessions
        self.terminals = self.state.terminals
        self.node = self.settings.node
        self.links: set[WebLink] = set()
        self._allowed_uids = allowed_peer_uids(self.settings)
        self._listener: PrivateListener | None = None
        self.sessions.on_state(self.broadcast_state)
        self.processes = ProcessWatch(self, self.settings.PROCESS_SAMPLE_SECONDS)
        self.sessions.history.on_finished = self._command_finished  # command history (issue 18) tells of ends
        self.remote_links = None  # HostSideLinks, with REDIS_URL: web processes of other nodes reach this host
        # Watched workspaces: one watcher each, whoever and however many watch.
        self.watches = WatchHub(_deliver_watch_event, python=self.settings.WATCH_PYTHON)
        self.files_gate: FilesGate | None = None

    def listen_on_redis(self, redis) -> None:
        """Let web processes of other nodes reach this host through Redis, and hold this node's lease."""
        from aict.host.redis_link import HostSideLinks

        def accept(frames) -> None:
            self.links.add(WebLink(self, None, peer="redis", frames=frames))

        self.remote_links = HostSideLinks(redis, self.settings.REDIS_PREFIX, self.node,
                                          self.settings.NODE_LEASE_SECONDS, accept)
        self.remote_links.start()

    # ---- listening ----------------------------------------------------------------------------
    def listen(self) -> str:
        path = Path(self.settings.terminal_host_socket)
        web_gid = self._web_group()
        self._listener = PrivateListener(path, web_gid, self._allowed_uids, "terminal host")
        self._listener.serve(self._linked)
        self.processes.start()
        # File transfers of local workspaces, on a socket of their own (aict/host/files_gate.py).
        self.files_gate = FilesGate(self.app, PrivateListener(files_socket_path(str(path)), web_gid,
                                                              self._allowed_uids, "files gate"))
        if self.settings.REDIS_URL:  # other nodes' web processes reach this host through Redis
            import redis

            self.listen_on_redis(redis.Redis.from_url(self.settings.REDIS_URL))
        log.info("terminal host of node %s listening on %s", self.node, path)
        return str(path)

    def _web_group(self) -> int | None:
        account = self.settings.WEB_ACCOUNT
        if not account:
            return None
        return pwd.getpwnam(account).pw_gid

    def _linked(self, sock: socket.socket, uid: int) -> None:
        self.links.add(WebLink(self, sock, peer=f"uid {uid}"))

    def hand_over(self, argv: list[str]) -> None:
        """Re-execute with `argv`, keeping the local terminals (aict.host.handoff)."""
        from aict.host.handoff import hand_over

        hand_over(self, argv)

    def resume(self, path: str) -> list[str]:
        """Take over the terminals the previous image handed over in `path`; their ids."""
        from aict.host.handoff import resume

        return resume(self, Path(path))

    def close(self) -> None:
        self.processes.stop()
        if self.remote_links is not None:
            self.remote_links.stop()
        if self.files_gate is not None:
            self.files_gate.close()
        if self._listener is not None:
            self._listener.close()
        for link in list(self.links):
            link.frames.close()
        self.watches.close()

    # ---- state to every web process -----------------------------------------------------------
    def broadcast_state(self, terminal: LiveTerminal, owner_id: str, workspace_id: str) -> None:
        body = terminal_state(terminal, owner_id, workspace_id, self.node)
        for link in list(self.links):
            link.frames.send_message(body)

    def broadcast_gone(self, session_ids: list[str]) -> None:
        for link in list(self.links):
            link.frames.send_message({"ev": "gone", "ids": session_ids})

    def notice(self, link: WebLink, body: dict) -> None:
        """Messages that need no answer: detach, watch and unwatch (a workspace's terminals),
        unwatch_workspace, typist (who sends the input that follows), files_shown (a Files panel
        listed a folder of an SSH workspace)."""
        op = body.get("op")
        if op == "detach":
            terminal = self.terminals.get(body["session"])
            link.viewers.discard((body["session"], body["key"]))
            if terminal is not None and terminal.detach(body["key"]):
                self.announce_viewers(terminal)
        elif op == "watch":
            link.watched.add(body["workspace"])
        elif op == "unwatch":
            link.watched.discard(body["workspace"])
        elif op == "unwatch_workspace":
            self.watches.unwatch(body["workspace"], link, body["key"])
        elif op == "typist":  # the input that follows is this attachment's: its user's commands
            terminal = self.terminals.get(body["session"])
            for viewer, _access in terminal.viewers() if terminal is not None else ():
                if isinstance(viewer, RelayViewer) and viewer.link is link and viewer.key == body["key"]:
                    self.sessions.history.typed_by(terminal.id, viewer.username)
        elif op == "files_shown":
            self.watches.shown(str(body.get("workspace")), str(body.get("path")))

    # ---- who is watching (terminal-viewers) ---------------------------------------------------
    @staticmethod
    def viewers_of(terminal: LiveTerminal) -> list[dict]:
        return [viewer.listed(access) for viewer, access in terminal.viewers() if isinstance(viewer, RelayViewer)]

    def announce_viewers(self, terminal: LiveTerminal) -> None:
        """Tell every web process with a socket attached to the terminal who is attached now."""
        links = {viewer.link for viewer, _ in terminal.viewers() if isinstance(viewer, RelayViewer)}
        if links:
            body = {"ev": "viewers", "session": terminal.id, "viewers": self.viewers_of(terminal)}
            for link in links:
                link.frames.send_message(body)

    # ---- commands (terminal-command) ----------------------------------------------------------
    def _command_finished(self, entry) -> None:
        duration = entry.seconds  # by the shell's clock, where it sends it: the host reads marks late when busy
        if duration is None and entry.at and entry.finished_at:
            duration = (entry.finished_at - entry.at).total_seconds()
        self.command_ended(entry.session_id, entry.command, entry.exit_code, duration)

    def command_ended(self, session_id: str, command: str, exit_code: int | None, duration: float | None) -> None:
        """A command of a terminal finished: tell the web processes with a socket attached to the
        terminal or watching its workspace (their pages notify the user of commands in the background)."""
        if self.terminals.get(session_id) is None:
            return
        links = self.processes.interest().get(session_id)
        if links:
            body = {"ev": "command", "session": session_id,
                    "command": {"sessionId": session_id, "command": command, "exit_code": exit_code,
                                "duration": None if duration is None else round(duration, 3)}}
            for link in links:
                link.frames.send_message(body)

    # ---- requests -----------------------------------------------------------------------------
    def request(self, link: WebLink, body: dict):
        op = body.get("op")
        handler = getattr(self, f"_op_{op}", None)
        if handler is None:
            raise AppError("bad_request", f"Unknown host request {op!r}.")
        return handler(link, body)

    def _op_hello(self, link: WebLink, body: dict) -> dict:
        return {"node": self.node, "pid": os.getpid(), "terminals": [
            terminal_state(t, *self.terminals.placement_of(t.id), self.node) for t in self.terminals.all()]}

    def _op_create(self, link: WebLink, body: dict) -> dict:
        with self.app.app_context():
            user = db.session.get(User, body["user"])
            workspace = db.session.get(Workspace, body["workspace"])
            if user is None or workspace is None:
                raise AppError("not_found", "That workspace does not exist or is not visible to you.")
            terminal = self.sessions.create(user, workspace, body["cols"], body["rows"], body.get("name"),
                                            creator_ip=body.get("ip"))
            return {"id": terminal.id}

    def _op_attach(self, link: WebLink, body: dict) -> dict:
        terminal = self._terminal(body["session"])
        viewer = RelayViewer(body["key"], body["user"], link, body.get("username"), bool(body.get("readOnly")))
        link.viewers.add((terminal.id, viewer.key))
        result = terminal.attach(viewer, body["access"], body.get("since"))
        gevent.spawn(self.announce_viewers, terminal)  # after this answer: the page learns its own viewer id first
        return {"status": result.status, "cols": result.cols, "rows": result.rows, "offset": result.offset,
                "replayFrom": result.replay_from, "viewerId": viewer.viewer_id}

    def _op_viewers(self, link: WebLink, body: dict) -> list[dict]:
        terminal = self.terminals.get(body["session"])
        return self.viewers_of(terminal) if terminal is not None else []

    def _op_detach_viewer(self, link: WebLink, body: dict) -> dict:
        """Detach the attachment another user knows as `viewer`; what it was (for the audit)."""
        terminal = self.terminals.get(body["session"])
        for viewer, access in terminal.viewers() if terminal is not None else ():
            if isinstance(viewer, RelayViewer) and viewer.viewer_id == body["viewer"]:
                terminal.detach(viewer.key)
                viewer.send_detached(terminal.id)
                self.announce_viewers(terminal)
                return {"user": viewer.user_id, "username": viewer.username, "access": access}
        raise AppError("not_found", "That viewer is not attached to this terminal.")

    def _op_processes(self, link: WebLink, body: dict) -> list[dict]:
        terminal = self.terminals.get(body["session"])
        return self.processes.processes(terminal) if terminal is not None else []

    def _op_resize(self, link: WebLink, body: dict) -> dict:
        self._terminal(body["session"]).resize(body["cols"], body["rows"], by_key=body.get("key"))
        return {}

    def _op_kill(self, link: WebLink, body: dict) -> dict:
        with self.app.app_context():
            self.sessions.kill(body["session"], by=body.get("by"), wait=bool(body.get("wait")))
        return {}

    def _op_kill_workspace(self, link: WebLink, body: dict) -> dict:
        """The workspace was deleted: its terminals end, each session_end saying by whom and why."""
        with self.app.app_context():
            for terminal in self.terminals.in_workspace(body["workspace"]):
                self.sessions.kill(terminal.id, by=body.get("by"), reason="workspace_deleted")
        return {}

    def _op_set_access(self, link: WebLink, body: dict) -> dict:
        user_id, workspace_id, access = body["user"], body["workspace"], body.get("access")
        detached = self.terminals.set_access(user_id, workspace_id, access)
        for terminal in self.terminals.in_workspace(workspace_id):
            if terminal.viewer_count or any(sid == terminal.id for sid, _ in detached):
                self.announce_viewers(terminal)  # who left, or whose access changed
        if access is not None:
            for other in list(self.links):
                other.frames.send_message({"ev": "access", "user": user_id, "workspace": workspace_id,
                                           "access": access})
        return {"detached": len(detached)}

    def _op_watch_workspace(self, link: WebLink, body: dict) -> dict:
        """A socket of `link` (authorized by its web process) watches a workspace: its status now."""
        with self.app.app_context():
            workspace = db.session.get(Workspace, body["workspace"])
            if workspace is None:
                raise AppError("not_found", "That workspace does not exist or is not visible to you.")
            target = watch_target(self.app, workspace, self.settings, body.get("username"))
        return self.watches.watch(target, link, body["key"])

    def _op_flush_recording(self, link: WebLink, body: dict) -> dict:
        self.sessions.recordings.flush(body["session"])
        return {}

    def _op_flush_history(self, link: WebLink, body: dict) -> dict:
        self.sessions.flush_history()
        return {}

    def _op_stats(self, link: WebLink, body: dict) -> dict:
        terminals = self.terminals.all()
        return {"node": self.node, "running": sum(1 for t in terminals if t.running), "held": len(terminals),
                "viewers": sum(t.viewer_count for t in terminals),
                "ringBytes": sum(t.memory_bytes() for t in terminals),
                "outputBytes": sum(t.ring.end for t in terminals), "links": len(self.links),
                "processWatch": self.processes.stats(),
                **self.watches.stats()}

    def sweep(self) -> None:
        """End idle terminals, forget ended ones past their retention, and tell the web processes."""
        forgotten = self.terminals.sweep()
        if forgotten:
            self.broadcast_gone(forgotten)

    def end_lost_nodes(self) -> None:
        """Record as ended the terminals of nodes whose lease ran out (their host died): never this
        node's, and only nodes that held a lease in Redis once."""
        links = self.remote_links
        if links is None:
            return
        from aict.audit.events import record
        from aict.host.redis_link import alive_key, nodes_key
        from aict.models import TerminalSession
        from aict.models.base import utcnow

        members = links.redis.smembers(nodes_key(links.prefix))
        known = {n.decode() if isinstance(n, bytes) else n for n in members}
        with self.app.app_context():
            columns = TerminalSession.id, TerminalSession.node, TerminalSession.workspace_id
            running = db.session.execute(db.select(*columns).where(TerminalSession.status == "running",
                                                TerminalSession.node != self.node)).all()
            lost = {node for _, node, _ in running
                    if node in known and not links.redis.exists(alive_key(links.prefix, node))}
            for session_id, node, workspace_id in running:
                if node not in lost:
                    continue
                ended = db.session.execute(db.update(TerminalSession)
                                           .where(TerminalSession.id == session_id, TerminalSession.status == "running")
                                           .values(status="exited", ended_at=utcnow()))
                if ended.rowcount:  # this host, not another node's, ended it
                    record("session_end", workspace_id=workspace_id, session_id=session_id,
                           detail={"reason": "node_lost", "node": node}, commit=False)
            db.session.commit()
            if lost:
                log.warning("node(s) %s lost their lease: their running terminals are recorded as ended", sorted(lost))

    def _terminal(self, session_id: str) -> LiveTerminal:
        terminal = self.terminals.get(session_id)
        if terminal is None:
            raise AppError("conflict", "That terminal has ended and its output is no longer held; "
                                       "its recording has it.")
        return terminal


def _deliver_watch_event(link: WebLink, workspace_id: str, event: str, payload: dict) -> None:
    """A watched workspace's event, once to a web process with watching sockets (it fans it out)."""
    link.frames.send_message({"ev": "watch", "workspace": workspace_id, "event": event, "payload": payload})


def allowed_peer_uids(settings) -> set[int]:
    """The accounts whose processes may connect: the host's own, and WEB_ACCOUNT's when set."""
    uids = {os.getuid()}
    if settings.WEB_ACCOUNT:
        uids.add(pwd.getpwnam(settings.WEB_ACCOUNT).pw_uid)
    return uids
