"""Restarting the terminal host without ending its local terminals.

SIGHUP (`systemctl reload aict-host`, or `kill -HUP` of the host's pid) makes the host re-execute itself
(the new code, the same process id): its shells stay its children, so their exit statuses are still
reaped here, and each one's PTY master crosses the exec as an inherited descriptor. What lives in
memory (each ring, its offsets, where the recording is) goes through a file of the instance folder
(0600, read once and removed). Web processes see the link drop and reconnect; their pages re-attach
from the offsets they have, so nothing is lost or shown twice.

Chosen over handing descriptors to a second host over SCM_RIGHTS: the shells would be re-parented
to init, and their exit codes lost. SSH connections cannot cross an exec (paramiko's state lives in
this process): those terminals end, with a line saying why, before the exec.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import sys
from pathlib import Path

import gevent

from aict.host.service import HostService
from aict.terminals.live import LiveTerminal
from aict.terminals.local import LocalPtyBackend

log = logging.getLogger(__name__)
HOLD = "handoff"
SSH_NOTE = b"\r\n[aict: the terminal host restarted; SSH connections cannot be kept across a restart]\r\n"


def state_path(host: HostService) -> Path:
    return Path(host.settings.INSTANCE_DIR) / "host-handoff.json"


def hand_over(host: HostService, argv: list[str]) -> None:
    """Save every local terminal and re-execute the host with `argv` plus `--resume <file>`; never returns
    (unless the exec fails, which is logged and raised)."""
    sessions, terminals = host.sessions, host.terminals
    host.close()  # no new requests: web processes reconnect to the new image
    local, remote = [], []
    for terminal in terminals.all():
        if terminal.running:
            (local if isinstance(terminal.backend, LocalPtyBackend) else remote).append(terminal)
    for terminal in local:
        terminal.hold_reading(HOLD)  # what the shells write meanwhile waits in their PTYs
    for terminal in remote:
        terminal.announce(SSH_NOTE)  # the recording and any later replay say why it ended

    def end(terminal: LiveTerminal) -> None:
        with host.app.app_context():
            sessions.kill(terminal.id, by=None, wait=True)  # its end recorded and audited first

    gevent.joinall([gevent.spawn(end, terminal) for terminal in remote])
    sessions.recordings.flush()
    sessions.history.flush(final=True)  # a command under way is stored: the new image updates its row when it ends
    # From here on nothing yields: no reader greenlet can take bytes the snapshot would miss.
    saved = [_snapshot(host, terminal) for terminal in local if terminal.running]
    path = state_path(host)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"pid": os.getpid(), "terminals": saved}, out)
    log.info("terminal host re-executing with %d local terminal(s) kept, %d SSH terminal(s) ended",
             len(saved), len(remote))
    for handler in logging.getLogger().handlers:
        handler.flush()
    # exec resets the handlers: until the new image has its own, a SIGHUP (a second reload) or a
    # SIGTERM would kill it outright, and with it every terminal. Blocked, they wait for the new
    # image (the mask survives exec), which unblocks them once it handles them (HANDLED_SIGNALS).
    signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
    try:
        os.execv(sys.executable, [sys.executable, *argv, "--resume", str(path)])
    except BaseException:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED_SIGNALS)
        raise


HANDLED_SIGNALS = {signal.SIGHUP, signal.SIGTERM, signal.SIGINT}


def _snapshot(host: HostService, terminal: LiveTerminal) -> dict:
    backend: LocalPtyBackend = terminal.backend
    owner_id, workspace_id = host.terminals.placement_of(terminal.id)
    os.set_inheritable(backend.fd, True)
    recorder = host.sessions.recordings.recorders.get(terminal.id)
    recording = recorder.handover() if recorder is not None else None
    ring = terminal.ring
    return {"id": terminal.id, "owner": owner_id, "workspace": workspace_id, "cols": terminal.cols,
            "rows": terminal.rows, "fd": backend.fd, "pid": backend.proc.pid, "argv": backend.argv,
            "cwd": backend.cwd, "ringStart": ring.start,
            "ring": base64.b64encode(ring.read(ring.start, ring.end)).decode(), "recording": recording,
            "history": host.sessions.history.handover(terminal.id)}


def resume(host: HostService, path: Path) -> list[str]:
    """Take over the terminals the previous image saved in `path`; their ids."""
    try:
        state = json.loads(path.read_text())
    finally:
        path.unlink(missing_ok=True)
    if state.get("pid") != os.getpid():  # a file left by another process: its descriptors are not ours
        log.warning("ignoring %s: written by pid %s, not this process", path, state.get("pid"))
        return []
    sessions, terminals = host.sessions, host.terminals
    kept = []
    for entry in state["terminals"]:
        try:
            backend = LocalPtyBackend.adopt(entry["argv"], entry["cwd"], entry["fd"], entry["pid"])
        except OSError:
            log.exception("session %s: could not take over its terminal", entry["id"])
            continue
        terminal = LiveTerminal(entry["id"], backend, cols=entry["cols"], rows=entry["rows"], limits=terminals.limits)
        terminal.ring.restore(entry["ringStart"], base64.b64decode(entry["ring"]))
        recording = entry.get("recording")
        if recording is not None:
            sessions.recordings.attach(terminal, resumed=recording)
        history = entry.get("history")
        if history is not None:  # its shell's nonce, a mark half read, the command under way
            sessions.history.attach(terminal, username=history["username"], workspace_id=entry["workspace"],
                                    nonce=history["nonce"], resumed=history)
        sessions.adopt(terminal, owner_id=entry["owner"], workspace_id=entry["workspace"])
        kept.append(terminal.id)
    log.info("terminal host took over %d local terminal(s) from its previous image", len(kept))
    return kept
