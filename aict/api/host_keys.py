"""Confirming an SSH host's key: the answer to a `host_key_unknown` error."""

from __future__ import annotations

from flask import Blueprint
from flask_jwt_extended import current_user, jwt_required

from aict.api.validation import json_body
from aict.errors import bad_request
from aict.services.access import workspace_for
from aict.services.host_keys import trust_offered_key
from aict.validation import text_field

bp = Blueprint("host_keys", __name__)


@bp.post("/workspaces/<workspace_id>/trust-host-key")
@jwt_required()
def trust_host_key(workspace_id: str):
    workspace, _ = workspace_for(current_user, workspace_id, "owner")
    if workspace.kind != "ssh":
        raise bad_request("Only SSH workspaces have host keys.")
    fingerprint = text_field(json_body(), "fingerprint", max_len=128)
    trust_offered_key(current_user, workspace, fingerprint)
    return workspace.to_dict()
