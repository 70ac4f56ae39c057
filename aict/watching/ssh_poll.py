"""Git status and file changes of an SSH workspace: a bounded poll over the workspace's own SSH
connection rules.

While someone watches, one connection (pinned host key, never a new key accepted, the address
rules: the same checks as its terminals) serves every watcher of the workspace. Every
`poll_seconds` it lists the remote user's home directory over SFTP, bounded in depth, folders and
entries, afresh where something may have changed and the rest in turns, every folder at least every
SWEEP_SECONDS (remote_listing.py); the folders Files panels showed lately (`show`) are listed at
every poll. What changed since the last listing is one batch of file-change items. `git status`
runs over an exec channel in the same directory when the listing changed (the root's .git
included), at the poll after that too (SFTP's times are whole seconds: a second change within the
second the listing saw moves nothing), and at least every GIT_QUIET_SECONDS otherwise (a change
deeper than the listing sees), its output bounded in size and time. A connection that fails is
reported in the status (`error`) and tried again after RETRY_SECONDS. A server that refuses SFTP gets git
status alone.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent
import paramiko
from gevent.event import Event

from aict.errors import AppError
from aict.ssh.connect import Deadline, open_transport
from aict.watching import remote_listing
from aict.watching.porcelain import parse_status
from aict.watching.remote_listing import Listing, NotListed, list_tree

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0  # SSH_WATCH_POLL_SECONDS
GIT_QUIET_SECONDS = 15.0  # git status at least this often while the listing shows no change
SWEEP_SECONDS = 30.0  # every folder of the listing is listed afresh at least this often
HOT_FOLDERS = 8  # folders shown in Files panels lately, listed at every poll
RETRY_SECONDS = 30.0  # after a failed connection (a wrong password must not hammer the server)
COMMAND_SECONDS = 5.0
MAX_OUTPUT = 1024 * 1024
GIT = "git --no-optional-locks status --porcelain=v2 --branch -z 2>/dev/null"
CHANNEL_ERRORS = (EOFError, OSError, paramiko.SSHException, TimeoutError)


@dataclass(frozen=True)
class SshWatchTarget:
    """An SSH workspace to poll. `backend` is an SshBackend never started: its target and checks;
    `context()` gives what those checks need (the app context: audit of a changed host key).
    `max_directories` 0: no file changes, git status alone."""

    workspace_id: str
    backend: Any
    context: Callable[[], Any]
    poll_seconds: float = POLL_SECONDS
    max_directories: int = remote_listing.MAX_DIRECTORIES


class SshPoller:
    def __init__(self, target: SshWatchTarget, report: Callable[[dict], None],
                 changes: Callable[[list[dict]], None] = lambda items: None):
        self.target, self.report, self.changes = target, report, changes
        self.transport: paramiko.Transport | None = None
        self.sftp: paramiko.SFTPClient | None = None
        self.listing: Listing | None = None  # the last one, kept across reconnections
        self.settling = False  # the last poll saw a change: git status again at this one
        self.git_due = 0.0
        self.polls = 0
        self.hot: list[str] = []  # most recently shown last
        self.failing = False  # the last connection failed: waiting RETRY_SECONDS to try again
        self._retry_now = Event()
        self._greenlet = gevent.spawn(self._run)

    def retarget(self, target: SshWatchTarget) -> None:
        """Go on with `target` (the workspace's settings read again: a host key trusted since, new
        credentials); if connecting failed, try again now rather than after RETRY_SECONDS."""
        self.target = target
        if self.failing:
            self._retry_now.set()

    def stop(self) -> None:
        """End the poll; its own greenlet closes the connection (never another one: paramiko's
        channel locks must not be closed under a greenlet that waits on them)."""
        self._greenlet.kill(block=False)

    def show(self, folder: str) -> None:
        """A Files panel listed `folder` (relative to the home directory): list it at every poll."""
        if folder in self.hot:
            self.hot.remove(folder)
        self.hot.append(folder)
        del self.hot[:-HOT_FOLDERS]

    def _run(self) -> None:
        try:
            while True:
                try:
                    self._poll()
                    self.failing = False
                    gevent.sleep(self.target.poll_seconds)
                except AppError as error:
                    self._close()
                    self.report({"error": {"code": error.code, "message": error.message}})
                    self._wait_to_retry()
                except Exception:  # a watch must never end by itself: said, and tried again
                    log.exception("watching SSH workspace %s failed", self.target.workspace_id)
                    self._close()
                    self.report({"error": {"code": "watch_unavailable",
                                           "message": "Watching this workspace failed; trying again."}})
                    self._wait_to_retry()
        finally:
            self._close()

    def _wait_to_retry(self) -> None:
        # cleared once awake, not before: new settings given while this attempt was failing count
        self.failing = True
        self._retry_now.wait(RETRY_SECONDS)
        self._retry_now.clear()

    def _poll(self) -> None:
        """List (a change made once the watch is answered is then always seen), then git status if due."""
        if self.transport is None or not self.transport.is_active():
            self._connect()
        changed = self._look()
        self.polls += 1
        # After a change, once more: SFTP's times are whole seconds, and git may have moved .git again
        # within the second the listing saw (a branch made right after a commit did, unseen).
        if changed or self.settling or time.monotonic() >= self.git_due:
            self.report(self._status())
            self.git_due = time.monotonic() + GIT_QUIET_SECONDS
        self.settling = changed

    def _connect(self) -> None:
        self._close()
        self.git_due = 0.0  # a status read again at once: an error reported before is replaced
        backend = self.target.backend
        with self.target.context():
            self.transport = open_transport(backend.target, deadline=Deadline(backend.connect_timeout),
                                            keepalive=backend.keepalive, check_host_key=backend.check_host_key,
                                            check_addresses=backend.check_addresses)
        if self.target.max_directories <= 0:
            return
        try:
            with gevent.Timeout(COMMAND_SECONDS, TimeoutError):
                self.sftp = paramiko.SFTPClient.from_transport(self.transport)
            self.sftp.get_channel().settimeout(COMMAND_SECONDS)
        except TimeoutError:
            raise AppError("ssh_unreachable", "The SSH server did not open a file session in time.") from None
        except CHANNEL_ERRORS as error:
            self.sftp = None
            log.info("watching SSH workspace %s: no SFTP session (%s); git status alone",
                     self.target.workspace_id, type(error).__name__)

    def _look(self) -> bool:
        """List the workspace, report its file changes; whether anything changed (the first time, and
        without SFTP: yes, git status runs at every poll)."""
        if self.sftp is None:
            return True
        try:  # each request waits at most COMMAND_SECONDS (the channel's timeout), the whole no limit
            listing = list_tree(self._list_folder, self.listing, poll=self.polls, hot=self.hot,
                                sweep=self._sweep(), max_directories=self.target.max_directories)
        except (*CHANNEL_ERRORS, paramiko.SFTPError) as error:
            raise AppError("ssh_unreachable", f"Listing the files over SSH failed ({type(error).__name__}).") from None
        before, self.listing = self.listing, listing
        if before is None:
            return True
        items = remote_listing.differences(before, listing)
        if items:
            self.changes(items)
        return bool(items) or remote_listing.git_moved(before, listing)

    def _sweep(self) -> int:
        """Folders listed afresh in turns at this poll: each at least every SWEEP_SECONDS."""
        if self.listing is None:
            return 0
        return math.ceil(len(self.listing.folders) * self.target.poll_seconds / SWEEP_SECONDS)

    def _list_folder(self, path: str) -> list:
        try:
            return self.sftp.listdir_attr(path)
        except (TimeoutError, ConnectionError):
            raise  # the connection, not the folder
        except OSError as error:  # the server's answer for this folder (gone, permission denied)
            raise NotListed(str(error)) from None

    def _status(self) -> dict:
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
        if self.sftp is not None:
            try:
                self.sftp.close()
            except CHANNEL_ERRORS:
                pass
            self.sftp = None
        if self.transport is not None:
            self.transport.close()
            self.transport = None
