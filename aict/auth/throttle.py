"""Login failure throttling per username and per IP, on the `limits` storage Flask-Limiter uses.

Usernames are case-sensitive here as everywhere: failures on `Zed` never lock `zed`. The two locks
are asked about separately, because a known device or a valid second factor gets past the username
lock (aict/api/auth.py), never past the IP's.
"""

from __future__ import annotations

import time

from limits import RateLimitItemPerSecond
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from aict.config import Settings
from aict.extensions import limiter


def _user_key(username: str) -> str:
    return f"user:{username}"


def _ip_key(ip: str) -> str:
    return f"ip:{ip}"


class LoginThrottle:
    """N failures within a window lock the username (or block the IP) for a fixed time.

    A lock is a fixed window started by the failure that tripped it, so refused attempts
    during the lock do not extend it; a success clears the username's failures.
    """

    def __init__(self, settings: Settings):
        window = settings.LOGIN_WINDOW_SECONDS
        self.user_failures = RateLimitItemPerSecond(settings.LOGIN_USER_FAILURES, window)
        self.ip_failures = RateLimitItemPerSecond(settings.LOGIN_IP_FAILURES, window)
        self.lock = RateLimitItemPerSecond(1, settings.LOGIN_LOCK_SECONDS)

    @property
    def _storage(self):
        return limiter.storage

    def _wait(self, key: str) -> int | None:
        locks = FixedWindowRateLimiter(self._storage)
        if locks.test(self.lock, "login-lock", key):
            return None
        reset = locks.get_window_stats(self.lock, "login-lock", key).reset_time
        return max(1, int(reset - time.time() + 0.999))

    def ip_wait(self, ip: str) -> int | None:
        """Seconds until logins from this IP may be tried again, or None when they may go ahead."""
        return self._wait(_ip_key(ip))

    def username_wait(self, username: str) -> int | None:
        """Seconds until this username's lock ends, or None when it is not locked."""
        return self._wait(_user_key(username))

    def failed(self, username: str, ip: str) -> None:
        """A wrong password: one failure for the username and one for the IP."""
        self._count(self.user_failures, _user_key(username))
        self._count(self.ip_failures, _ip_key(ip))

    def refused(self, ip: str) -> None:
        """An attempt refused by a username lock: the IP keeps counting (an attacker who goes on
        hammering a locked name gets their address blocked), the lock is not extended."""
        self._count(self.ip_failures, _ip_key(ip))

    def _count(self, item, key: str) -> None:
        counter = MovingWindowRateLimiter(self._storage)
        counter.hit(item, "login-fail", key)
        if not counter.test(item, "login-fail", key):
            FixedWindowRateLimiter(self._storage).hit(self.lock, "login-lock", key)
            counter.clear(item, "login-fail", key)

    def clear(self, username: str) -> None:
        """An administrator's doing (a new password, the account enabled again): the username's
        failures and its lock are gone."""
        self.succeeded(username)
        FixedWindowRateLimiter(self._storage).clear(self.lock, "login-lock", _user_key(username))

    def succeeded(self, username: str) -> None:
        MovingWindowRateLimiter(self._storage).clear(self.user_failures, "login-fail", _user_key(username))
