"""Ended logins and stale devices do not pile up: the hourly housekeeping deletes them."""

from __future__ import annotations

from datetime import timedelta

from aict.extensions import db
from aict.models import Login, TrustedDevice, User
from aict.models.base import utcnow
from aict.runtime.server import forget_ended_logins_and_devices


def test_housekeeping_forgets_ended_logins_and_stale_devices_only(app):
    now = utcnow()
    with app.app_context():
        user = User(username="someone", password_hash="x")
        db.session.add(user)
        db.session.flush()
        db.session.add_all([
            Login(id="ended", user_id=user.id, expires_at=now - timedelta(days=2)),
            Login(id="just-ended", user_id=user.id, expires_at=now - timedelta(hours=1)),
            Login(id="live", user_id=user.id, expires_at=now + timedelta(days=3)),
            TrustedDevice(user_id=user.id, token_hash="a" * 64, last_used_at=now - timedelta(days=91)),
            TrustedDevice(user_id=user.id, token_hash="b" * 64, last_used_at=now - timedelta(days=89)),
        ])
        db.session.commit()

    forget_ended_logins_and_devices(app)

    with app.app_context():
        assert sorted(db.session.execute(db.select(Login.id)).scalars()) == ["just-ended", "live"]
        assert list(db.session.execute(db.select(TrustedDevice.token_hash)).scalars()) == ["b" * 64]
