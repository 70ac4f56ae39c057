"""Terminal sessions over HTTP: list, inspect, kill; their processes and who watches them."""

from flask import Blueprint, Response, current_app, request, stream_with_context
from flask_jwt_extended import current_user, jwt_required

from aict.audit.events import record as audit
from aict.db_pool import release_connection
from aict.errors import AppError, bad_request, not_found
from aict.recordings.playback import last_seq, recording_text
from aict.services.access import session_for
from aict.services.sessions import MAX_LISTED
from aict.validation import count_arg

bp = Blueprint("sessions", __name__)


def _sessions():
    return current_app.extensions["aict"].sessions


@bp.get("/sessions")
@jwt_required()
def list_sessions():
    args = request.args
    status = args.get("status")
    if status not in (None, "running", "exited"):
        raise bad_request("'status' must be 'running' or 'exited'.")
    limit = _limit(args.get("limit"))
    return _sessions().list_visible(current_user, args.get("workspace_id"), status, command=args.get("command"),
                                    owner=args.get("user") or None, after=args.get("after") or None, limit=limit)


def _limit(raw: str | None) -> int:
    return count_arg(raw, "limit", MAX_LISTED, MAX_LISTED, clamp=True)


@bp.get("/sessions/<session_id>")
@jwt_required()
def get_session(session_id: str):
    record, _ = session_for(current_user, session_id)
    return _sessions().as_dict(record)


@bp.delete("/sessions/<session_id>")
@jwt_required()
def kill_session(session_id: str):
    record, _ = session_for(current_user, session_id, "operator")
    _sessions().kill(record.id, by=current_user.username, wait=True)
    return "", 204


@bp.get("/sessions/<session_id>/recording")
@jwt_required()
def get_recording(session_id: str):
    """The session's output as asciicast v2, as far as it has been written (also while it runs),
    streamed a page of rows at a time: a running terminal's later output is not waited for."""
    record, _ = session_for(current_user, session_id)
    release_connection()  # the flush waits for the host's recorder, which writes in a thread
    _sessions().flush_recording(record.id)
    until = last_seq(record.id)
    release_connection()  # no connection held while the client reads: each page takes one and gives it back
    if until is None:
        raise AppError("not_found", "This session's recording is gone: recordings are deleted "
                       "RECORDING_RETENTION_DAYS after their terminal ended.", status=404)
    return Response(stream_with_context(recording_text(record.id, until)), mimetype="application/x-asciicast",
                    headers={"Content-Disposition": f'attachment; filename="aict-{record.id}.cast"'})


@bp.get("/sessions/<session_id>/processes")
@jwt_required()
def get_processes(session_id: str):
    """The terminal's process tree (local terminals; [] for SSH ones and ended ones)."""
    row, _ = session_for(current_user, session_id)
    return _sessions().processes(row.id)


@bp.get("/sessions/<session_id>/viewers")
@jwt_required()
def get_viewers(session_id: str):
    """The sockets attached to the terminal, wherever they are (every web process, every node)."""
    row, _ = session_for(current_user, session_id)
    return _sessions().viewers(row.id)


@bp.delete("/sessions/<session_id>/viewers/<viewer_id>")
@jwt_required()
def detach_viewer(session_id: str, viewer_id: str):
    """The workspace's owner or an admin detaches one attached socket: it gets `error` `detached`."""
    row, _ = session_for(current_user, session_id, "owner")
    if len(viewer_id) > 64:
        raise not_found("That viewer")
    workspace_id, by = row.workspace_id, current_user.username
    detached = _sessions().detach_viewer(row.id, viewer_id)
    audit("viewer_detach", username=by, workspace_id=workspace_id, session_id=session_id,
           detail={"viewer": viewer_id, "viewer_username": detached.get("username"), "access": detached.get("access")})
    return "", 204
