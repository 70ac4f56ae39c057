from datetime import datetime

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from aict.extensions import db
from aict.models.base import utcnow


class UserSettings(db.Model):
    """A user's page settings (theme, font, scrollback...), kept on the server so they follow the user
    to any browser. One row per user who saved any; the values are checked by aict.services.user_settings."""

    __tablename__ = "user_settings"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
