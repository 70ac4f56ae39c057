"""`denied` audit events: every 403 and every refused socket connection (contract v1.1), each kind
of refusal of each client audited at most once a minute, with a count of those left out."""

from __future__ import annotations

import logging

from flask import has_request_context, request

from aict.audit.budget import AuditBudget
from aict.audit.events import record

log = logging.getLogger(__name__)
_budget = AuditBudget()


def record_denial(what: str, *, username: str | None = None, workspace_id: str | None = None,
                  session_id: str | None = None, **detail) -> None:
    """Audit one refusal (rate-limited per client and kind). Never raises: the refusal is the
    answer, and the audit trail's trouble must not turn it into a 500."""
    ip = request.remote_addr if has_request_context() else None
    where = detail.get("rule") or detail.get("event") or ""
    left_out = _budget.take(f"{username or ip}|{what}|{where}|{detail.get('code', '')}")
    if left_out is None:
        return
    if left_out:
        detail["left_out"] = left_out  # refusals of this kind by this client since the last event
    try:
        record("denied", username=username, ip=ip, workspace_id=workspace_id, session_id=session_id,
               detail={"what": what, **detail})
    except Exception:
        log.exception("auditing a refusal failed")
