"""A user's own TOTP: enrol (pending until a first code confirms it), confirm, turn off."""

from __future__ import annotations

import segno

from aict.audit.events import record
from aict.auth import totp
from aict.errors import AppError, forbidden
from aict.extensions import db
from aict.models import User


def qr_data_uri(uri: str) -> str:
    """The otpauth URI as a QR code: an SVG image in a data: URI (the pages' CSP allows data: images;
    an image cannot run script), dark on light with a quiet zone, as scanners expect."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=4, dark="#000", light="#fff")


def start_enrolment(user: User) -> dict:
    """A new pending secret (a previous pending one is replaced). With TOTP already on: 409, so a
    stolen access token alone cannot swap the second factor (turning it off needs a code)."""
    if user.totp_enabled:
        raise AppError("conflict", "Two-factor authentication is already on. Turn it off first "
                                   "(with a code) to enrol another device.")
    secret = totp.new_secret()
    user.totp_pending_secret = totp.seal_secret(secret)
    user.totp_last_step = None  # steps used with an earlier secret say nothing about this one
    db.session.commit()
    uri = totp.otpauth_uri(secret, user.username)
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": qr_data_uri(uri)}


def confirm_enrolment(user: User, otp: object) -> None:
    """The first code of the pending secret turns TOTP on (audited `totp_enable`); that code is used up."""
    if user.totp_enabled:
        raise AppError("conflict", "Two-factor authentication is already on.")
    if user.totp_pending_secret is None:
        raise AppError("conflict", "No enrolment is pending: start one first (POST /api/me/totp).")
    if not totp.code_is_valid(user, user.totp_pending_secret, otp):
        raise AppError("invalid_otp", "That code is not right (or was used already): enter the current "
                                      "6-digit code your authenticator app shows.")
    user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
    record("totp_enable", username=user.username, detail={"user": user.username}, commit=False)
    db.session.commit()


def turn_off(user: User, otp: object) -> None:
    """The user turns TOTP off with a current code (audited `totp_disable`); a pending enrolment
    is simply dropped. Admins may not while REQUIRE_TOTP_FOR_ADMINS is on."""
    if not user.totp_enabled:
        user.totp_pending_secret = None
        db.session.commit()
        return
    if totp.totp_required_of(user):
        raise forbidden("This server requires administrators to keep two-factor authentication on.")
    if not totp.code_is_valid(user, user.totp_secret, otp):
        raise AppError("invalid_otp", "That code is not right (or was used already).")
    user.totp_secret = user.totp_pending_secret = None
    user.totp_last_step = None
    record("totp_disable", username=user.username, detail={"user": user.username, "by": "self"}, commit=False)
    db.session.commit()
