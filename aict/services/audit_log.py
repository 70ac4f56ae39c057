"""The audit log as admins review it: filtered pages, exports of any size, chain verification and
checkpoints. Reads in pages by id, giving the connection back between pages, so that a long export
or verification never holds one (aict/db_pool.py)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from aict.audit import checkpoints
from aict.audit.chain import Verdict, verify
from aict.db_pool import release_connection
from aict.errors import bad_request
from aict.extensions import db
from aict.models import AuditEvent
from aict.validation import count_arg, escape_unseen, json_unseen_escaped, time_arg

PAGE = 1000
MAX_LIMIT = 1000
CSV_COLUMNS = ("id", "at", "type", "username", "ip", "workspace_id", "session_id", "detail", "hash")
# A cell a spreadsheet would run as a formula (a failed login's username is whatever was typed).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilter:
    username: str | None = None
    workspace_id: str | None = None
    type: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    @classmethod
    def from_args(cls, args) -> AuditFilter:
        return cls(username=args.get("user") or None, workspace_id=args.get("workspace_id") or None,
                   type=args.get("type") or None, since=time_arg(args, "since"), until=time_arg(args, "until"))

    def apply(self, query):
        if self.username is not None:
            query = query.where(AuditEvent.username == self.username)
        if self.workspace_id is not None:
            query = query.where(AuditEvent.workspace_id == self.workspace_id)
        if self.type is not None:
            query = query.where(AuditEvent.type == self.type)
        if self.since is not None:
            query = query.where(AuditEvent.at >= self.since)
        if self.until is not None:
            query = query.where(AuditEvent.at < self.until)
        return query


def _cursor(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise bad_request("'cursor' must be the next_cursor of a previous page.")
    return int(raw)


def _limit(raw: str | None) -> int:
    return count_arg(raw, "limit", 100, MAX_LIMIT, clamp=True)


def page(filters: AuditFilter, cursor: str | None, limit: str | None) -> dict:
    """Newest first: up to `limit` events older than the cursor, and the cursor of the next page."""
    before, size = _cursor(cursor), _limit(limit)
    query = filters.apply(db.select(AuditEvent))
    if before is not None:
        query = query.where(AuditEvent.id < before)
    events = db.session.execute(query.order_by(AuditEvent.id.desc()).limit(size + 1)).scalars().all()
    more = len(events) > size
    events = events[:size]
    return {"events": [e.to_dict() for e in events], "next_cursor": str(events[-1].id) if more else None}


def _oldest_first(filters: AuditFilter) -> Iterator[AuditEvent]:
    after = 0
    while True:
        query = filters.apply(db.select(AuditEvent)).where(AuditEvent.id > after)
        events = db.session.execute(query.order_by(AuditEvent.id).limit(PAGE)).scalars().all()
        release_connection()
        if not events:
            return
        yield from events
        after = events[-1].id


def export_lines(filters: AuditFilter, fmt: str) -> Iterator[str]:
    """Everything the filters match, oldest first, as JSON lines or CSV rows, a page at a time."""
    if fmt == "jsonl":
        for event in _oldest_first(filters):
            yield json_unseen_escaped(json.dumps(event.to_dict(), ensure_ascii=False)) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for event in _oldest_first(filters):
        body = event.to_dict()
        body["detail"] = json.dumps(body.get("detail") or {}, ensure_ascii=False, sort_keys=True)
        writer.writerow([_cell(body.get(column)) for column in CSV_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cell(value) -> str:
    """A CSV cell: controls shown as escapes, as the audit page shows them (`cat` of the file must not
    repaint the terminal that shows it: a failed login's username is whatever was typed), and never
    a formula. The JSON lines export carries every character exactly."""
    if value is None:
        return ""
    text = escape_unseen(str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


def verify_chain() -> Verdict:
    settings = current_app.config["AICT"]
    database = checkpoints.database_fingerprint(current_app.config["SQLALCHEMY_DATABASE_URI"])
    return verify(_oldest_first(AuditFilter()), settings.audit_key,
                  checkpoints.read(settings.audit_checkpoint_file, database))


def web_group(settings) -> int | None:
    """The group of WEB_ACCOUNT (web processes running as an account of their own), or None."""
    if not settings.WEB_ACCOUNT:
        return None
    import pwd

    return pwd.getpwnam(settings.WEB_ACCOUNT).pw_gid


class Checkpointer:
    """Appends the chain's head to the checkpoint file whenever it moved (runs every few seconds)."""

    def __init__(self, app):
        self.app = app
        self.last: tuple[int, str] | None = None

    def __call__(self) -> None:
        with self.app.app_context():
            head = db.session.execute(db.select(AuditEvent.id, AuditEvent.hash)
                                      .order_by(AuditEvent.id.desc()).limit(1)).first()
            release_connection()
            if head is None or tuple(head) == self.last:
                return
            self.last = (head[0], head[1])
            settings = self.app.config["AICT"]
            database = checkpoints.database_fingerprint(self.app.config["SQLALCHEMY_DATABASE_URI"])
            checkpoints.append(settings.audit_checkpoint_file, head[0], head[1], web_group(settings), database)
