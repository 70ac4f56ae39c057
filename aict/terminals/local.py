"""Local PTY backend: a login shell in its own session, read and written without blocking the loop."""

from __future__ import annotations

import errno
import fcntl
import os
import pty
import pwd
import signal
import struct
import termios
from collections.abc import Callable

import gevent
from gevent.event import Event
from gevent.hub import get_hub
from gevent.socket import wait_write
from gevent.timeout import Timeout

from aict.errors import AppError
from aict.terminals.accounts import ShellAccount, ShellAccountError, needs_switch, setpriv_prefix, tty_group
from aict.terminals.backend import ExitStatus
from aict.terminals.input_queue import InputQueue
from aict.terminals.processes import TreeSampler
from aict.terminals.short_sleep import ShortSleeper
from aict.terminals.spawn import ShellProcess

KILL_GRACE_SECONDS = 3.0
DRAIN_AFTER_EXIT_SECONDS = 0.2  # output the kernel still moves to the master after the shell died
WRITE_SIZE = 64 * 1024
# A stream's reader that has caught up pauses before it waits on the PTY again. The kernel holds
# only ~12 KB between a program and its PTY's reader (4 KiB of line discipline, ~8 KiB of flip
# buffer): at ~100 MB/s that fills in ~120 µs. A reader woken by every byte pays a wake-up, a poll
# and a read per few KiB, on the same two cores the program needs; one that pauses longer than the
# fill time blocks the program. The pause is a timerfd: the loop's own timers last at least 1 ms,
# and that length cost 15-20% of a stream's MB/s on an AMD EPYC (paired runs: docs/performance.md).
# Echoes are never paused.
STREAM_BURST_BYTES = 2048  # read since the last wait: a stream, never a keystroke's echo
STREAM_PAUSE_SECONDS = 0.0001
# Only these pass from the server's environment to a shell: never its secrets.
INHERITED_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR")
LOCALE_ENV = ("LANG", "LANGUAGE", "TZ")
TTY_MODE = 0o620  # the owner reads and writes its terminal; group tty may write to it (write, wall)


def shell_environment(cwd: str) -> dict[str, str]:
    """A shell of the server's own account with its own HOME (a backend made without an account)."""
    account = pwd.getpwuid(os.getuid())
    env = {k: v for k, v in os.environ.items() if k in INHERITED_ENV or k.startswith("LC_")}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.setdefault("LANG", "C.UTF-8")
    env.update(HOME=account.pw_dir, USER=account.pw_name, LOGNAME=account.pw_name,
               SHELL=account.pw_shell or "/bin/sh", TERM="xterm-256color", COLORTERM="truecolor",
               PWD=cwd)
    return env


def locale_environment() -> dict[str, str]:
    """What a shell takes from the server's environment: its locale and time zone, nothing else."""
    return {k: v for k, v in os.environ.items() if k in LOCALE_ENV or k.startswith("LC_")}


def set_window_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class _ProcessEnded(Exception):
    """Thrown into a reader waiting on the PTY when the process is reaped."""


class LocalPtyBackend:
    """A shell on a PTY. With an `account` other than the server's, it runs as that account (uid,
    gid, groups; its terminal is its own); `prepare` runs first (the account's home and directory).
    `shell_nonce`: the nonce its shell's integration marks carry (aict.terminals.integration), if any."""

    def __init__(self, argv: list[str], cwd: str, env: dict[str, str] | None = None,
                 account: ShellAccount | None = None, prepare: Callable[[], None] | None = None,
                 shell_nonce: str | None = None):
        self.argv = argv
        self.shell_nonce = shell_nonce
        self.cwd = cwd
        self.env = env if env is not None else shell_environment(cwd)
        self.account = account
        self._prepare = prepare
        self.fd = -1
        self.proc: ShellProcess | None = None
        self._exited = Event()
        self._read_watcher = None
        self._burst = 0  # bytes read since the reader last waited
        self._pause = ShortSleeper()
        self._input = InputQueue(self._write_some, self._wait_writable, WRITE_SIZE)

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self, cols: int, rows: int) -> None:
        if getattr(self, "_adopted", False):  # running already: watch it from here on
            self._read_watcher = get_hub().loop.io(self.fd, 1)
            self._input.start()
            return
        if not os.path.isdir(self.cwd):
            raise AppError("bad_request", f"The workspace directory {self.cwd} does not exist.")
        prefix = self._drop_privileges()
        master, slave = pty.openpty()
        try:
            set_window_size(slave, cols, rows)
            if prefix:  # the terminal is the account's, as login(1) and sshd make it
                gid = tty_group()
                os.fchown(slave, self.account.uid, self.account.gid if gid is None else gid)
                os.fchmod(slave, TTY_MODE)
            self.proc = ShellProcess(self.argv, self.cwd, self.env, os.ttyname(slave), on_exit=self._process_ended,
                                     prefix=prefix)
        except OSError as exc:
            os.close(master)
            raise AppError("bad_request", f"The shell could not be started: {exc.strerror}.") from exc
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        fcntl.fcntl(master, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
        self.fd = master
        self._read_watcher = get_hub().loop.io(master, 1)
        self._input.start()

    @classmethod
    def adopt(cls, argv: list[str], cwd: str, fd: int, pid: int) -> LocalPtyBackend:
        """The backend of a shell handed over by the host that ran it before (aict.host.handoff):
        its PTY master `fd` and its process `pid`, both inherited across the host's exec."""
        backend = cls(argv, cwd, env={})
        backend.fd = fd
        os.set_blocking(fd, False)
        fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
        backend._adopted = True
        backend.proc = ShellProcess.adopt(pid, backend._process_ended)
        return backend

    def _drop_privileges(self) -> list[str]:
        """Prepare the account's directories; the command prefix that switches to it ([] when the
        server's own account runs the shell)."""
        try:
            if self._prepare is not None:
                self._prepare()
            if self.account is None or not needs_switch(self.account):
                return []
            return setpriv_prefix(self.account)
        except ShellAccountError as exc:
            raise AppError("no_shell_account", str(exc)) from None
        except OSError as exc:
            raise AppError("bad_request", f"The shell's directories could not be prepared for the account "
                                          f"{self.account.name if self.account else '?'}: {exc}.") from exc

    def _process_ended(self) -> None:
        # Called by the child watcher, in the hub: no greenlet per terminal waits for its process.
        self._exited.set()
        if self._read_watcher is not None:  # wake a reader blocked on an fd that may never report EOF
            get_hub().cancel_wait(self._read_watcher, _ProcessEnded())

    @property
    def ended(self) -> Event:
        return self._exited

    def wait(self) -> ExitStatus:
        self._exited.wait()
        return ExitStatus.from_returncode(self.proc.returncode)

    def terminate(self) -> None:
        if self.proc is None or self._exited.is_set():
            return
        self._signal_group(signal.SIGHUP)
        gevent.spawn_later(KILL_GRACE_SECONDS, self._kill_if_alive)

    def _kill_if_alive(self) -> None:
        if not self._exited.is_set():
            self._signal_group(signal.SIGKILL)

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def process_sampler(self) -> TreeSampler | None:
        """What looks at the shell's processes (aict.terminals.processes), while it runs."""
        if self.proc is None or self.fd < 0 or self._exited.is_set():
            return None
        return TreeSampler(self.proc.pid, lambda: self.fd)  # -1 once closed: never a reused descriptor

    def close(self) -> None:
        self._input.stop()
        self._pause.close()
        if self._read_watcher is not None:
            self._read_watcher.close()
            self._read_watcher = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    # ---- output ---------------------------------------------------------------------------
    def read(self, max_bytes: int) -> bytes:
        while True:
            try:
                data = os.read(self.fd, max_bytes)
                self._burst += len(data)
                return data
            except BlockingIOError:
                if self._exited.is_set():
                    return self._drain_after_exit(max_bytes)
                burst, self._burst = self._burst, 0
                # caught up with a stream: let the kernel gather more
                if burst >= STREAM_BURST_BYTES and self._pause.sleep(STREAM_PAUSE_SECONDS):
                    continue
                self._wait_readable()
            except OSError as exc:
                if exc.errno == errno.EIO:  # every slave fd is closed: the terminal has ended
                    return b""
                raise

    def _wait_readable(self, timeout: float | None = None) -> None:
        # The hub switches straight back here when the fd is readable: no Event, no extra callback
        # pass (each greenlet hop costs tens of µs, on every keystroke's echo).
        try:
            if timeout is None:
                get_hub().wait(self._read_watcher)
            else:
                with Timeout(timeout, False):
                    get_hub().wait(self._read_watcher)
        except _ProcessEnded:
            pass

    def _drain_after_exit(self, max_bytes: int) -> bytes:
        # The shell is gone but a background job may hold the terminal open: take what is
        # still arriving, and call it the end once the terminal stays quiet.
        self._wait_readable(DRAIN_AFTER_EXIT_SECONDS)
        try:
            return os.read(self.fd, max_bytes)
        except (BlockingIOError, OSError):
            return b""

    # ---- input ----------------------------------------------------------------------------
    def input_backlog(self) -> int:
        return len(self._input)

    def write(self, data: bytes, promised: bool = False) -> None:
        if not len(self._input):  # the usual keystroke: straight to the terminal, no greenlet hop
            try:
                data = data[self._write_some(data[:WRITE_SIZE]):]
            except BlockingIOError:
                pass
        self._input.put(data, promised)

    def _write_some(self, data: bytes) -> int:
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            raise
        except OSError:
            return 0  # the terminal is gone

    def _wait_writable(self) -> None:
        wait_write(self.fd)

    def resize(self, cols: int, rows: int) -> None:
        set_window_size(self.fd, cols, rows)
