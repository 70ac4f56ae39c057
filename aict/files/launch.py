"""Starting a files worker (aict/files/worker.py) as a workspace's shell account.

Like a shell (aict/terminals/spawn.py): posix_spawn, so the host's event loop never stops for a fork,
dropped to the account by setpriv in the new process, an environment made here with nothing of the
server's. The worker's standard input and output are the web process's connection itself: the host
takes no part in the transfer, and closes its own copy once the worker runs.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from gevent.hub import get_hub

from aict.terminals.accounts import ShellAccount, needs_switch, setpriv_prefix
from aict.terminals.spawn import SIGNALS_PYTHON_IGNORES, inheritable_descriptors

# Handed over on the command line: the account needs no access to the server's code or virtualenv.
WORKER_SOURCE = (Path(__file__).with_name("worker.py")).read_text()
SYSTEM_PYTHON = "/usr/bin/python3"
_watched: set = set()  # child watchers of running workers, kept until their worker is reaped


def worker_python(configured: str | None, account: ShellAccount) -> str:
    """The interpreter the worker runs on: FILES_PYTHON, else the system's python3 for another account
    (the server's own interpreter may sit where the account cannot go, such as /root/.pyenv), else
    this one. The worker needs Python 3.8 and its standard library, nothing else."""
    if configured:
        return configured
    if needs_switch(account) and os.access(SYSTEM_PYTHON, os.X_OK):
        return SYSTEM_PYTHON
    return sys.executable or shutil.which("python3") or SYSTEM_PYTHON


def launch_worker(connection_fd: int, account: ShellAccount, root: str, request: dict, python: str) -> int:
    """Start the worker for `request` in the workspace `root`, talking over `connection_fd`; its pid.
    Raises ShellAccountError when the host cannot act as the account, OSError when it cannot start."""
    prefix = setpriv_prefix(account) if needs_switch(account) else []
    argv = [*prefix, python, "-I", "-S", "-c", WORKER_SOURCE, root, json.dumps(request)]
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    actions = [(os.POSIX_SPAWN_CLOSE, fd) for fd in inheritable_descriptors()]
    actions += [(os.POSIX_SPAWN_DUP2, connection_fd, 0), (os.POSIX_SPAWN_DUP2, connection_fd, 1)]
    loop = get_hub().loop
    loop.install_sigchld()  # libev reaps children on SIGCHLD
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsigdef=SIGNALS_PYTHON_IGNORES)
    watcher = loop.child(pid, False)  # watched before the loop runs again: reaped, never a zombie
    _watched.add(watcher)

    def reaped() -> None:
        watcher.stop()
        _watched.discard(watcher)

    watcher.start(reaped)
    return pid
