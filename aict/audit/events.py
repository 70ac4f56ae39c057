"""Audit event writer: each event's MAC covers its content and its predecessor's (aict/audit/chain.py)."""

from __future__ import annotations

from flask import current_app, has_request_context, request

from aict.audit.chain import event_mac
from aict.extensions import db
from aict.models import AuditChainHead, AuditEvent
from aict.models.base import utcnow

_HEAD, _EVENTS = AuditChainHead.__table__, AuditEvent.__table__
_BUMP_HEAD = db.update(_HEAD).where(_HEAD.c.id == 1).values(writes=_HEAD.c.writes + 1)
_LAST_MAC = db.select(_EVENTS.c.hash).order_by(_EVENTS.c.id.desc()).limit(1)


def record(type_: str, *, username: str | None = None, ip: str | None = None,
           workspace_id: str | None = None, session_id: str | None = None,
           detail: dict | None = None, commit: bool = True) -> AuditEvent:
    """Append one audit event (chained to the last one) to the current transaction."""
    if ip is None and has_request_context():
        ip = request.remote_addr
    event = AuditEvent(at=utcnow(), type=type_, username=username, ip=ip, workspace_id=workspace_id,
                       session_id=session_id, detail=detail or {})
    state = current_app.extensions["aict"]
    # One writer at a time, so two events never chain to the same predecessor: in this process
    # (the lock), and across processes (the head row's lock, held until the transaction ends).
    with state.audit_lock:
        session = db.session()
        # Core statements on the transaction's connection: the ORM's update and query paths cost
        # ~1.5 ms more per event (a third of opening a terminal). What the transaction holds is
        # flushed with the event below.
        connection = session.connection()
        connection.execute(_BUMP_HEAD)
        event.prev_hash = connection.execute(_LAST_MAC).scalar() or ""
        event.hash = event_mac(state.settings.audit_key, event.prev_hash, event)
        session.add(event)
        session.flush()
        if commit:
            session.commit()
    return event
