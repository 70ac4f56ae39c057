from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from aict.extensions import db
from aict.models.base import iso, utcnow


class AuditEvent(db.Model):
    """One accountable action. `hash` chains each event to the previous one."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    workspace_id: Mapped[str | None] = mapped_column(String(32), index=True)
    session_id: Mapped[str | None] = mapped_column(String(32), index=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    hash: Mapped[str] = mapped_column(String(64))  # the MAC over its content and prev_hash
    prev_hash: Mapped[str | None] = mapped_column(String(64), default=None)  # None: before the keyed chain

    def to_dict(self) -> dict:
        data = {"id": str(self.id), "at": iso(self.at), "type": self.type, "detail": self.detail or {},
                "hash": self.hash}
        for key in ("username", "ip", "workspace_id", "session_id"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


class AuditChainHead(db.Model):
    """One row that every audit writer updates first: the update's lock (a row lock in PostgreSQL,
    the write lock in SQLite) makes writers take turns across processes, so the chain has no forks."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    writes: Mapped[int] = mapped_column(Integer, default=0)
