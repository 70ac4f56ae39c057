"""Password hashes (scrypt, werkzeug's format), computed beside the event loop.

scrypt takes ~160 ms of CPU. On the event loop every terminal froze that long at each login
attempt (aict_event_loop_lag_seconds showed it); hashlib lets go of the GIL while it works, so in
a native thread the loop runs on. Callers give their database connection back first
(aict.db_pool.release_connection): this is a wait.
"""

from __future__ import annotations

from flask import current_app, has_app_context
from gevent.hub import get_hub
from werkzeug.security import check_password_hash, generate_password_hash

STRONG = "scrypt:32768:8:1"  # werkzeug's default scrypt, spelled out: what every server stores
# TEST_CHEAP_PASSWORD_HASHES (test servers only, refused in production): a test run logs in, fails
# logins and creates users thousands of times, ~160 ms of CPU each at STRONG. The same code, the
# same format, a cost of next to nothing; a hash carries its parameters, so checking follows it.
CHEAP = "scrypt:128:8:1"  # ~1 ms (werkzeug asks OpenSSL for too little memory below n=128)

# Fixed hashes to compare against when the user does not exist, so timing does not tell.
_DUMMY_HASHES = {STRONG: generate_password_hash("not-a-real-password", STRONG)}


def hashing_method() -> str:
    """The method new hashes use: STRONG, or CHEAP in an app whose settings ask for it."""
    if has_app_context() and current_app.config["AICT"].TEST_CHEAP_PASSWORD_HASHES:
        return CHEAP
    return STRONG


def _off_the_loop(function, *args):
    return get_hub().threadpool.apply(function, args)


def hash_password(password: str) -> str:
    return _off_the_loop(generate_password_hash, password, hashing_method())


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash (no such user) it spends the same time and says no."""
    if password_hash is None:
        method = hashing_method()
        if method not in _DUMMY_HASHES:
            _DUMMY_HASHES[method] = generate_password_hash("not-a-real-password", method)
        _off_the_loop(check_password_hash, _DUMMY_HASHES[method], password)
        return False
    return _off_the_loop(check_password_hash, password_hash, password)
