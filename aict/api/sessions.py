"""Terminal sessions over HTTP: list, inspect, kill."""

from flask import Blueprint, Response, current_app, request
from flask_jwt_extended import current_user, jwt_required

from aict.db_pool import release_connection
from aict.errors import bad_request
from aict.extensions import db
from aict.models import TerminalSession
from aict.recordings.recorder import recording_lines
from aict.services.access import session_for, visible_workspaces, workspace_for

bp = Blueprint("sessions", __name__)


def list_visible_sessions(user, workspace_id: str | None = None, status: str | None = None) -> list[dict]:
    """Sessions the user may see, newest first; shared by HTTP and `list-terminals`."""
    query = db.select(TerminalSession).order_by(TerminalSession.created_at.desc())
    if workspace_id is not None:
        workspace_for(user, workspace_id)
        query = query.where(TerminalSession.workspace_id == workspace_id)
    elif not user.is_admin:
        query = query.where(TerminalSession.workspace_id.in_([w.id for w in visible_workspaces(user)]))
    if status is not None:
        query = query.where(TerminalSession.status == status)
    return [session_dict(s) for s in db.session.execute(query.limit(1000)).scalars()]


def session_dict(record: TerminalSession) -> dict:
    """The record, with the size of its terminal now: a resize changes the running terminal, and
    its record only when it ends (no database write for every drag of a window's edge)."""
    data = record.to_dict()
    live = current_app.extensions["aict"].sessions.get(record.id)
    if live is not None and live.running:
        data["cols"], data["rows"] = live.cols, live.rows
    return data


@bp.get("/sessions")
@jwt_required()
def list_sessions():
    status = request.args.get("status")
    if status not in (None, "running", "exited"):
        raise bad_request("'status' must be 'running' or 'exited'.")
    return list_visible_sessions(current_user, request.args.get("workspace_id"), status)


@bp.get("/sessions/<session_id>")
@jwt_required()
def get_session(session_id: str):
    record, _ = session_for(current_user, session_id)
    return session_dict(record)


@bp.delete("/sessions/<session_id>")
@jwt_required()
def kill_session(session_id: str):
    record, _ = session_for(current_user, session_id, "operator")
    current_app.extensions["aict"].sessions.kill(record.id, by=current_user.username, wait=True)
    return "", 204


@bp.get("/sessions/<session_id>/recording")
@jwt_required()
def get_recording(session_id: str):
    """The session's output as asciicast v2, as far as it has been written (also while it runs)."""
    record, _ = session_for(current_user, session_id)
    release_connection()  # the flush waits for the recorder's lock and a write in a thread
    current_app.extensions["aict"].sessions.recordings.flush(record.id)
    return Response("".join(recording_lines(record.id)), mimetype="application/x-asciicast",
                    headers={"Content-Disposition": f'attachment; filename="aict-{record.id}.cast"'})
