"""SSH backend: a login shell on a remote host through a paramiko channel, driven like a local PTY.

Under gevent's monkey-patching the channel's waits are cooperative: read() blocks only the
session's reader greenlet, and input goes through a bounded queue drained by a writer greenlet.
Flow control needs nothing extra: while the LiveTerminal core stops reading, the channel's window
fills and the remote program blocks on its writes.
"""

from __future__ import annotations

import logging

import gevent
import paramiko

from aict.errors import AppError
from aict.ssh.connect import AddressCheck, Deadline, HostKeyCheck, SshTarget, open_shell, open_transport
from aict.terminals.backend import ExitStatus
from aict.terminals.input_queue import InputQueue

log = logging.getLogger(__name__)

WRITE_SIZE = 32 * 1024
CLOSE_GRACE_SECONDS = 3.0  # after EOF, how long the remote may take to say how it ended
CHANNEL_ERRORS = (EOFError, OSError, paramiko.SSHException)


class SshBackend:
    def __init__(self, target: SshTarget, *, connect_timeout: float, keepalive: int,
                 check_host_key: HostKeyCheck, check_addresses: AddressCheck):
        self.target = target
        self.connect_timeout = connect_timeout
        self.keepalive = keepalive
        self.check_host_key = check_host_key
        self.check_addresses = check_addresses
        self.transport: paramiko.Transport | None = None
        self.channel: paramiko.Channel | None = None
        self._input = InputQueue(self._send_some, chunk_size=WRITE_SIZE)
        self._closer = None

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self, cols: int, rows: int) -> None:
        target, deadline = self.target, Deadline(self.connect_timeout)
        try:
            self.transport = open_transport(target, deadline=deadline, keepalive=self.keepalive,
                                            check_host_key=self.check_host_key,
                                            check_addresses=self.check_addresses)
            try:
                self.channel = open_shell(self.transport, target, cols, rows, deadline)
            except BaseException:
                self.transport.close()
                raise
        except AppError as error:
            log.info("ssh %s@%s:%s not opened: %s: %s", target.username, target.host, target.port, error.code,
                     error.message)
            raise
        self._input.start()

    @property
    def ended(self):
        """Set when the remote reports how the shell ended (exit-status or exit-signal)."""
        return self.channel.status_event if self.channel is not None else None

    def wait(self) -> ExitStatus:
        channel = self.channel
        if not channel.status_event.wait(CLOSE_GRACE_SECONDS):
            channel.close()  # the output ended but the remote never closed: stop waiting for it
        return getattr(channel, "aict_exit", None) or ExitStatus()

    def terminate(self) -> None:
        """Close the channel (sshd hangs up the shell); drop the connection if that does not end it."""
        if self.channel is None or self.channel.closed:
            return
        try:
            self.channel.close()
        except CHANNEL_ERRORS:
            pass
        if self._closer is None:
            self._closer = gevent.spawn_later(CLOSE_GRACE_SECONDS, self._close_transport)

    def close(self) -> None:
        self._input.stop()
        if self._closer is not None:
            self._closer.kill(block=False)
        if self.channel is not None:
            try:
                self.channel.close()
            except CHANNEL_ERRORS:
                pass
        self._close_transport()

    def _close_transport(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # ---- output ---------------------------------------------------------------------------
    def read(self, max_bytes: int) -> bytes:
        try:
            return self.channel.recv(max_bytes)  # b"" at EOF or once the channel is closed
        except CHANNEL_ERRORS:
            return b""

    # ---- input ----------------------------------------------------------------------------
    def input_backlog(self) -> int:
        return len(self._input)

    def write(self, data: bytes, promised: bool = False) -> None:
        self._input.put(data, promised)

    def _send_some(self, data: bytes) -> int:
        try:
            return self.channel.send(data)  # waits (cooperatively) for the remote's window; 0 once closed
        except CHANNEL_ERRORS:
            return 0

    def resize(self, cols: int, rows: int) -> None:
        try:
            self.channel.resize_pty(width=cols, height=rows)
        except CHANNEL_ERRORS:
            pass
