"""Audit event writer: each event's MAC covers its content and its predecessor's (aict/audit/chain.py)."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session

from aict.audit.chain import event_mac
from aict.extensions import db
from aict.models import AuditChainHead, AuditEvent
from aict.models.base import utcnow

_HEAD, _EVENTS = AuditChainHead.__table__, AuditEvent.__table__
_BUMP_HEAD = db.update(_HEAD).where(_HEAD.c.id == 1).values(writes=_HEAD.c.writes + 1)
_LAST_MAC = db.select(_EVENTS.c.hash).order_by(_EVENTS.c.id.desc()).limit(1)
_LOCK_HELD = "aict.audit_lock"  # in Session.info: the audit lock this session's transaction holds
_TAIL = "aict.audit_tail"  # in Session.info: the MAC of the last event this transaction added


def record(type_: str, *, username: str | None = None, ip: str | None = None,
           workspace_id: str | None = None, session_id: str | None = None,
           detail: dict | None = None, commit: bool = True) -> AuditEvent:
    """Append one audit event (chained to the last one) to the current transaction."""
    if ip is None and has_request_context():
        ip = request.remote_addr
    event = AuditEvent(at=utcnow(), type=type_, username=username, ip=ip, workspace_id=workspace_id,
                       session_id=session_id, detail=detail or {})
    state = current_app.extensions["aict"]
    session = db.session()
    # Core statements on the transaction's connection: the ORM's update and query paths cost
    # ~1.5 ms more per event (a third of opening a terminal). What the transaction holds is
    # flushed with the event below.
    connection = session.connection()  # the transaction first: its end is what releases the lock
    tail = session.info.get(_TAIL)
    if tail is None:
        if connection.dialect.name == "sqlite":
            _hold_audit_lock(session, state.audit_lock)
        connection.execute(_BUMP_HEAD)
        tail = connection.execute(_LAST_MAC).scalar() or ""
    # else this transaction holds the head since its first event, and nobody else can have added
    # one: its own last event is the chain's (a batch of 200 exits: 400 statements fewer)
    event.prev_hash = tail
    event.hash = event_mac(state.settings.audit_key, event.prev_hash, event)
    session.add(event)
    session.flush()
    session.info[_TAIL] = event.hash
    if commit:
        session.commit()
    return event


def _hold_audit_lock(session: Session, lock) -> None:
    """One writer at a time, so two events never chain to the same predecessor. Across connections
    the head row's lock does it, held to the end of the writer's transaction; on PostgreSQL that is
    all (a greenlet is a connection like any process's, and PostgreSQL finds a deadlock between
    them). SQLite makes a second writer wait in its busy handler, which would stop the whole loop:
    there this process's writers queue on `lock` instead, held like the row from the bump to the end
    of the transaction. Released right after the bump (as it once was, on PostgreSQL too), a
    transaction that recorded a second event (a batch of exits) waited for the lock while the lock's
    holder waited in the database for the head row the first had: both for ever, unseen by the
    database (a burst of 200 kills stopped the terminal host's database work, and its stop)."""
    if _LOCK_HELD not in session.info:
        lock.acquire()
        session.info[_LOCK_HELD] = lock


@sqlalchemy_event.listens_for(Session, "after_transaction_end")
def _release_audit_lock(session: Session, transaction) -> None:
    if transaction.parent is None or transaction.nested:  # not a flush's subtransaction
        session.info.pop(_TAIL, None)  # a savepoint rolled back may have taken the last event with it
    if transaction.parent is None:  # the session's own transaction (commit, rollback or close), not a savepoint
        lock = session.info.pop(_LOCK_HELD, None)
        if lock is not None:
            lock.release()
