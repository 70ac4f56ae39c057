"""Checkpoints of the audit chain's head, kept outside the database.

A MAC chain shows any event altered, removed or slipped in, but not the newest ones cut off:
what is left is still a valid chain. So the head (the newest event's id and MAC) is appended to a
file every AUDIT_CHECKPOINT_SECONDS when it moved, and logged (a line syslog or journald keeps);
verification checks that every checkpoint is still in the chain. Events newer than the last
checkpoint can be cut off unseen: at most AUDIT_CHECKPOINT_SECONDS' worth, and a clean stop
checkpoints too.

Each line names the database it checkpoints (a fingerprint of its URL, never its password): an
instance folder used with SQLite and then PostgreSQL holds two chains, and each is checked against
its own checkpoints only (checked against the other's, both read "truncated"). Not the chain's first
event: a table wiped and written anew would then have no checkpoints, and the wipe would go unseen.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from aict.errors import AppError
from aict.models.base import iso, utcnow

log = logging.getLogger("aict.audit")


def database_fingerprint(url: str) -> str:
    """Which database a checkpoint is of: its URL without the password (rotating it changes nothing), hashed."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        parsed = parsed.set(database=os.path.realpath(parsed.database))  # a relative instance folder, a symlink
    shown = parsed.render_as_string(hide_password=True)  # the password as ***, whatever it is
    return hashlib.sha256(shown.encode()).hexdigest()[:16]


def append(path: Path, event_id: int, mac: str, reader_gid: int | None = None, database: str | None = None) -> None:
    """Append one checkpoint line (O_APPEND: whole lines, whatever the number of processes) of the
    database `database` (database_fingerprint). The terminal host writes it; with `reader_gid` (the
    web processes' group, when they run as another account) that group may read it, for GET
    /api/audit/verify."""
    entry = {"id": event_id, "hash": mac, "at": iso(utcnow())}
    if database is not None:
        entry["db"] = database
    line = json.dumps(entry) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if reader_gid is not None:
            info = os.fstat(fd)
            if info.st_gid != reader_gid or info.st_mode & 0o777 != 0o640:
                os.fchown(fd, -1, reader_gid)
                os.fchmod(fd, 0o640)
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    log.info("audit checkpoint: event %d, chain head %s", event_id, mac)


def read(path: Path, database: str | None = None) -> dict[int, str]:
    """Every checkpoint of `database` (database_fingerprint; lines written before checkpoints named
    their database count for any): event id -> the MAC first written for it (no file: none). Each
    must still be in the chain: a checkpoint of a head taken after a cut (new events on the reused
    ids) does not hide the older checkpoint of the genuine event."""
    found: dict[int, str] = {}
    try:
        with path.open() as lines:
            for line in lines:
                try:
                    entry = json.loads(line)
                    event_id, mac = int(entry["id"]), str(entry["hash"])
                    of = entry.get("db")
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue  # a torn or foreign line says nothing
                if database is not None and of is not None and of != database:
                    continue  # another database's chain
                found.setdefault(event_id, mac)
    except FileNotFoundError:
        pass
    except PermissionError:
        raise AppError("checkpoints_unreadable", f"This process cannot read the audit checkpoints in {path}: "
                       "it must be readable by the web processes' account (the terminal host makes it so "
                       "when AICT_WEB_ACCOUNT is set).", status=500) from None
    return found
