"""Trusted devices: a browser that logged in successfully gets a random token (an HttpOnly cookie,
stored here only as its SHA-256), and with it gets past a lock on its user's name, so an attacker
who keeps failing on that name cannot keep the real user out. The per-IP limit still applies.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete

from aict.extensions import db
from aict.models import TrustedDevice, User
from aict.models.base import utcnow


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetime() -> timedelta:
    return timedelta(days=current_app.config["AICT"].TRUSTED_DEVICE_DAYS)


def _device(user: User, token: object) -> TrustedDevice | None:
    if not isinstance(token, str) or not 20 <= len(token) <= 200:
        return None
    device = db.session.execute(db.select(TrustedDevice).filter_by(token_hash=_hash(token))).scalar_one_or_none()
    if device is None or device.user_id != user.id or device.last_used_at < utcnow() - _lifetime():
        return None
    return device


def is_trusted_device(user: User | None, token: object) -> bool:
    """Whether `token` (the device cookie) names a browser this user logged in from, recently enough."""
    return user is not None and _device(user, token) is not None


def remember_device(user: User, token: object) -> str:
    """After a successful login: the device cookie's value (the same one while it still names this
    user, else a new one). Commits."""
    device = _device(user, token)
    if device is None:
        token = secrets.token_urlsafe(32)
        device = TrustedDevice(user_id=user.id, token_hash=_hash(token))
        db.session.add(device)
    device.last_used_at = utcnow()
    db.session.commit()
    return token


def forget_stale_devices() -> int:
    """Delete devices unused for longer than TRUSTED_DEVICE_DAYS (they are refused already)."""
    stale = db.session.execute(delete(TrustedDevice).where(TrustedDevice.last_used_at < utcnow() - _lifetime()))
    db.session.commit()
    return stale.rowcount


def device_lifetime_seconds() -> int:
    return int(_lifetime().total_seconds())
