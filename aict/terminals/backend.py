"""The Backend protocol: what the LiveTerminal core needs from a terminal, whatever drives it."""

from __future__ import annotations

import signal as signal_module
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ExitStatus:
    """How a terminal ended: an exit code, or the name of the signal that ended it, or neither."""

    exit_code: int | None = None
    signal: str | None = None

    @classmethod
    def from_returncode(cls, returncode: int | None) -> ExitStatus:
        if returncode is None:
            return cls()
        if returncode < 0:
            return cls(signal=signal_name(-returncode))
        return cls(exit_code=returncode)


def signal_name(number: int) -> str:
    try:
        return signal_module.Signals(number).name
    except ValueError:
        return f"SIG{number}"


class InputBacklogFull(Exception):
    """The process is not reading its input; more would grow memory without bound."""


class Backend(Protocol):
    """A terminal: a byte stream both ways plus a window size. All calls are gevent-cooperative."""

    def start(self, cols: int, rows: int) -> None:
        """Start the process or connection; raises aict.errors.AppError with a contract code on failure."""

    def read(self, max_bytes: int) -> bytes:
        """Block this greenlet (never the loop) until output is available; b"" once it has ended."""

    def write(self, data: bytes, promised: bool = False) -> None:
        """Queue input for the process without blocking; InputBacklogFull when too much is queued
        (`promised`: the input was already answered as taken, so it gets the queue's slack)."""

    def input_backlog(self) -> int:
        """Bytes of input queued that the process has not taken yet."""

    def resize(self, cols: int, rows: int) -> None:
        """Change the terminal's window size (the process gets SIGWINCH)."""

    def terminate(self) -> None:
        """End it: SIGHUP (or a channel close), then SIGKILL if it lingers."""

    def wait(self) -> ExitStatus:
        """Block this greenlet until the process has ended; its exit status."""

    @property
    def ended(self):
        """An event (with .wait()) set once the process is known to have ended, or None."""

    def close(self) -> None:
        """Release file descriptors and connections; called once after wait()."""
