"""The database and the secrets under the instance folder: readable by the server's account only.

aict.db holds password hashes, the audit trail and every recording; secret_key signs every token;
encryption_key opens every stored SSH credential. The default umask left aict.db world-readable.
Each is created 0600 and, found looser at start (an older install, a copy, a restore), tightened
with a log line saying so. The folder itself is 0711: shell accounts pass through it to their
workspaces (<instance>/workspaces) but cannot list it (aict/terminals/accounts.py).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

PRIVATE = 0o600
FOLDER = 0o711  # others may pass through the instance folder, never list or write it
# Files of the instance folder that hold secrets (the config file may hold the keys themselves).
SECRET_FILES = ("secret_key", "encryption_key", "config.py")
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")  # SQLite gives these its database file's mode


def sqlite_path(database_url: str) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def create_private(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (SQLite takes an empty file as a new database)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    except FileExistsError:
        pass


def tighten(path: Path) -> bool:
    """Make an existing file 0600 if group or others may use it; True when it was looser."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return False
    if mode & 0o077 == 0:
        return False
    path.chmod(mode & 0o700 | PRIVATE)
    log.warning("%s was readable by other accounts (mode %o); it is now %o", path, mode, mode & 0o700 | PRIVATE)
    return True


def _tighten_folder(instance: Path) -> None:
    """Group and others lose read and write on the instance folder (0755 becomes 0711)."""
    try:
        mode = stat.S_IMODE(instance.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o066:
        instance.chmod(mode & ~0o066)
        log.info("%s: others may pass through it, not list it (mode %o, was %o)", instance, mode & ~0o066, mode)


def secure_instance_files(instance: Path, database_url: str) -> None:
    """At start: the SQLite database created private if new, and every secret file tightened."""
    _tighten_folder(instance)
    database = sqlite_path(database_url)
    if database is not None:
        create_private(database)
        for suffix in SQLITE_COMPANIONS:
            tighten(database.with_name(database.name + suffix))
    for name in SECRET_FILES:
        tighten(instance / name)
