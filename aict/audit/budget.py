"""How often a refusal is audited: a flood of refused requests must not flood the audit trail."""

from __future__ import annotations

import threading
import time

AUDIT_EVERY_SECONDS = 60.0
_AUDITED_KEYS_KEPT = 10_000


class AuditBudget:
    """Whether a refusal for this key should be audited: once per `seconds`, with how many were
    left out since the last one (so the trail says "and 40 more like it", not nothing)."""

    def __init__(self, seconds: float = AUDIT_EVERY_SECONDS):
        self.seconds = seconds
        self._last: dict[str, list] = {}  # key -> [when last audited, refusals left out since]
        self._lock = threading.Lock()

    def due(self, key: str) -> bool:
        return self.take(key) is not None

    def take(self, key: str) -> int | None:
        """None when this refusal is not to be audited; else how many were left out before it."""
        now = time.monotonic()
        with self._lock:
            entry = self._last.get(key)
            if entry is not None and now - entry[0] < self.seconds:
                entry[1] += 1
                return None
            if len(self._last) >= _AUDITED_KEYS_KEPT:
                self._last = {k: e for k, e in self._last.items() if now - e[0] < self.seconds}
            self._last[key] = [now, 0]
            return entry[1] if entry is not None else 0
