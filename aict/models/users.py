from datetime import datetime

from sqlalchemy import Boolean, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from aict.extensions import db
from aict.models.base import iso, new_id, utcnow

ROLES = ("admin", "user")


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="user")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Every token carries the generation it was issued under; bumping it ends every login at once
    # (a new password, disabling, demotion).
    login_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    # TOTP secrets are sealed with the credential cipher; a pending one waits for its first code.
    totp_secret: Mapped[bytes | None] = mapped_column(default=None)
    totp_pending_secret: Mapped[bytes | None] = mapped_column(default=None)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)  # a code works once

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret is not None

    def to_dict(self) -> dict:
        body = {"id": self.id, "username": self.username, "role": self.role,
                "disabled": bool(self.disabled), "totp": self.totp_enabled,
                "created_at": iso(self.created_at)}
        if self.last_login_at is not None:
            body["last_login_at"] = iso(self.last_login_at)
        return body


class Login(db.Model):
    """One login: its refresh token rotates on every use; a rotated-out one used again ends the login.

    `refresh_jti` names the newest refresh token, `previous_jti` the one it replaced, which keeps
    working until the newest is first used (tabs that refresh at once, v1 clients that keep theirs).
    Logging out sets `revoked_at`: every token of the login is refused from then on.
    """

    __tablename__ = "logins"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    refresh_jti: Mapped[str | None] = mapped_column(String(64), default=None)
    previous_jti: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(256), default=None)


class TrustedDevice(db.Model):
    """A browser that logged in successfully before: its logins are not held by a username lock."""

    __tablename__ = "trusted_devices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
