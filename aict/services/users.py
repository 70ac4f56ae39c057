"""User service functions shared by the API and the CLI."""

import re
import secrets

from aict.auth.passwords import hash_password
from aict.config import Settings
from aict.db_pool import release_connection
from aict.errors import AppError, bad_request
from aict.extensions import db
from aict.models import User

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_PASSWORD = 8


def create_user(username: str, password: str, role: str = "user") -> User:
    """Create a user; AppError (bad_request, or conflict for a taken name) when it cannot be done."""
    if not USERNAME.match(username):
        raise bad_request("A username is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.")
    if len(password) < MIN_PASSWORD:
        raise bad_request(f"A password needs at least {MIN_PASSWORD} characters.")
    if db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none():
        raise AppError("conflict", f"A user named '{username}' already exists.")
    release_connection()  # hashing takes ~160 ms in a thread
    user = User(username=username, role=role, password_hash=hash_password(password))
    db.session.add(user)
    db.session.commit()
    return user


def set_password(username: str, password: str) -> bool:
    """Give a user a new password; False when there is no such user."""
    password_hash = hash_password(password)  # first: hashing is a wait
    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
    if user is None:
        return False
    user.password_hash = password_hash
    db.session.commit()
    return True


def ensure_first_admin(settings: Settings) -> tuple[str, str | None] | None:
    """Create the first admin unless an admin exists: (username, generated password or None), or None."""
    if db.session.execute(db.select(User).filter_by(role="admin")).first():
        return None
    username = settings.ADMIN_USER or "admin"
    password = settings.ADMIN_PASSWORD
    generated = None if password else secrets.token_urlsafe(12)
    create_user(username, password or generated, "admin")
    return username, generated


def first_admin_message(created: tuple[str, str | None] | None) -> str:
    """What ensure_first_admin did, for the console; a generated password is shown this once."""
    if created is None:
        return "An admin account exists already; log in with it."
    username, generated_password = created
    if generated_password is None:
        return f"First admin '{username}' created from AICT_ADMIN_USER/AICT_ADMIN_PASSWORD."
    rule = "=" * 64
    return (f"\n{rule}\n  First admin created.  username: {username}\n"
            f"                        password: {generated_password}\n"
            f"  This password is shown once. Keep it somewhere safe.\n{rule}\n")
