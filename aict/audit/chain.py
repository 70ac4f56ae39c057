"""The audit log's chain: each event's MAC covers its content and its predecessor's MAC.

Keyed (HMAC-SHA256 with AUDIT_KEY, which lives with the server's secrets and never in the
database): someone who can write the database can neither alter an event nor re-chain the rest
after deleting one, because they cannot compute a MAC. Checkpoints of the chain's head, kept
outside the database (aict/audit/checkpoints.py), reveal the newest events cut off.
Events written before the chain was keyed (no `prev_hash`) are checked the old, unkeyed way.
Knows no Flask: verify() walks any ordered iterable of events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from aict.models import AuditEvent
from aict.models.base import iso


def _content(previous: str, event: AuditEvent) -> bytes:
    return json.dumps([previous, iso(event.at), event.type, event.username, event.ip, event.workspace_id,
                       event.session_id, event.detail or {}], sort_keys=True, separators=(",", ":")).encode()


def event_mac(key: bytes, previous: str, event: AuditEvent) -> str:
    return hmac.new(key, _content(previous, event), hashlib.sha256).hexdigest()


def legacy_hash(previous: str, event: AuditEvent) -> str:
    """The unkeyed SHA-256 chain of events written before the keyed one."""
    return hashlib.sha256(_content(previous, event)).hexdigest()


@dataclass
class Verdict:
    ok: bool = True
    checked: int = 0
    first_bad_id: int | None = None
    reason: str | None = None  # altered, missing, inserted, truncated
    legacy: int = 0  # events of the unkeyed era, checked the old way

    def fail(self, event_id: int, reason: str) -> Verdict:
        self.ok, self.first_bad_id, self.reason = False, event_id, reason
        return self

    def as_dict(self) -> dict:
        body: dict = {"ok": self.ok, "checked": self.checked}
        if not self.ok:
            body.update(first_bad_id=str(self.first_bad_id), reason=self.reason)
        if self.legacy:
            body["legacy_unkeyed"] = self.legacy
        return body


@dataclass
class _Walk:
    key: bytes
    verdict: Verdict = field(default_factory=Verdict)
    expected_prev: str = ""  # the MAC of the last good event
    last_id: int = 0
    suspect: AuditEvent | None = None  # an event whose MAC failed: altered, or inserted?


def verify(events: Iterable[AuditEvent], key: bytes, checkpoints: dict[int, str] | None = None) -> Verdict:
    """Check the chain in id order and, with `checkpoints` (id -> mac, kept outside the database),
    that none of the events they name was cut off. Names the first bad event and what happened."""
    walk = _Walk(key)
    checkpoints = checkpoints or {}
    for event in events:
        if _step(walk, event):
            return walk.verdict
        expected = checkpoints.get(event.id)
        if expected is not None and walk.suspect is None and event.hash != expected:
            # The end was cut off and new events took its ids (SQLite reuses the highest ones).
            return walk.verdict.fail(event.id, "truncated")
    if walk.suspect is not None:  # the last event's MAC failed, and nothing follows to tell
        return walk.verdict.fail(walk.suspect.id, "altered")
    if checkpoints and walk.last_id < max(checkpoints):
        return walk.verdict.fail(walk.last_id + 1, "truncated")
    return walk.verdict


def _step(walk: _Walk, event: AuditEvent) -> bool:
    """Check one event; True once the verdict is final."""
    verdict = walk.verdict
    if walk.suspect is not None:
        # The event after a bad one says which it was: if it links to what came before the bad
        # one, the bad one was slipped in; otherwise it was a real event, changed.
        suspect, walk.suspect = walk.suspect, None
        if event.prev_hash is not None and event.prev_hash == walk.expected_prev \
                and hmac.compare_digest(event.hash, event_mac(walk.key, walk.expected_prev, event)):
            verdict.fail(suspect.id, "inserted")
        else:
            verdict.fail(suspect.id, "altered")
        return True
    verdict.checked += 1
    if event.prev_hash is None:  # written before the chain was keyed
        verdict.legacy += 1
        if event.hash != legacy_hash(walk.expected_prev, event):
            verdict.fail(event.id, "altered")
            return True
    elif not hmac.compare_digest(event.hash, event_mac(walk.key, event.prev_hash, event)):
        walk.suspect = event  # decided by the next event
        return False
    elif event.prev_hash != walk.expected_prev:
        # A genuine event (its MAC holds) whose predecessor is not the one before it: removed.
        verdict.fail(event.id, "missing")
        return True
    walk.expected_prev, walk.last_id = event.hash, event.id
    return False
