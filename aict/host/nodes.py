"""Every node's terminals, as one web process sees them: its own node's host over the Unix socket,
the other nodes' hosts over Redis (aict.host.redis_link). New terminals start on this node; a
terminal of another node is found in that node's mirror and driven through its link.

Without REDIS_URL there is one node, and this is just its RemoteTerminals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import gevent

from aict.errors import AppError
from aict.host.client import RemoteTerminal, RemoteTerminals
from aict.host.redis_link import WebSideLink, alive_key, nodes_key

log = logging.getLogger(__name__)
DISCOVERY_SECONDS = 2.0
HELLO_SECONDS = 5.0  # a hello lost in Redis (a host restarting as it came) is sent again on a new link


class NodeRouter:
    def __init__(self, local: RemoteTerminals, node: str, redis=None, prefix: str = "aict"):
        self.local = local
        self.node = node
        self.redis, self.prefix = redis, prefix
        self.others: dict[str, RemoteTerminals] = {}
        self._on_link_lost: Callable[[list[str]], None] | None = None
        self._on_event = None
        self.watched: set[str] = set()  # workspaces whose terminals sockets of this process watch
        self._discovery: gevent.Greenlet | None = None

    # ---- links ----------------------------------------------------------------------------
    @property
    def on_link_lost(self):
        return self._on_link_lost

    @on_link_lost.setter
    def on_link_lost(self, callback) -> None:
        self._on_link_lost = callback
        for mirror in self._mirrors():
            mirror.on_link_lost = callback

    @property
    def on_event(self):
        return self._on_event

    @on_event.setter
    def on_event(self, callback) -> None:
        self._on_event = callback
        for mirror in self._mirrors():
            mirror.on_event = callback

    def start(self) -> None:
        self.local.start()
        if self.redis is not None and self._discovery is None:
            self._discovery = gevent.spawn(self._discover)

    def stop(self) -> None:
        if self._discovery is not None:
            self._discovery.kill(block=False)
        for mirror in self._mirrors():
            mirror.stop()

    @property
    def ready(self) -> bool:
        return self.local.ready

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self.local.wait_ready() if timeout is None else self.local.wait_ready(timeout)

    def _discover(self) -> None:
        """Link to every node whose host holds a lease; drop the links of nodes whose lease ran out."""
        while True:
            try:
                self._discover_once()
            except Exception as error:
                log.warning("finding the other nodes in Redis failed (%s)", error)
            gevent.sleep(DISCOVERY_SECONDS)

    def _discover_once(self) -> None:
        names = {n.decode() if isinstance(n, bytes) else n for n in self.redis.smembers(nodes_key(self.prefix))}
        for name in sorted(names - {self.node}):
            alive = self.redis.exists(alive_key(self.prefix, name))
            mirror = self.others.get(name)
            if alive and mirror is None:
                mirror = RemoteTerminals(None, on_link_lost=self._on_link_lost, where=f"node {name} (Redis)",
                                         open_link=lambda on_frame, on_close, name=name: WebSideLink(
                                             self.redis, self.prefix, name, on_frame, on_close),
                                         on_event=self._on_event, hello_seconds=HELLO_SECONDS)
                mirror.watched = set(self.watched)
                self.others[name] = mirror
                mirror.start()
                log.info("linking to the terminal host of node %s through Redis", name)
            elif not alive and mirror is not None:
                log.warning("node %s's lease ran out: its terminals are unreachable", name)
                self.others.pop(name).stop()

    def _mirrors(self) -> list[RemoteTerminals]:
        return [self.local, *self.others.values()]

    # ---- the manager's surface ------------------------------------------------------------
    def get(self, terminal_id: str) -> RemoteTerminal | None:
        for mirror in self._mirrors():
            terminal = mirror.get(terminal_id)
            if terminal is not None:
                return terminal
        return None

    def wait_get(self, terminal_id: str) -> RemoteTerminal | None:
        terminal = self.local.wait_get(terminal_id)
        return terminal if terminal is not None else self.get(terminal_id)

    def all(self) -> list[RemoteTerminal]:
        return [terminal for mirror in self._mirrors() for terminal in mirror.all()]

    def count_running(self) -> int:
        return self.local.count_running()  # this node's (each node's /healthz says its own)

    def in_workspace(self, workspace_id: str) -> list[RemoteTerminal]:
        return [terminal for mirror in self._mirrors() for terminal in mirror.in_workspace(workspace_id)]

    def kill_workspace(self, workspace_id: str, by: str | None = None) -> None:
        for mirror in self._mirrors():
            if mirror is self.local or mirror.ready:
                mirror.kill_workspace(workspace_id, by)

    def set_access(self, user_id: str, workspace_id: str, access: str | None) -> None:
        for mirror in self._mirrors():
            if mirror is self.local or mirror.ready:
                mirror.set_access(user_id, workspace_id, access)

    def stats(self) -> dict:
        return self.local.stats()

    def watch(self, workspace_id: str) -> None:
        self.watched.add(workspace_id)
        for mirror in self._mirrors():
            mirror.watch(workspace_id)

    def unwatch(self, workspace_id: str) -> None:
        self.watched.discard(workspace_id)
        for mirror in self._mirrors():
            mirror.unwatch(workspace_id)

    def request(self, op: str, timeout: float | None = None, **body):
        """A request to the host that runs body["session"], or to this node's for anything else."""
        mirror = self.local
        session_id = body.get("session")
        if session_id is not None and self.local.get(session_id) is None:
            for other in self.others.values():
                if other.get(session_id) is not None:
                    mirror = other
                    break
        if mirror is not self.local and not mirror.ready:
            raise AppError("host_unavailable", "The node running that terminal cannot be reached.", status=503)
        return mirror.request(op, **body) if timeout is None else mirror.request(op, timeout=timeout, **body)

    def sweep(self) -> None:
        """Nothing to do here: each host ends its own idle terminals."""
