"""User service functions shared by the API and the CLI: create, change, passwords."""

from __future__ import annotations

import re
import secrets

from flask import current_app
from sqlalchemy import func, select, update

from aict.audit.events import record
from aict.auth.passwords import hash_password, password_matches
from aict.auth.tokens import revoke_user_logins
from aict.config import Settings
from aict.db_pool import release_connection
from aict.errors import AppError, bad_request, not_found
from aict.extensions import db
from aict.models import Login, User
from aict.models.base import utcnow
from aict.models.users import ROLES

# fullmatch: with match(), "$" also matches before a trailing newline, which let "bob\n" in.
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise bad_request(f"A password needs at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise bad_request(f"A password has at most {MAX_PASSWORD} characters.")


def create_user(username: str, password: str, role: str = "user", *, actor: str | None = None,
                source: str = "api") -> User:
    """Create a user (audited `user_create`); AppError (bad_request, or conflict for a taken name)."""
    if not USERNAME.fullmatch(username):
        raise bad_request("A username is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.")
    if role not in ROLES:
        raise bad_request("'role' must be 'admin' or 'user'.")
    check_password_rules(password)
    if db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none():
        raise AppError("conflict", f"A user named '{username}' already exists.")
    release_connection()  # hashing takes ~160 ms in a thread
    user = User(username=username, role=role, password_hash=hash_password(password))
    db.session.add(user)
    record("user_create", username=actor, detail={"user": username, "role": role, "source": source},
           commit=False)
    db.session.commit()
    return user


def set_password(username: str, password: str) -> bool:
    """The CLI's reset: a new password ends every login of the user. False when there is no such user."""
    check_password_rules(password)
    password_hash = hash_password(password)  # first: hashing is a wait
    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
    if user is None:
        return False
    user.password_hash = password_hash
    record("password_change", username=None, detail={"user": username, "source": "cli"}, commit=False)
    revoke_user_logins(user)  # commits the new password, the event and the new login generation at once
    return True


# ---- changes by an admin ------------------------------------------------------------------------

def _changes_from(body: dict) -> dict:
    """The PATCH body's fields, checked: role, disabled, password, totp (only false)."""
    known = {"role", "disabled", "password", "totp"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise bad_request(f"Unknown field(s): {', '.join(unknown)}. A user's role, disabled, password "
                          "and totp (false) can be changed.")
    if not body:
        raise bad_request("Nothing to change: give role, disabled, password or totp.")
    if "role" in body and body["role"] not in ROLES:
        raise bad_request("'role' must be 'admin' or 'user'.")
    if "disabled" in body and not isinstance(body["disabled"], bool):
        raise bad_request("'disabled' must be true or false.")
    if "totp" in body and body["totp"] is not False:
        raise bad_request("'totp' can only be set to false (an admin resets a lost device); "
                          "users turn TOTP on themselves.")
    if "password" in body:
        if not isinstance(body["password"], str) or "\x00" in body["password"]:
            raise bad_request("'password' must be a string.")
        check_password_rules(body["password"])
    return dict(body)


def _enabled_admins_besides(user: User) -> int:
    return db.session.execute(select(func.count()).select_from(User).where(
        User.role == "admin", User.disabled.is_(False), User.id != user.id)).scalar_one()


def _lock_admin_rows() -> None:
    """Serialise every change that could leave no enabled admin, across processes: a write to
    each admin's row first. PostgreSQL then holds those rows until commit and a second such change
    waits and counts what the first left; SQLite holds its one write lock. (Within a process the
    audit lock already serialises them, so a greenlet never blocks the loop in SQLite's busy wait.)"""
    db.session.execute(update(User).where(User.role == "admin").values(role=User.role)
                       .execution_options(synchronize_session=False))


def update_user(actor: User, user_id: str, body: dict) -> tuple[User, list[str]]:
    """Apply an admin's PATCH; returns the user and what changed (audited `user_update`, never the
    password itself). A new password, disabling and demotion end every login of the user; the
    last enabled admin is never demoted or disabled (409 last_admin)."""
    changes = _changes_from(body)
    password_hash = None
    if "password" in changes:
        release_connection()
        password_hash = hash_password(changes["password"])
    release_connection()  # the transaction below starts with the admin rows' lock, not a stale read
    with current_app.extensions["aict"].audit_lock:
        try:
            _lock_admin_rows()
            user = db.session.get(User, user_id, populate_existing=True) if isinstance(user_id, str) else None
            if user is None:
                raise not_found("That user")
            changed, revoke, totp_reset = _apply(user, changes, password_hash)
            if not changed:
                db.session.rollback()
                return user, []
            record("user_update", username=actor.username,
                   detail={"user": user.username, "changed": changed,
                           **({"role": user.role} if "role" in changed else {}),
                           **({"disabled": user.disabled} if "disabled" in changed else {})}, commit=False)
            if totp_reset:
                record("totp_disable", username=actor.username, detail={"user": user.username, "by": "admin"},
                       commit=False)
            if revoke:
                revoke_user_logins(user)  # commits everything above with the new login generation
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    if totp_reset and not revoke:
        # Under REQUIRE_TOTP_FOR_ADMINS an admin without TOTP may not keep a socket: reconnecting asks again.
        current_app.extensions["aict"].connections.disconnect_user(user.id, revoked=False)
    return user, changed


def _apply(user: User, changes: dict, password_hash: str | None) -> tuple[list[str], bool, bool]:
    """Change the loaded user; (changed fields, whether their logins end, whether TOTP was reset)."""
    was_enabled_admin = user.is_admin and not user.disabled
    changed: list[str] = []
    if "role" in changes and changes["role"] != user.role:
        user.role = changes["role"]
        changed.append("role")
    if "disabled" in changes and changes["disabled"] != bool(user.disabled):
        user.disabled = changes["disabled"]
        changed.append("disabled")
    if password_hash is not None:
        user.password_hash = password_hash
        changed.append("password")
    totp_reset = "totp" in changes and (user.totp_secret is not None or user.totp_pending_secret is not None)
    if totp_reset:
        user.totp_secret = user.totp_pending_secret = None
        user.totp_last_step = None
        changed.append("totp")
    if was_enabled_admin and not (user.is_admin and not user.disabled) and _enabled_admins_besides(user) == 0:
        raise AppError("last_admin", f"{user.username} is the last enabled administrator: make another "
                                     "user an administrator first.")
    revoke = "password" in changed or (user.disabled and "disabled" in changed) or \
        ("role" in changed and user.role != "admin")
    return changed, revoke, totp_reset


# ---- the caller's own password ------------------------------------------------------------------

def change_own_password(user: User, login_id: str, current: str, new: str) -> None:
    """The caller's new password: every other login of theirs ends (audited `password_change`).
    A wrong current password is 401 invalid_credentials."""
    check_password_rules(new)
    release_connection()
    if not password_matches(user.password_hash, current):
        raise AppError("invalid_credentials", "The current password is wrong.")
    password_hash = hash_password(new)
    user = db.session.get(User, user.id, populate_existing=True)
    user.password_hash = password_hash
    record("password_change", username=user.username, detail={"user": user.username, "source": "self"},
           commit=False)
    end_other_logins(user, login_id)


def end_other_logins(user: User, keep_login_id: str) -> None:
    """End every login of the user but `keep_login_id` (commits pending changes with it); other
    processes close those logins' sockets within a sweep (aict/realtime/connections.py).
    A caller whose login has no record (cannot happen since logins are recorded) ends them all."""
    kept = db.session.get(Login, keep_login_id)
    if kept is None or kept.user_id != user.id:
        revoke_user_logins(user)
        return
    db.session.execute(update(Login).where(Login.user_id == user.id, Login.id != keep_login_id,
                                           Login.revoked_at.is_(None)).values(revoked_at=utcnow()))
    db.session.commit()
    connections = current_app.extensions["aict"].connections
    connections.disconnect_user(user.id, keep_login=keep_login_id)


# ---- the first admin ----------------------------------------------------------------------------

def ensure_first_admin(settings: Settings) -> tuple[str, str | None] | None:
    """Create the first admin unless an admin exists: (username, generated password or None), or None."""
    if db.session.execute(db.select(User).filter_by(role="admin")).first():
        return None
    username = settings.ADMIN_USER or "admin"
    password = settings.ADMIN_PASSWORD
    generated = None if password else secrets.token_urlsafe(12)
    create_user(username, password or generated, "admin", source="setup")
    return username, generated


def first_admin_message(created: tuple[str, str | None] | None) -> str:
    """What ensure_first_admin did, for the console; a generated password is shown this once."""
    if created is None:
        return ("An admin account exists already; log in with it. A lost password is reset with "
                "`.venv/bin/flask --app wsgi aict set-password <username>`.")
    username, generated_password = created
    if generated_password is None:
        return f"First admin '{username}' created from AICT_ADMIN_USER/AICT_ADMIN_PASSWORD."
    rule = "=" * 64
    return (f"\n{rule}\n  First admin created.  username: {username}\n"
            f"                        password: {generated_password}\n"
            f"  This password is shown once. Keep it somewhere safe.\n{rule}\n")
