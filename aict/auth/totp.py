"""TOTP second factor (RFC 6238: 30 s steps, 6 digits, SHA-1, as authenticator apps expect).

Secrets are stored sealed with the credential cipher (AICT_ENCRYPTION_KEY), never in the clear.
A code works once: accepting it records its time step in `User.totp_last_step` with one
conditional UPDATE, so two requests racing with the same code (even in two processes) cannot
both win, and no code of that step or an earlier one is accepted again.
"""

from __future__ import annotations

import hmac
import time

import pyotp
from sqlalchemy import or_, update

from aict.config import current_settings
from aict.errors import AppError
from aict.extensions import db
from aict.models import User
from aict.ssh.credentials import CredentialCipher

INTERVAL = 30
DIGITS = 6
DRIFT_STEPS = 1  # a code of the step before or after is accepted too (clocks drift, people type slowly)
ISSUER = "aict"


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, RFC 4226's recommended length


def otpauth_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret, interval=INTERVAL, digits=DIGITS).provisioning_uri(name=username, issuer_name=ISSUER)


def seal_secret(secret: str) -> bytes:
    return CredentialCipher(current_settings().ENCRYPTION_KEY).seal({"totp": secret})


def open_secret(sealed: bytes) -> str:
    return CredentialCipher(current_settings().ENCRYPTION_KEY).open(sealed)["totp"]


def matching_step(secret: str, otp: object, now: float | None = None) -> int | None:
    """The time step whose code `otp` is (this one or a neighbour), or None. Spaces are ignored:
    authenticator apps show a code as "021 064", and people type it so."""
    if not isinstance(otp, str):
        return None
    otp = otp.replace(" ", "").replace("\u00a0", "")
    if len(otp) != DIGITS or not otp.isascii() or not otp.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=INTERVAL, digits=DIGITS)
    current = int((time.time() if now is None else now) // INTERVAL)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), otp):
            return step
    return None


def consume_step(user: User, step: int) -> bool:
    """Mark `step` used for this user; False when it (or a later one) was used already. Commits."""
    result = db.session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    db.session.commit()
    if result.rowcount != 1:
        return False
    user.totp_last_step = step
    return True


def code_is_valid(user: User, sealed_secret: bytes, otp: object) -> bool:
    """Whether `otp` is a fresh code of this secret; a valid code is used up by this check."""
    step = matching_step(open_secret(sealed_secret), otp)
    return step is not None and consume_step(user, step)


def check_login_otp(user: User, otp: object) -> bool:
    """The login's second factor, after the right password. True when a valid code was given
    (and used up), False when the user has no TOTP. Raises AppError `otp_required` without a code
    (not a failure: the page asks for it) or `invalid_credentials` for a wrong or used code
    (a failure, counted like a wrong password)."""
    if not user.totp_enabled:
        return False
    if otp is None or otp == "":
        raise AppError("otp_required", "Enter the one-time code from your authenticator app.")
    if not code_is_valid(user, user.totp_secret, otp):
        # A code works once: one just used (to turn two-factor on, or a login a moment ago) is
        # refused until the app shows the next, and a newcomer took that for a broken login.
        raise AppError("invalid_credentials", "The username, password or one-time code is wrong (each code works "
                                              "once: if you just used this one, wait for the next).")
    return True


def required_for_admins() -> bool:
    return bool(current_settings().REQUIRE_TOTP_FOR_ADMINS)


def totp_required_of(user: User) -> bool:
    """Whether this server requires TOTP of this user (REQUIRE_TOTP_FOR_ADMINS and an admin)."""
    return required_for_admins() and user.is_admin


def must_enrol(user: User) -> bool:
    """REQUIRE_TOTP_FOR_ADMINS: an admin without TOTP may only enrol (and see /api/me, log out)."""
    return totp_required_of(user) and not user.totp_enabled


def totp_required_error() -> AppError:
    return AppError("totp_required", "This server requires administrators to turn on two-factor "
                                     "authentication first: enrol on your account page.")
