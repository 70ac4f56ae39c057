"""Host keys are never trusted silently: an unpinned host's key is offered to a person, who confirms
its fingerprint (trust-host-key); a pinned key that changes refuses the connection and is audited.

The offer is made by the process that connected and confirmed through whichever process the
confirmation reaches: with several processes (REDIS_URL), offers live in Redis (SharedHostKeyOffers)."""

from __future__ import annotations

import time
from typing import Protocol

from aict.ssh.keys import BadKey, HostKey, parse_host_key

OFFER_SECONDS = 3600
MAX_OFFERS = 10_000


class HostKeyOffers:
    """The key each unpinned workspace's host presented last, kept for a while for trust-host-key."""

    def __init__(self, ttl: float = OFFER_SECONDS):
        self.ttl = ttl
        self._offers: dict[str, tuple[HostKey, float]] = {}

    def remember(self, workspace_id: str, key: HostKey) -> None:
        now = time.monotonic()
        if len(self._offers) >= MAX_OFFERS:
            self._offers = {k: v for k, v in self._offers.items() if now - v[1] < self.ttl}
            while len(self._offers) >= MAX_OFFERS:
                self._offers.pop(next(iter(self._offers)))
        self._offers.pop(workspace_id, None)
        self._offers[workspace_id] = (key, now)

    def offered(self, workspace_id: str) -> HostKey | None:
        entry = self._offers.get(workspace_id)
        if entry is None or time.monotonic() - entry[1] >= self.ttl:
            return None
        return entry[0]

    def forget(self, workspace_id: str) -> None:
        self._offers.pop(workspace_id, None)


class Offers(Protocol):
    def remember(self, workspace_id: str, key: HostKey) -> None: ...
    def offered(self, workspace_id: str) -> HostKey | None: ...
    def forget(self, workspace_id: str) -> None: ...


class SharedHostKeyOffers:
    """HostKeyOffers kept in Redis (a redis-py client handed in), so that a key offered through one
    process can be confirmed through any other: one key per workspace holding the offered key's
    line, expiring after `ttl` seconds (Redis drops it; nothing to prune)."""

    def __init__(self, client, prefix: str, ttl: float = OFFER_SECONDS):
        self.client, self.ttl = client, ttl
        self.prefix = f"{prefix}:host-key-offer:"

    def remember(self, workspace_id: str, key: HostKey) -> None:
        self.client.set(self.prefix + workspace_id, key.line, ex=max(1, int(self.ttl)))

    def offered(self, workspace_id: str) -> HostKey | None:
        line = self.client.get(self.prefix + workspace_id)
        if line is None:
            return None
        try:
            return parse_host_key(line.decode() if isinstance(line, bytes) else line)
        except BadKey:
            return None  # not written by remember(): as if nothing were offered

    def forget(self, workspace_id: str) -> None:
        self.client.delete(self.prefix + workspace_id)
