from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aict.extensions import db
from aict.models.base import iso, new_id, utcnow


class TerminalSession(db.Model):
    """The durable record of a terminal session; the live process lives in aict.terminals."""

    __tablename__ = "terminal_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # No FK cascade: session records outlive their workspace for the audit trail.
    workspace_id: Mapped[str] = mapped_column(String(32), index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    cols: Mapped[int] = mapped_column(Integer, default=80)
    rows: Mapped[int] = mapped_column(Integer, default=24)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    exit_code: Mapped[int | None] = mapped_column(Integer)
    signal: Mapped[str | None] = mapped_column(String(16))
    node: Mapped[str | None] = mapped_column(String(64), index=True)  # whose terminal host runs it

    owner = relationship("User")

    def to_dict(self) -> dict:
        data = {"id": self.id, "workspace_id": self.workspace_id, "name": self.name,
                "status": self.status, "cols": self.cols, "rows": self.rows,
                "created_at": iso(self.created_at), "owner": self.owner.username, "node": self.node}
        if self.status == "exited":
            data.update(ended_at=iso(self.ended_at), exit_code=self.exit_code, signal=self.signal)
        return data
