from datetime import datetime

from gevent.hub import get_hub
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from aict.extensions import db
from aict.models.base import new_id, utcnow

ROLES = ("admin", "user")
# A fixed hash to compare against when the user does not exist, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def _off_the_loop(function, *args):
    # scrypt takes ~160 ms of CPU. On the event loop every terminal froze that long at each login
    # attempt (aict_event_loop_lag_seconds showed it); hashlib lets go of the GIL while it works,
    # so in a native thread the loop runs on.
    return get_hub().threadpool.apply(function, args)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="user")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def set_password(self, password: str) -> None:
        self.password_hash = _off_the_loop(generate_password_hash, password)

    def check_password(self, password: str) -> bool:
        return _off_the_loop(check_password_hash, self.password_hash, password)

    @staticmethod
    def burn_password_check(password: str) -> None:
        _off_the_loop(check_password_hash, _DUMMY_HASH, password)

    def to_dict(self) -> dict:
        return {"id": self.id, "username": self.username, "role": self.role}


class RevokedLogin(db.Model):
    """A login (the refresh token and every access token minted from it) that was logged out."""

    __tablename__ = "revoked_logins"

    login_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
