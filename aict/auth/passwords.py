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

# Fixed hashes to compare against when the user does not exist, so timing does not tell. Written
# out, not made at import: every process (web, terminal host, CLI) would spend a whole hash on it.
_DUMMY_HASHES = {
    STRONG: "scrypt:32768:8:1$cCmPopnKpNognTFF$5a089eb1f91480ea0115bbc4eb4da2b279afe6ba4568b068f5e52935f05ce6d8"
            "bc9b843734b7805167097705aa91d916e0df934f7dbcb35e7936fe5c7e047634",
    CHEAP: "scrypt:128:8:1$QQmjW9HMlI4vGneX$d00c06d4b1ab867001c6de3c741c04de08a676d6eea8ca26926d95b4fd2f3c00"
           "6393a4aa9d4e7f5a77836c3745be2b68cc5606f44e5b665b5ac2b0832e4144cb",
}


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
        _off_the_loop(check_password_hash, _DUMMY_HASHES[hashing_method()], password)
        return False
    return _off_the_loop(check_password_hash, password_hash, password)
