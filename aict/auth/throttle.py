"""Login failure throttling per username and per IP, on the `limits` storage Flask-Limiter uses."""

from __future__ import annotations

import time

from limits import RateLimitItemPerSecond
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from aict.config import Settings
from aict.extensions import limiter


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

    def retry_after(self, username: str, ip: str) -> int | None:
        """Seconds until this attempt may be tried, or None when it may go ahead."""
        locks = FixedWindowRateLimiter(self._storage)
        waits = []
        for key in (f"user:{username.lower()}", f"ip:{ip}"):
            if not locks.test(self.lock, "login-lock", key):
                reset = locks.get_window_stats(self.lock, "login-lock", key).reset_time
                waits.append(max(1, int(reset - time.time() + 0.999)))
        return max(waits) if waits else None

    def failed(self, username: str, ip: str) -> None:
        counter = MovingWindowRateLimiter(self._storage)
        locks = FixedWindowRateLimiter(self._storage)
        for item, key in ((self.user_failures, f"user:{username.lower()}"), (self.ip_failures, f"ip:{ip}")):
            counter.hit(item, "login-fail", key)
            if not counter.test(item, "login-fail", key):
                locks.hit(self.lock, "login-lock", key)
                counter.clear(item, "login-fail", key)

    def succeeded(self, username: str) -> None:
        MovingWindowRateLimiter(self._storage).clear(self.user_failures, "login-fail",
                                                     f"user:{username.lower()}")
