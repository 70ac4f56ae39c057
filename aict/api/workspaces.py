"""Workspaces and their members."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_jwt_extended import current_user, jwt_required

from aict.api.validation import json_body
from aict.audit.events import record
from aict.errors import AppError, bad_request, not_found
from aict.extensions import db
from aict.models import User, WorkspaceMember
from aict.models.workspaces import ACCESS_LEVELS
from aict.services.access import visible_workspaces, workspace_for
from aict.services.shell_accounts import check_new_member, describe
from aict.services.workspaces import create_workspace, update_workspace
from aict.validation import text_field

bp = Blueprint("workspaces", __name__)


@bp.get("/workspaces")
@jwt_required()
def list_workspaces():
    return [describe(w) for w in visible_workspaces(current_user)]


@bp.post("/workspaces")
@jwt_required()
def add_workspace():
    workspace = create_workspace(current_user, json_body())
    record("workspace_create", username=current_user.username, workspace_id=workspace.id,
           detail={"name": workspace.name, "kind": workspace.kind})
    return describe(workspace), 201


@bp.get("/workspaces/<workspace_id>")
@jwt_required()
def get_workspace(workspace_id: str):
    workspace, _ = workspace_for(current_user, workspace_id)
    return describe(workspace)


@bp.patch("/workspaces/<workspace_id>")
@jwt_required()
def patch_workspace(workspace_id: str):
    workspace, _ = workspace_for(current_user, workspace_id, "owner")
    changed = update_workspace(current_user, workspace, json_body())
    record("workspace_update", username=current_user.username, workspace_id=workspace.id,
           detail={"changed": sorted(changed)})
    return describe(workspace)


@bp.delete("/workspaces/<workspace_id>")
@jwt_required()
def delete_workspace(workspace_id: str):
    workspace, _ = workspace_for(current_user, workspace_id, "owner")
    current_app.extensions["aict"].terminals.kill_workspace(workspace.id, by=current_user.username)
    db.session.delete(workspace)
    record("workspace_delete", username=current_user.username, workspace_id=workspace_id,
           detail={"name": workspace.name}, commit=False)
    db.session.commit()
    return "", 204


@bp.get("/workspaces/<workspace_id>/members")
@jwt_required()
def list_members(workspace_id: str):
    workspace, _ = workspace_for(current_user, workspace_id)
    return [{"username": m.user.username, "access": m.access} for m in workspace.members]


@bp.post("/workspaces/<workspace_id>/members")
@jwt_required()
def add_member(workspace_id: str):
    workspace, _ = workspace_for(current_user, workspace_id, "owner")
    body = json_body()
    username = text_field(body, "username", max_len=64)
    access = text_field(body, "access")
    if access not in ACCESS_LEVELS:
        raise bad_request("'access' must be 'operator' or 'viewer'.")
    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
    if user is None:
        raise not_found("That user")
    if user.id == workspace.owner_id:
        raise AppError("conflict", "The owner already has full access to this workspace.")
    check_new_member(user, workspace)
    member = db.session.execute(
        db.select(WorkspaceMember).filter_by(workspace_id=workspace.id, user_id=user.id)
    ).scalar_one_or_none()
    if member is None:
        member = WorkspaceMember(workspace_id=workspace.id, user_id=user.id, access=access)
        db.session.add(member)
    changed = member.id is not None and member.access != access  # an existing member's access
    member.access = access
    record("member_grant", username=current_user.username, workspace_id=workspace.id,
           detail={"member": username, "access": access}, commit=False)
    db.session.commit()
    if changed:  # their live attachments and open pages follow, both ways
        current_app.extensions["aict"].connections.access_changed(user.id, workspace.id, access)
    return {"username": username, "access": access}, 201


@bp.delete("/workspaces/<workspace_id>/members/<username>")
@jwt_required()
def remove_member(workspace_id: str, username: str):
    workspace, _ = workspace_for(current_user, workspace_id, "owner")
    member = db.session.execute(
        db.select(WorkspaceMember).join(User).where(
            WorkspaceMember.workspace_id == workspace.id, User.username == username)
    ).scalar_one_or_none()
    if member is None:
        raise not_found("That member")
    user_id = member.user_id
    db.session.delete(member)
    record("member_revoke", username=current_user.username, workspace_id=workspace.id,
           detail={"member": username}, commit=False)
    db.session.commit()
    current_app.extensions["aict"].connections.access_changed(user_id, workspace.id, None)
    return "", 204
