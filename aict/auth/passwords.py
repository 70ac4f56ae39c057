"""Password hashes (scrypt, werkzeug's format), computed beside the event loop.

scrypt takes ~160 ms of CPU. On the event loop every terminal froze that long at each login
attempt (aict_event_loop_lag_seconds showed it); hashlib lets go of the GIL while it works, so in
a native thread the loop runs on. Callers give their database connection back first
(aict.db_pool.release_connection): this is a wait.
"""

from __future__ import annotations

from gevent.hub import get_hub
from werkzeug.security import check_password_hash, generate_password_hash

# A fixed hash to compare against when the user does not exist, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def _off_the_loop(function, *args):
    return get_hub().threadpool.apply(function, args)


def hash_password(password: str) -> str:
    return _off_the_loop(generate_password_hash, password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash (no such user) it spends the same time and says no."""
    if password_hash is None:
        _off_the_loop(check_password_hash, _DUMMY_HASH, password)
        return False
    return _off_the_loop(check_password_hash, password_hash, password)
