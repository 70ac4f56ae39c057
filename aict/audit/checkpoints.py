"""Checkpoints of the audit chain's head, kept outside the database.

A MAC chain shows any event altered, removed or slipped in, but not the newest ones cut off:
what is left is still a valid chain. So the head (the newest event's id and MAC) is appended to a
file every AUDIT_CHECKPOINT_SECONDS when it moved, and logged (a line syslog or journald keeps);
verification checks that every checkpoint is still in the chain. Events newer than the last
checkpoint can be cut off unseen: at most AUDIT_CHECKPOINT_SECONDS' worth, and a clean stop
checkpoints too.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from aict.errors import AppError
from aict.models.base import iso, utcnow

log = logging.getLogger("aict.audit")


def append(path: Path, event_id: int, mac: str, reader_gid: int | None = None) -> None:
    """Append one checkpoint line (O_APPEND: whole lines, whatever the number of processes). The
    terminal host writes it; with `reader_gid` (the web processes' group, when they run as another
    account) that group may read it, for GET /api/audit/verify."""
    line = json.dumps({"id": event_id, "hash": mac, "at": iso(utcnow())}) + "\n"
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


def read(path: Path) -> dict[int, str]:
    """Every checkpoint: event id -> the MAC first written for it (no file: none). Each must still be
    in the chain: a checkpoint of a head taken after a cut (new events on the reused ids) does not
    hide the older checkpoint of the genuine event."""
    found: dict[int, str] = {}
    try:
        with path.open() as lines:
            for line in lines:
                try:
                    entry = json.loads(line)
                    event_id, mac = int(entry["id"]), str(entry["hash"])
                except (ValueError, KeyError, TypeError):
                    continue  # a torn or foreign line says nothing
                found.setdefault(event_id, mac)
    except FileNotFoundError:
        pass
    except PermissionError:
        raise AppError("checkpoints_unreadable", f"This process cannot read the audit checkpoints in {path}: "
                       "it must be readable by the web processes' account (the terminal host makes it so "
                       "when AICT_WEB_ACCOUNT is set).", status=500) from None
    return found
