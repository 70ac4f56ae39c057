"""Audit event writer: each event's hash covers its content and the previous event's hash."""

from __future__ import annotations

import hashlib
import json

from flask import current_app, has_request_context, request

from aict.extensions import db
from aict.models import AuditEvent
from aict.models.base import iso, utcnow


def event_hash(previous: str, event: AuditEvent) -> str:
    payload = json.dumps([previous, iso(event.at), event.type, event.username, event.ip,
                          event.workspace_id, event.session_id, event.detail or {}],
                         sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def record(type_: str, *, username: str | None = None, ip: str | None = None,
           workspace_id: str | None = None, session_id: str | None = None,
           detail: dict | None = None, commit: bool = True) -> AuditEvent:
    """Append one audit event (chained to the last one) to the current transaction."""
    if ip is None and has_request_context():
        ip = request.remote_addr
    event = AuditEvent(at=utcnow(), type=type_, username=username, ip=ip, workspace_id=workspace_id,
                       session_id=session_id, detail=detail or {})
    # One writer at a time, so two events never chain to the same predecessor.
    with current_app.extensions["aict"].audit_lock:
        last = db.session.query(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1).scalar()
        event.hash = event_hash(last or "", event)
        db.session.add(event)
        db.session.flush()
        if commit:
            db.session.commit()
    return event
