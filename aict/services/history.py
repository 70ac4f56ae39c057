"""Reading the command history (aict.services.command_history writes it)."""

from __future__ import annotations

from aict.errors import bad_request
from aict.extensions import db
from aict.models import Command
from aict.validation import count_arg

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_QUERY = 1024
SESSION_MAX = 10_000  # a session's commands answered at most (oldest first)


def history_limit(raw: str | None) -> int:
    return count_arg(raw, "limit", DEFAULT_LIMIT, MAX_LIMIT)


def matching(query: str | None):
    """The condition "the command contains `query`, whatever its case" (None: any command)."""
    if query is None or query == "":
        return None
    if len(query) > MAX_QUERY:
        raise bad_request(f"The search text is longer than {MAX_QUERY} characters.")
    return db.func.lower(Command.command).contains(query.lower(), autoescape=True)


def workspace_history(workspace_id: str, query: str | None, limit: int) -> list[dict]:
    """The workspace's commands, newest first, those containing `query` only."""
    select = db.select(Command).where(Command.workspace_id == workspace_id)
    condition = matching(query)
    if condition is not None:
        select = select.where(condition)
    rows = db.session.execute(select.order_by(Command.at.desc(), Command.id.desc()).limit(limit)).scalars()
    return [row.to_dict() for row in rows]


def session_commands(session_id: str) -> list[dict]:
    """The session's commands, oldest first."""
    rows = db.session.execute(db.select(Command).where(Command.session_id == session_id)
                              .order_by(Command.at, Command.id).limit(SESSION_MAX)).scalars()
    return [row.to_dict() for row in rows]


def sessions_running(query: str):
    """The ids of sessions that ran a command containing `query` (a subquery)."""
    return db.select(Command.session_id).where(matching(query)).distinct()
