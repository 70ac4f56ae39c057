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

from aict.models.base import iso, utcnow

log = logging.getLogger("aict.audit")


def append(path: Path, event_id: int, mac: str) -> None:
    """Append one checkpoint line (O_APPEND: whole lines, whatever the number of processes)."""
    line = json.dumps({"id": event_id, "hash": mac, "at": iso(utcnow())}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
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
    return found
