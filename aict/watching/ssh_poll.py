"""Git status of an SSH workspace: a bounded poll over the workspace's own SSH connection rules.

While someone watches, one connection (pinned host key, never a new key accepted, the address
rules: the same checks as its terminals) runs `git status` in the remote user's home directory
every POLL_SECONDS, the output bounded in size and time. A connection that fails is reported in
the status (`error`) and tried again after RETRY_SECONDS. File changes are not polled on SSH
workspaces.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent
import paramiko

from aict.errors import AppError
from aict.ssh.connect import Deadline, open_transport
from aict.watching.porcelain import parse_status

log = logging.getLogger(__name__)

POLL_SECONDS = 3.0
RETRY_SECONDS = 30.0  # after a failed connection (a wrong password must not hammer the server)
COMMAND_SECONDS = 5.0
MAX_OUTPUT = 1024 * 1024
GIT = "git --no-optional-locks status --porcelain=v2 --branch -z 2>/dev/null"
CHANNEL_ERRORS = (EOFError, OSError, paramiko.SSHException, TimeoutError)


@dataclass(frozen=True)
class SshWatchTarget:
    """An SSH workspace to poll. `backend` is an SshBackend never started: its target and checks;
    `context()` gives what those checks need (the app context: audit of a changed host key)."""

    workspace_id: str
    backend: Any
    context: Callable[[], Any]


class SshPoller:
    def __init__(self, target: SshWatchTarget, report: Callable[[dict], None], poll_seconds: float = POLL_SECONDS):
        self.target, self.report, self.poll_seconds = target, report, poll_seconds
        self.transport: paramiko.Transport | None = None
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        self._greenlet.kill(block=False)
        self._close()

    def _run(self) -> None:
        try:
            while True:
                try:
                    self.report(self._status())
                    gevent.sleep(self.poll_seconds)
                except AppError as error:
                    self._close()
                    self.report({"error": {"code": error.code, "message": error.message}})
                    gevent.sleep(RETRY_SECONDS)
        finally:
            self._close()

    def _status(self) -> dict:
        if self.transport is None or not self.transport.is_active():
            self._close()
            backend = self.target.backend
            with self.target.context():
                self.transport = open_transport(backend.target, deadline=Deadline(backend.connect_timeout),
                                                keepalive=backend.keepalive, check_host_key=backend.check_host_key,
                                                check_addresses=backend.check_addresses)
        try:
            with gevent.Timeout(COMMAND_SECONDS, TimeoutError):
                channel = self.transport.open_session(timeout=COMMAND_SECONDS)
                try:
                    channel.exec_command(GIT)
                    output = bytearray()
                    while len(output) <= MAX_OUTPUT:
                        chunk = channel.recv(64 * 1024)
                        if not chunk:
                            break
                        output += chunk
                    code = channel.recv_exit_status() if len(output) <= MAX_OUTPUT else -1
                finally:
                    channel.close()
        except CHANNEL_ERRORS as error:
            self._close()
            raise AppError("ssh_unreachable", f"git status over SSH failed ({type(error).__name__}).") from None
        return parse_status(bytes(output)) if code == 0 else {}

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None
