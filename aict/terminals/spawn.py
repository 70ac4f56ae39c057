"""Starting a shell on a PTY without stopping the event loop.

gevent's Popen forks the whole server and sets the child up in Python: 14-45 ms with the loop
stopped (more as the server grows), every other terminal waiting each time one is opened.
posix_spawn (vfork + exec in glibc) takes ~0.4 ms whatever the server's size. It cannot run Python
in the child, so the setup is said in its terms: setsid(), then opening the PTY by name, which
makes it the new session's controlling terminal (a session leader opening a terminal acquires
it), then a tiny /bin/sh step for the working directory. A shell that runs as another account than the
server's is started through a `prefix` that drops to it before that step (setpriv: see
aict/terminals/accounts.py), so the directory is entered as the account.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
from collections.abc import Callable, Sequence

from gevent.hub import get_hub

# `cd` then exec the shell: posix_spawn has no working-directory action in Python's os module.
_CHDIR_THEN_EXEC = 'cd -- "$0" && exec "$@"'
# Python ignores these; a child would inherit them ignored (subprocess restores them, posix_spawn
# does not). With SIGPIPE ignored, `yes | head -1` in a terminal said "yes: standard output: Broken pipe".
SIGNALS_PYTHON_IGNORES = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ", "SIGXFZ")
                                if hasattr(signal, name))


class ShellProcess:
    """A started shell: its pid, and its returncode once `on_exit()` has been called (in the hub)."""

    def __init__(self, argv: list[str], cwd: str, env: dict[str, str], tty_path: str, on_exit: Callable[[], None],
                 prefix: Sequence[str] = ()):
        if shutil.which(argv[0], path=env.get("PATH")) is None:  # say so now, not as exit status 127
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), argv[0])
        loop = get_hub().loop
        loop.install_sigchld()  # libev reaps children on SIGCHLD (as gevent.subprocess arranges)
        actions = [(os.POSIX_SPAWN_CLOSE, fd) for fd in inheritable_descriptors()]
        actions += [(os.POSIX_SPAWN_OPEN, 0, tty_path, os.O_RDWR, 0),
                    (os.POSIX_SPAWN_DUP2, 0, 1), (os.POSIX_SPAWN_DUP2, 0, 2)]
        command = [*prefix, "/bin/sh", "-c", _CHDIR_THEN_EXEC, cwd, *argv]
        self.pid = os.posix_spawn(command[0], command, env, setsid=True,
                                  file_actions=actions, setsigdef=SIGNALS_PYTHON_IGNORES)
        self.returncode: int | None = None
        self._on_exit = on_exit
        # Watched before the loop runs again: a status reaped for a pid nobody watches is lost.
        self._watcher = loop.child(self.pid, False)
        self._watcher.start(self._reaped)

    @classmethod
    def adopt(cls, pid: int, on_exit: Callable[[], None]) -> ShellProcess:
        """A shell this process started before it re-executed itself (aict.host.handoff): still its
        child, so its exit status is reaped here as usual."""
        process = cls.__new__(cls)
        loop = get_hub().loop
        loop.install_sigchld()
        process.pid, process.returncode, process._on_exit = pid, None, on_exit
        process._watcher = loop.child(pid, False)
        process._watcher.start(process._reaped)
        try:  # ended while the host re-executed: no SIGCHLD will come for it any more
            reaped, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            reaped, status = pid, 0
        if reaped:
            process._watcher.stop()
            process.returncode = os.waitstatus_to_exitcode(status)
            loop.run_callback(on_exit)
        return process

    def _reaped(self) -> None:
        self.returncode = os.waitstatus_to_exitcode(self._watcher.rstatus)
        self._watcher.stop()
        self._on_exit()


def inheritable_descriptors() -> list[int]:
    """Descriptors beyond stdio that a shell would inherit (not close-on-exec), such as a listening
    socket handed down by gunicorn: the shell gets none of them (Popen's close_fds did this)."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            try:
                if os.get_inheritable(fd):
                    found.append(fd)
            except OSError:  # closed meanwhile (the listing's own descriptor, for one)
                pass
    return found
