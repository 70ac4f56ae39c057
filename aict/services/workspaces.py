"""Workspace service: creation and updates with the contract's rules on who may create what."""

from __future__ import annotations

import re
from pathlib import Path

from aict.config import current_settings
from aict.errors import AppError, bad_request, forbidden
from aict.extensions import db
from aict.models import User, Workspace
from aict.models.base import new_id
from aict.services.shell_accounts import assigned_account, workspace_root_of
from aict.terminals.accounts import HOME_DIRS
from aict.terminals.integration import INSTALLED_DIR
from aict.validation import name_field, text_field

# Directories of the server's own under the workspace root: shells' homes, and the shell integration.
RESERVED = (HOME_DIRS, INSTALLED_DIR)


def workspace_root() -> Path:
    return workspace_root_of(current_settings())


def may_create_local(user: User) -> bool:
    return user.is_admin or bool(current_settings().USER_LOCAL_WORKSPACES)


def may_create_ssh(user: User) -> bool:
    """Admins; users when some host is allowed them (SSH_ALLOWED_HOSTS; the host named is checked then)."""
    return user.is_admin or any(str(pattern).strip() for pattern in current_settings().SSH_ALLOWED_HOSTS)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "workspace"


def _name(body: dict) -> str:
    name = name_field(body, "name", max_len=128)
    if not name:
        raise bad_request("'name' must be a non-empty string.")
    return name


def _own_directory(root: Path, name: str, workspace_id: str, current: str | None) -> Path:
    """The workspace's own directory: <slug>-<first 8 of its id>, or with the whole id should that
    name be taken (a deleted workspace's directory stays). Never one another workspace has."""
    short, whole = (root / f"{_slug(name)}-{suffix}" for suffix in (workspace_id[:8], workspace_id))
    if current in (str(short), str(whole)):
        return Path(current)
    try:
        short.mkdir(parents=True)
        return short
    except FileExistsError:
        whole.mkdir(parents=True, exist_ok=True)
        return whole


def _local_path(user: User, body: dict, name: str, workspace_id: str, current: str | None = None) -> str:
    root = workspace_root()
    raw = text_field(body, "path", required=False, max_len=1024)
    if raw is None:
        return str(_own_directory(root, name, workspace_id, current))
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = root / path
    path = path.resolve()
    if not user.is_admin and not path.is_relative_to(root):
        raise forbidden(f"Your workspaces must live under {root}.")
    for kept in RESERVED:  # handed to a shell account, it would reach other accounts' homes or hooks
        if path.is_relative_to(root / kept):
            raise bad_request(f"{root / kept} is the server's own: a workspace cannot live there.")
    if not path.is_relative_to(root) and not path.is_dir():
        raise bad_request(f"The directory {path} does not exist.")
    if not user.is_admin:
        _refuse_anothers_directory(user, path, root, workspace_id)
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def _refuse_anothers_directory(user: User, path: Path, root: Path, workspace_id: str) -> None:
    """A user's workspace takes a directory of its own: not the root that holds everyone's, and not
    one another user's workspace is in, holds or lies in (its shells would make it theirs, or read
    it through a shared shell account). Administrators may place workspaces anywhere."""
    if path == root:
        raise forbidden(f"{root} holds every workspace: choose a directory inside it.")
    others = db.session.execute(
        db.select(Workspace.path).where(Workspace.kind == "local", Workspace.id != workspace_id,
                                        Workspace.owner_id != user.id, Workspace.path.is_not(None))).scalars()
    for other in others:
        taken = Path(other)
        if path == taken or path.is_relative_to(taken) or taken.is_relative_to(path):
            raise AppError("conflict", f"{path} is another workspace's directory (or holds or lies in one): "
                                       "choose a directory of your own.")


def create_workspace(user: User, body: dict) -> Workspace:
    kind = body.get("kind", "local")
    name = _name(body)
    if kind == "local":
        if not may_create_local(user):
            raise forbidden("Only administrators create local workspaces: their shells run on this server.")
        _, account = assigned_account(user, body, "local")
        workspace_id = new_id()
        workspace = Workspace(id=workspace_id, name=name, kind="local", owner_id=user.id,
                              path=_local_path(user, body, name, workspace_id), shell_account=account)
    elif kind == "ssh":
        from aict.services.ssh_workspaces import new_ssh_workspace

        assigned_account(user, body, "ssh")
        workspace = new_ssh_workspace(user, name, body)
    else:
        raise bad_request("'kind' must be 'local' or 'ssh'.")
    db.session.add(workspace)
    db.session.commit()
    return workspace


def update_workspace(user: User, workspace: Workspace, body: dict) -> set[str]:
    """Apply a PATCH; returns the names of the fields that changed."""
    changed = set()
    name = _name(body) if "name" in body else None
    given, account = assigned_account(user, body, workspace.kind)  # checked before anything changes
    if workspace.kind == "ssh":  # first: checking a new host resolves it, which may not happen mid-change
        from aict.services.ssh_workspaces import update_ssh_workspace

        changed |= update_ssh_workspace(user, workspace, body)
    elif "path" in body:
        workspace.path = _local_path(user, body, name or workspace.name, workspace.id, workspace.path)
        changed.add("path")
    if given and account != workspace.shell_account:
        workspace.shell_account = account
        changed.add("shell_account")
    if name is not None:
        workspace.name = name
        changed.add("name")
    db.session.commit()
    return changed
