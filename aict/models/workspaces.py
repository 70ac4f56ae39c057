from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aict.extensions import db
from aict.models.base import iso, new_id, utcnow

KINDS = ("local", "ssh")
ACCESS_LEVELS = ("operator", "viewer")


class Workspace(db.Model):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    path: Mapped[str | None] = mapped_column(String(1024))
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(128))
    # Encrypted SSH credentials (see aict.ssh.credentials); never serialised.
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary)
    host_key: Mapped[str | None] = mapped_column(Text)
    host_key_fingerprint: Mapped[str | None] = mapped_column(String(128))
    # Local workspaces: the OS account its shells run as (None: the server's AICT_SHELL_ACCOUNT).
    shell_account: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner = relationship("User")
    members = relationship("WorkspaceMember", cascade="all, delete-orphan", back_populates="workspace")

    def to_dict(self) -> dict:
        data = {"id": self.id, "name": self.name, "kind": self.kind, "owner": self.owner.username,
                "created_at": iso(self.created_at)}
        if self.kind == "local":
            data["path"] = self.path
        else:
            data.update(host=self.host, port=self.port, username=self.username)
            if self.host_key_fingerprint:
                data["host_key_fingerprint"] = self.host_key_fingerprint
        return data


class WorkspaceMember(db.Model):
    __tablename__ = "workspace_members"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    access: Mapped[str] = mapped_column(String(16))

    workspace = relationship("Workspace", back_populates="members")
    user = relationship("User")
