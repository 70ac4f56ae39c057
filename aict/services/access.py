"""Who may do what: the contract's per-workspace rules in one place."""

from __future__ import annotations

from aict.errors import forbidden, not_found
from aict.extensions import db
from aict.models import TerminalSession, User, Workspace, WorkspaceMember
from aict.services.shell_accounts import check_shell_use

# Ordered from least to most: each level may do everything the ones before it may.
LEVELS = ("viewer", "operator", "owner", "admin")


def access_level(user: User, workspace: Workspace) -> str | None:
    """The caller's level on a workspace, or None when it is invisible to them."""
    if user.is_admin:
        return "admin"
    if workspace.owner_id == user.id:
        return "owner"
    member = db.session.execute(
        db.select(WorkspaceMember.access).filter_by(workspace_id=workspace.id, user_id=user.id)
    ).scalar_one_or_none()
    return member


def plausible_id(value: object) -> bool:
    """Whether `value` could be a record's id (new_id: 32 hex digits); anything else is unknown
    without asking the database, which cannot even hold some strings (a lone surrogate)."""
    return isinstance(value, str) and len(value) <= MAX_ID_LENGTH and value.isascii()


MAX_ID_LENGTH = 64


def at_least(level: str | None, needed: str) -> bool:
    return level is not None and LEVELS.index(level) >= LEVELS.index(needed)


def workspace_for(user: User, workspace_id: object, needed: str = "viewer") -> tuple[Workspace, str]:
    """Load a workspace the user may see; not_found if invisible, forbidden if too little access.
    Operating it (a new terminal) is refused a non-admin when its shells could read the server's
    secrets (no_shell_account: aict/services/shell_accounts.py)."""
    workspace = db.session.get(Workspace, workspace_id) if plausible_id(workspace_id) else None
    level = access_level(user, workspace) if workspace else None
    if level is None:
        raise not_found("That workspace")
    if not at_least(level, needed):
        raise forbidden(f"This needs {needed} access to the workspace; you have {level} access.")
    if needed == "operator":
        check_shell_use(user, workspace)
    return workspace, level


def visible_workspaces(user: User) -> list[Workspace]:
    query = db.select(Workspace).order_by(Workspace.created_at)
    if not user.is_admin:
        member_of = db.select(WorkspaceMember.workspace_id).filter_by(user_id=user.id)
        query = query.where((Workspace.owner_id == user.id) | Workspace.id.in_(member_of))
    return list(db.session.execute(query).scalars())


def session_for(user: User, session_id: object, needed: str = "viewer") -> tuple[TerminalSession, str]:
    """Load a session record through its workspace's rules (same not_found/forbidden split)."""
    record = db.session.get(TerminalSession, session_id) if plausible_id(session_id) else None
    if record is None:
        raise not_found("That session")
    workspace = db.session.get(Workspace, record.workspace_id)
    level = "admin" if user.is_admin else (access_level(user, workspace) if workspace else None)
    if level is None:
        raise not_found("That session")
    if not at_least(level, needed):
        raise forbidden(f"This needs {needed} access to the workspace; you have {level} access.")
    if workspace is not None:  # a terminal of a shell that could read the server's secrets: admins only
        check_shell_use(user, workspace)
    return record, level


def wire_access(level: str) -> str:
    """The contract's attach `access`: viewers watch, everyone else operates."""
    return "viewer" if level == "viewer" else "operator"
