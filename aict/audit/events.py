"""Audit event writer: each event's MAC covers its content and its predecessor's (aict/audit/chain.py)."""

from __future__ import annotations

from flask import current_app, has_request_context, request

from aict.audit.chain import event_mac
from aict.extensions import db
from aict.models import AuditChainHead, AuditEvent
from aict.models.base import utcnow


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
        db.session.execute(db.update(AuditChainHead).where(AuditChainHead.id == 1)
                           .values(writes=AuditChainHead.writes + 1))
        last = db.session.query(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1).scalar()
        event.prev_hash = last or ""
        event.hash = event_mac(state.settings.audit_key, event.prev_hash, event)
        db.session.add(event)
        db.session.flush()
        if commit:
            db.session.commit()
    return event
