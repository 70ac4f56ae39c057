"""The watcher agents of the terminal host: one process per shell account that has a watched
workspace (aict/watching/agent.py), started when the first is watched and stopped a while after the
last one is not (a page reload must not restart it).

Started with posix_spawn like the shells (aict/terminals/spawn.py: no fork of the host), through
setpriv when the account is not the host's own; its standard input and output are pipes read and
written without blocking the loop.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import gevent
from gevent.hub import get_hub
from gevent.os import make_nonblocking, nb_read, nb_write

from aict.terminals.accounts import SETPRIV_DIRS, ShellAccount, needs_switch, setpriv_prefix
from aict.terminals.spawn import inheritable_descriptors

log = logging.getLogger(__name__)

AGENT_SCRIPT = Path(__file__).with_name("agent.py")
MAX_LINE = 4 * 1024 * 1024  # an agent line longer than this is a broken agent: it is stopped
READ_SIZE = 64 * 1024


class AgentProcess:
    """One running agent: `send` commands, lines come to `on_message(dict)`, `on_exit()` once it ended."""

    def __init__(self, account: ShellAccount, on_message: Callable[[dict], None], on_exit: Callable[[], None],
                 python: str | None = None):
        self.account = account
        self.on_message, self.on_exit = on_message, on_exit
        self.heard = False  # it said something: it started (one that never did could not run at all)
        prefix = setpriv_prefix(account) if needs_switch(account) else []
        argv = [*prefix, python or sys.executable, "-I", str(AGENT_SCRIPT)]
        env = {"PATH": SETPRIV_DIRS, "LANG": "C.UTF-8", "HOME": "/"}
        to_agent, self._stdin = os.pipe()
        self._stdout, from_agent = os.pipe()
        actions = [(os.POSIX_SPAWN_CLOSE, fd) for fd in inheritable_descriptors()]
        actions += [(os.POSIX_SPAWN_DUP2, to_agent, 0), (os.POSIX_SPAWN_DUP2, from_agent, 1),
                    (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
        loop = get_hub().loop
        loop.install_sigchld()
        try:
            self.pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True)
        finally:
            os.close(to_agent)
            os.close(from_agent)
        self._watcher = loop.child(self.pid, False)
        self._watcher.start(self._reaped)
        self.running = True
        make_nonblocking(self._stdin)
        make_nonblocking(self._stdout)
        self._reader = gevent.spawn(self._read_loop)

    def send(self, **command) -> None:
        if not self.running:
            return
        line = json.dumps(command, separators=(",", ":")).encode() + b"\n"
        try:
            while line:  # a pipe takes 64 KiB at once; a command is a line of a few hundred bytes
                line = line[nb_write(self._stdin, line):]
        except OSError:
            self.stop()

    def stop(self) -> None:
        """Close its standard input: the agent ends by itself (its watches with it)."""
        if self._stdin is not None:
            os.close(self._stdin)
            self._stdin = None
        self.running = False

    def _read_loop(self) -> None:
        pending = b""
        try:
            while True:
                chunk = nb_read(self._stdout, READ_SIZE)
                if not chunk:
                    return
                pending += chunk
                *lines, pending = pending.split(b"\n")
                if len(pending) > MAX_LINE:
                    log.warning("watcher agent of %s sent an overlong line: stopped", self.account.name)
                    self.stop()
                    return
                for line in lines:
                    self._deliver(line)
        except OSError:
            return
        finally:
            os.close(self._stdout)

    def _deliver(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            log.warning("watcher agent of %s: unreadable line %r", self.account.name, line[:200])
            return
        self.heard = True
        if isinstance(message, dict):
            try:
                self.on_message(message)
            except Exception:
                log.exception("watcher agent of %s: handling a message failed", self.account.name)

    def _reaped(self) -> None:
        self._watcher.stop()
        self.running = False
        if self._stdin is not None:
            os.close(self._stdin)
            self._stdin = None
        code = os.waitstatus_to_exitcode(self._watcher.rstatus)
        if code:
            log.warning("watcher agent of %s (pid %s) ended with status %s", self.account.name, self.pid, code)
        self.on_exit()
