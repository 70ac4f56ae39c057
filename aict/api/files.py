"""A workspace's files: list a directory, download a file, upload one (docs/api.md, *Files*).

Operators, owners and admins (not viewers). Every byte is streamed in chunks: an upload is read
from the request as it arrives and written on as it is read, a download is sent as the file is
read, and each one's sha256 is computed on the way and audited (`file_upload`, `file_download`).
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from flask import Blueprint, Response, current_app, request, stream_with_context
from flask_jwt_extended import current_user, jwt_required
from werkzeug.exceptions import ClientDisconnected

from aict.errors import AppError, bad_request
from aict.services.access import workspace_for
from aict.services.workspace_files import files_of, record_transfer

bp = Blueprint("files", __name__)

MAX_PATH_CHARS = 4096
UPLOAD_CHUNK = 256 * 1024
OVERWRITE = {"0": False, "false": False, "": False, "1": True, "true": True}


@bp.after_request
def _close_after_a_refused_upload(response: Response) -> Response:
    """An upload refused before its body was read (409, 413, 403...) leaves the rest of the body on the
    connection: it is closed after the answer, so that the client sends its next request on a new one
    (a browser that stopped sending the body at the early answer would otherwise see its next request
    read as this one's body)."""
    if request.method == "PUT" and response.status_code >= 400:
        response.headers["Connection"] = "close"
    return response


def _settings():
    return current_app.extensions["aict"].settings


def _path() -> str:
    path = request.args.get("path", "")
    if len(path) > MAX_PATH_CHARS:
        raise bad_request(f"'path' may hold at most {MAX_PATH_CHARS} characters.")
    if "\x00" in path:
        raise bad_request("'path' may not contain a NUL character.")
    return path


def too_large(limit: int) -> AppError:
    return AppError("too_large", f"The file is larger than this server accepts ({limit} bytes, MAX_UPLOAD_BYTES).",
                    limit=limit)


@bp.get("/workspaces/<workspace_id>/files")
@jwt_required()
def list_files(workspace_id: str):
    workspace, _ = workspace_for(current_user, workspace_id, "operator")
    path = _path()
    files = files_of(current_user, workspace, _settings())
    try:
        listing = files.list(path)
    finally:
        files.close()
    if workspace.kind == "ssh":
        _shown(workspace.id, listing["path"])
    return {**listing, "max_upload_bytes": _settings().MAX_UPLOAD_BYTES}


def _shown(workspace_id: str, folder: str) -> None:
    """Tell this node's terminal host which folder a Files panel shows: a watched SSH workspace's
    poll then lists it every time (aict/watching/ssh_poll.py). Nothing when no host is linked."""
    local = getattr(current_app.extensions["aict"].terminals, "local", None)
    if local is not None and folder:
        local.notify(op="files_shown", workspace=workspace_id, path=folder)


@bp.get("/workspaces/<workspace_id>/files/content")
@jwt_required()
def download(workspace_id: str):
    workspace, _ = workspace_for(current_user, workspace_id, "operator")
    user = current_user._get_current_object()
    files = files_of(user, workspace, _settings())
    try:
        source = files.open_read(_path())
    except BaseException:
        files.close()
        raise

    def stream():
        digest, sent, complete = hashlib.sha256(), 0, False
        try:
            for chunk in source.chunks():
                digest.update(chunk)
                sent += len(chunk)
                yield chunk
            complete = True
        finally:  # also when the browser cancels: what left is audited, with how much
            source.close()
            files.close()
            extra = {} if complete else {"complete": False}
            record_transfer("file_download", user, workspace, source.path, sent, digest.hexdigest(), **extra)

    name = source.path.rsplit("/", 1)[-1] or "download"
    response = Response(stream_with_context(stream()), mimetype="application/octet-stream", direct_passthrough=True,
                        headers={"Content-Length": str(source.size), "Content-Disposition": _attachment(name),
                                 "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})
    response.call_on_close(source.close)  # a response never iterated (HEAD) lets go of the worker too
    response.call_on_close(files.close)
    return response


def _attachment(name: str) -> str:
    """Content-Disposition for any file name: an ASCII fallback and the exact name (RFC 6266)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.put("/workspaces/<workspace_id>/files/content")
@jwt_required()
def upload(workspace_id: str):
    workspace, _ = workspace_for(current_user, workspace_id, "operator")
    path = _path()
    overwrite = OVERWRITE.get(request.args.get("overwrite", "0").lower())
    if overwrite is None:
        raise bad_request("'overwrite' must be 0 or 1.")
    limit = _settings().MAX_UPLOAD_BYTES
    expected = request.content_length
    if expected is not None and expected > limit:
        raise too_large(limit)
    user = current_user._get_current_object()
    files = files_of(user, workspace, _settings())
    try:
        target = files.open_write(path, overwrite)
        digest, size = hashlib.sha256(), 0
        # gevent's server ends the body itself (Content-Length or chunked: wsgi.input_terminated); it is
        # counted here against the upload's limit, not the API's 1 MiB for JSON bodies.
        stream = request.environ["wsgi.input"]
        try:
            while chunk := stream.read(UPLOAD_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                digest.update(chunk)
                target.write(chunk)
            if expected is not None and size != expected:
                raise ClientDisconnected()
        except (ClientDisconnected, OSError, ValueError):  # cut off: the worker removes what it got
            target.abort()
            raise bad_request("The upload was cut off before its end; nothing was kept.") from None
        except BaseException:
            target.abort()
            raise
        result = target.finish()
    finally:
        files.close()
    sha256 = digest.hexdigest()
    record_transfer("file_upload", user, workspace, result["path"], size, sha256)
    return {"path": result["path"], "size": size, "sha256": sha256}, 201
