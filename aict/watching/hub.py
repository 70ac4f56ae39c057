"""The terminal host's table of watched workspaces: one watcher per workspace, however many sockets
(of however many web processes) watch it; each event goes once to each web process that has a
watching socket, which hands it to its sockets.

A subscriber is (owner, key): the owner a web process's link, the key one of its sockets. Local
workspaces are watched by the agent of their shell account (agents.py), SSH workspaces by a poller
(ssh_poll.py); both report through `_status` and `_changes`.
"""

from __future__ import annotations

import itertools
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent
from gevent.event import Event

from aict.errors import AppError
from aict.terminals.accounts import ShellAccount, ShellAccountError
from aict.watching.agents import AgentProcess
from aict.watching.ssh_poll import SshPoller

log = logging.getLogger(__name__)

FIRST_STATUS_SECONDS = 8.0  # a watch's first status waits this long (the agent's git timeout is 5 s)
AGENT_LINGER_SECONDS = 30.0  # an agent with nothing to watch is kept this long (page reloads)
AGENT_RESTART_SECONDS = 1.0  # after an agent that ran ended
AGENT_RETRY_SECONDS = (5.0, 30.0, 120.0, 300.0)  # after an agent that never started (each failure in a row)

WORKSPACE_STATUS, FILE_CHANGE = "workspace-status", "file-change"
Deliver = Callable[[Any, str, str, dict], None]  # (owner, workspace id, event, payload)


@dataclass(frozen=True)
class LocalTarget:
    """What watching a local workspace needs: its directory, the account its shells run as, their home
    (HOME for git: the account's git configuration), and folders to say nothing of."""

    workspace_id: str
    path: str
    account: ShellAccount
    home: str
    exclude: tuple[str, ...] = ()


@dataclass(eq=False)
class Watched:
    target: Any
    subscribers: dict[Any, set[str]] = field(default_factory=dict)  # owner -> keys
    status: dict | None = None  # the last status, as the contract's payload
    first: Event = field(default_factory=Event)
    watch_id: str = ""
    poller: Any = None  # an SshPoller for SSH workspaces
    unanswered: bool = False  # a watch was answered before the first status came (a slow start)

    def keys(self) -> int:
        return sum(len(keys) for keys in self.subscribers.values())


class Agent:
    """An account's agent, restarted when it ends while workspaces of that account are watched."""

    def __init__(self, hub: WatchHub, account: ShellAccount):
        self.hub, self.account = hub, account
        self.watch_ids: set[str] = set()
        self.process: AgentProcess | None = None
        self._linger: gevent.Greenlet | None = None
        self._restarting: gevent.Greenlet | None = None
        self._failures = 0  # agents in a row that never started

    def watch(self, watched: Watched) -> None:
        if self._linger is not None:
            self._linger.kill(block=False)
            self._linger = None
        self.watch_ids.add(watched.watch_id)
        if self._restarting is not None:  # it failed to start: the restart will watch this one too
            self._report_failure(watched)
            return
        if self.process is None or not self.process.running:
            self.process = AgentProcess(self.account, self.hub._from_agent, self._ended, self.hub.python)
        self._send_watch(watched.target, watched.watch_id)

    def _send_watch(self, target: LocalTarget, watch_id: str) -> None:
        self.process.send(op="watch", id=watch_id, path=target.path, home=target.home, exclude=list(target.exclude))

    def unwatch(self, watch_id: str) -> None:
        self.watch_ids.discard(watch_id)
        if self.process is not None:
            self.process.send(op="unwatch", id=watch_id)
        if not self.watch_ids and self._linger is None:
            self._linger = gevent.spawn_later(self.hub.agent_linger, self._stop_if_idle)

    def _stop_if_idle(self) -> None:
        self._linger = None
        if not self.watch_ids and self.process is not None:
            self.process.stop()
            self.process = None
            self.hub.agents.pop(self.account.name, None)

    def _ended(self) -> None:
        if not self.watch_ids or self._restarting is not None:
            return
        if self.process is not None and not self.process.heard:  # it could not even start
            delay = AGENT_RETRY_SECONDS[min(self._failures, len(AGENT_RETRY_SECONDS) - 1)]
            self._failures += 1
            log.warning("the watcher agent of %s did not start (can the account run %s and import watchfiles?); "
                        "trying again in %g s", self.account.name, self.hub.python or sys.executable, delay)
            for watch_id in list(self.watch_ids):
                watched = self.hub._by_watch_id.get(watch_id)
                if watched is not None:
                    self._report_failure(watched)
        else:  # it died under its watches: start again, and watch them again
            self._failures, delay = 0, AGENT_RESTART_SECONDS
        self._restarting = gevent.spawn_later(delay, self._restart)

    def _report_failure(self, watched: Watched) -> None:
        self.hub.report_status(watched, {"error": {
            "code": "watch_unavailable",
            "message": f"The workspace cannot be watched: its watcher did not start as {self.account.name}."}})

    def _restart(self) -> None:
        self._restarting = None
        if not self.watch_ids or (self.process is not None and self.process.running):
            return
        log.warning("restarting the watcher agent of %s", self.account.name)
        self.process = AgentProcess(self.account, self.hub._from_agent, self._ended, self.hub.python)
        for watch_id in list(self.watch_ids):
            watched = self.hub._by_watch_id.get(watch_id)
            if watched is not None:
                self._send_watch(watched.target, watch_id)

    def stop(self) -> None:
        self.watch_ids.clear()
        for greenlet in (self._linger, self._restarting):
            if greenlet is not None:
                greenlet.kill(block=False)
        if self.process is not None:
            self.process.stop()


class WatchHub:
    def __init__(self, deliver: Deliver, agent_linger: float = AGENT_LINGER_SECONDS, python: str | None = None):
        self.deliver = deliver
        self.agent_linger = agent_linger
        self.python = python  # the interpreter agents run with (WATCH_PYTHON); None: this one
        self.watched: dict[str, Watched] = {}  # workspace id -> its watch
        self.agents: dict[str, Agent] = {}  # account name -> its agent
        self._by_watch_id: dict[str, Watched] = {}
        self._ids = itertools.count(1)

    # ---- subscribers ----------------------------------------------------------------------
    def watch(self, target, owner, key: str, timeout: float = FIRST_STATUS_SECONDS) -> dict:
        """Subscribe (owner, key) to the workspace of `target` (a LocalTarget or an SshWatchTarget);
        returns its current status, waiting for the first one if it is new."""
        watched = self.watched.get(target.workspace_id)
        if watched is None:
            watched = self._start(target)
        elif watched.poller is not None:  # an SSH workspace: its settings as they are now (a host key
            watched.poller.retarget(target)  # just trusted, a new password), tried at once if it failed
        watched.subscribers.setdefault(owner, set()).add(key)
        if not watched.first.wait(timeout):  # the ack says no more than "no status yet"; the event will
            log.warning("no first status for workspace %s within %s s", target.workspace_id, timeout)
            watched.unanswered = True
        return watched.status or {"workspaceId": target.workspace_id}

    def unwatch(self, workspace_id: str, owner, key: str) -> None:
        watched = self.watched.get(workspace_id)
        if watched is None:
            return
        keys = watched.subscribers.get(owner)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del watched.subscribers[owner]
        if not watched.subscribers:
            self._stop(watched)

    def drop_owner(self, owner) -> None:
        """A web process's link closed: its sockets watch nothing any more."""
        for watched in list(self.watched.values()):
            if watched.subscribers.pop(owner, None) is not None and not watched.subscribers:
                self._stop(watched)

    def shown(self, workspace_id: str, folder: str) -> None:
        """A Files panel listed `folder` of a watched SSH workspace: its poll lists it every time."""
        watched = self.watched.get(workspace_id)
        if watched is not None and watched.poller is not None:
            watched.poller.show(folder)

    def close(self) -> None:
        for watched in list(self.watched.values()):
            self._stop(watched)
        for agent in list(self.agents.values()):
            agent.stop()
        self.agents.clear()

    def stats(self) -> dict:
        return {"watched": len(self.watched), "watchers": sum(w.keys() for w in self.watched.values()),
                "agents": sum(1 for a in self.agents.values() if a.process is not None and a.process.running)}

    # ---- watchers -------------------------------------------------------------------------
    def _start(self, target) -> Watched:
        watched = Watched(target, watch_id=f"w{next(self._ids)}")
        self.watched[target.workspace_id] = watched
        self._by_watch_id[watched.watch_id] = watched
        try:
            if isinstance(target, LocalTarget):
                agent = self.agents.get(target.account.name)
                if agent is None:
                    agent = self.agents[target.account.name] = Agent(self, target.account)
                agent.watch(watched)
            else:
                watched.poller = SshPoller(target, lambda fields: self.report_status(watched, fields),
                                           lambda items: self.report_changes(watched, items))
        except (OSError, ShellAccountError) as error:
            self._forget(watched)
            raise AppError("watch_unavailable", f"This workspace cannot be watched here: {error}", status=503) from None
        except BaseException:
            self._forget(watched)
            raise
        return watched

    def _stop(self, watched: Watched) -> None:
        self._forget(watched)
        if isinstance(watched.target, LocalTarget):
            agent = self.agents.get(watched.target.account.name)
            if agent is not None:
                agent.unwatch(watched.watch_id)
        elif watched.poller is not None:
            watched.poller.stop()

    def _forget(self, watched: Watched) -> None:
        if self.watched.get(watched.target.workspace_id) is watched:
            del self.watched[watched.target.workspace_id]
        self._by_watch_id.pop(watched.watch_id, None)
        watched.subscribers.clear()
        watched.first.set()  # a watch still waiting for its first status answers now

    # ---- what watchers report -------------------------------------------------------------
    def _from_agent(self, message: dict) -> None:
        watched = self._by_watch_id.get(message.get("id"))
        if watched is None:
            return  # unwatched meanwhile
        if "status" in message and isinstance(message["status"], dict):
            self.report_status(watched, message["status"])
        elif "changes" in message and isinstance(message["changes"], list):
            self.report_changes(watched, message["changes"])
        elif "log" in message:
            log.info("watching workspace %s: %s", watched.target.workspace_id, str(message["log"])[:500])

    def report_status(self, watched: Watched, fields: dict) -> None:
        status = {"workspaceId": watched.target.workspace_id, **fields}
        if status == watched.status:
            return
        first = watched.status is None
        watched.status = status
        watched.first.set()
        if not first or watched.unanswered:  # the first one is every watcher's ack, unless it came late
            self._send(watched, WORKSPACE_STATUS, status)

    def report_changes(self, watched: Watched, changes: list[dict]) -> None:
        self._send(watched, FILE_CHANGE, {"workspaceId": watched.target.workspace_id, "changes": changes})

    def _send(self, watched: Watched, event: str, payload: dict) -> None:
        for owner in list(watched.subscribers):
            try:
                self.deliver(owner, watched.target.workspace_id, event, payload)
            except Exception:
                log.exception("delivering %s for workspace %s failed", event, watched.target.workspace_id)
