from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aict.extensions import db
from aict.models.base import iso, new_id

COMMAND_MAX = 4096  # characters of a command line kept; a longer one is cut and marked `truncated`
CWD_MAX = 4096


class Command(db.Model):
    """One command run in a terminal (aict.services.command_history): its line, where and when it
    ran, how it ended, and how it was captured ("shell": the shell's integration; "typed": the line
    as typed and echoed)."""

    __tablename__ = "commands"
    __table_args__ = (Index("ix_commands_workspace_at", "workspace_id", "at"),
                      Index("ix_commands_session_at", "session_id", "at"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # No foreign keys: history outlives its workspace and session, as the audit trail does.
    workspace_id: Mapped[str] = mapped_column(String(32))
    session_id: Mapped[str] = mapped_column(String(32))
    username: Mapped[str | None] = mapped_column(String(64))
    command: Mapped[str] = mapped_column(Text)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    cwd: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    time: Mapped[float | None] = mapped_column(Float)  # seconds into the session's recording
    capture: Mapped[str] = mapped_column(String(8))

    def to_dict(self) -> dict:
        data = {"id": self.id, "command": self.command, "username": self.username, "session_id": self.session_id,
                "workspace_id": self.workspace_id, "at": iso(self.at), "cwd": self.cwd, "capture": self.capture,
                "time": self.time, "finished_at": iso(self.finished_at)}
        if self.exit_code is not None:
            data["exit_code"] = self.exit_code
        if self.truncated:
            data["truncated"] = True
        return data
