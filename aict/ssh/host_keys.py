"""Host keys are never trusted silently: an unpinned host's key is offered to a person, who confirms
its fingerprint (trust-host-key); a pinned key that changes refuses the connection and is audited."""

from __future__ import annotations

import time

from aict.ssh.keys import HostKey

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
