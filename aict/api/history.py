"""Command history over HTTP: a workspace's, searchable, and one session's."""

from flask import Blueprint, current_app, request
from flask_jwt_extended import current_user, jwt_required

from aict.services.access import session_for, workspace_for
from aict.services.history import history_limit, session_commands, workspace_history

bp = Blueprint("history", __name__)


def _flush() -> None:
    """Commands are stored every half second by the terminal host; a reader gets them all at once."""
    current_app.extensions["aict"].sessions.flush_history()


@bp.get("/workspaces/<workspace_id>/history")
@jwt_required()
def get_history(workspace_id: str):
    workspace, _ = workspace_for(current_user, workspace_id)
    query, limit = request.args.get("q"), history_limit(request.args.get("limit"))
    _flush()
    return workspace_history(workspace.id, query, limit)


@bp.get("/sessions/<session_id>/commands")
@jwt_required()
def get_session_commands(session_id: str):
    record, _ = session_for(current_user, session_id)
    _flush()
    return session_commands(record.id)
