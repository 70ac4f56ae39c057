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
    hash: Mapped[str] = mapped_column(String(64))

    def to_dict(self) -> dict:
        data = {"id": str(self.id), "at": iso(self.at), "type": self.type, "detail": self.detail or {},
                "hash": self.hash}
        for key in ("username", "ip", "workspace_id", "session_id"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data
