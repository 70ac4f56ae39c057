"""The audit log for admins: GET /api/audit (filtered pages), /export (JSON lines or CSV, streamed),
/verify (the chain and its checkpoints)."""

from flask import Blueprint, Response, request, stream_with_context
from flask_jwt_extended import current_user, jwt_required

from aict.errors import bad_request, forbidden
from aict.services import audit_log

bp = Blueprint("audit", __name__)

_EXPORT_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


def _require_admin() -> None:
    if not current_user.is_admin:
        raise forbidden("Only administrators read the audit log.")


@bp.get("/audit")
@jwt_required()
def list_events():
    _require_admin()
    return audit_log.page(audit_log.AuditFilter.from_args(request.args), request.args.get("cursor"),
                          request.args.get("limit"))


@bp.get("/audit/export")
@jwt_required()
def export_events():
    _require_admin()
    fmt = request.args.get("format", "jsonl")
    if fmt not in _EXPORT_TYPES:
        raise bad_request("'format' must be 'jsonl' or 'csv'.")
    filters = audit_log.AuditFilter.from_args(request.args)  # a bad filter is a 400 before streaming starts
    lines = stream_with_context(audit_log.export_lines(filters, fmt))
    return Response(lines, mimetype=_EXPORT_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="aict-audit.{fmt}"'})


@bp.get("/audit/verify")
@jwt_required()
def verify():
    _require_admin()
    return audit_log.verify_chain().as_dict()
