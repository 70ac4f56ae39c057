"""Which OS account a local workspace's shells run as, and who may use them because of it.

A shell that runs as the server's own account, or as root that no administrator configured as such,
can read the server's secrets: it is for administrators only. Members of such a workspace are refused
(`no_shell_account`) when they open or attach to one of its terminals, are not added as members, and
the workspace's JSON says so (`admins_only`, `shell_note`) so that the page tells them beforehand.
"""

from __future__ import annotations

from pathlib import Path

from aict.config import Settings, current_settings
from aict.errors import AppError, bad_request, forbidden
from aict.models import User, Workspace
from aict.terminals.accounts import ShellAccount, ShellAccountError, ShellChoice, choose_account
from aict.validation import text_field

ACCOUNT_NAME_MAX = 64


def workspace_root_of(settings: Settings) -> Path:
    """Where local workspaces' own directories (and their shells' homes, .homes/) are made."""
    return Path(settings.WORKSPACE_ROOT or Path(settings.INSTANCE_DIR) / "workspaces").resolve()


def shell_choice(workspace: Workspace, settings: Settings) -> ShellChoice:
    """The account the workspace's shells run as (raises ShellAccountError when it does not exist)."""
    return choose_account(workspace.shell_account, settings.SHELL_ACCOUNT, settings.INSTANCE_DIR,
                          settings.ENV == "production", settings.WEB_ACCOUNT)


def startable_account(workspace: Workspace, settings: Settings) -> ShellAccount:
    """The account the workspace's shells (and its watcher) run as; AppError no_shell_account when
    none may start: a missing account, or root or the server's own in production, whoever asks."""
    try:
        choice = shell_choice(workspace, settings)
    except ShellAccountError as exc:
        raise AppError("no_shell_account", str(exc)) from None
    if choice.refusal:
        raise AppError("no_shell_account", choice.refusal)
    return choice.account


def members_refusal(workspace: Workspace, settings: Settings | None = None) -> str | None:
    """Why members (not admins) may not use this workspace's shells; None when they may (or when it is
    no local workspace). A missing account is said when a shell starts, to everyone alike."""
    if workspace.kind != "local":
        return None
    try:
        return shell_choice(workspace, settings or current_settings()).reason
    except ShellAccountError:
        return None


def check_shell_use(user: User, workspace: Workspace) -> None:
    """Refuse a non-admin a terminal of a workspace whose shells could read the server's secrets."""
    if user.is_admin:
        return
    reason = members_refusal(workspace)
    if reason:
        raise AppError("no_shell_account", reason)


def check_new_member(user: User, workspace: Workspace) -> None:
    """A non-admin is not made a member of a workspace whose shells only admins may use."""
    if not user.is_admin:
        reason = members_refusal(workspace)
        if reason:
            raise AppError("no_shell_account", f"{user.username} cannot be added: {reason}")


def describe(workspace: Workspace) -> dict:
    """The workspace's JSON (GET, POST, PATCH alike); a local one says which account its shells run
    as, and whether only administrators may use them."""
    data = workspace.to_dict()
    if workspace.kind != "local":
        return data
    settings = current_settings()
    data["shell_account"] = workspace.shell_account
    try:
        choice = shell_choice(workspace, settings)
    except ShellAccountError as exc:
        data.update(runs_as=workspace.shell_account or settings.SHELL_ACCOUNT, admins_only=False,
                    shell_note=str(exc))
        return data
    data.update(runs_as=choice.account.name, admins_only=not choice.separate)
    if choice.refusal or choice.reason:
        data["shell_note"] = choice.refusal or choice.reason
    return data


def assigned_account(user: User, body: dict, kind: str) -> tuple[bool, str | None]:
    """`shell_account` of a POST or PATCH body: (given, the name or None to use the server's default).
    Admins only, local workspaces only, an existing account; production refuses root and its own."""
    if "shell_account" not in body:
        return False, None
    if not user.is_admin:
        raise forbidden("Only administrators assign the account a workspace's shells run as.")
    if kind != "local":
        raise bad_request("'shell_account' is for local workspaces: an SSH workspace's shells run as its 'username'.")
    if body["shell_account"] is None or body["shell_account"] == "":
        return True, None
    name = text_field(body, "shell_account", max_len=ACCOUNT_NAME_MAX)
    try:
        account = ShellAccount.named(name)
    except ShellAccountError as exc:
        raise bad_request(str(exc)) from None
    settings = current_settings()
    refusal = choose_account(account.name, None, settings.INSTANCE_DIR, settings.ENV == "production",
                             settings.WEB_ACCOUNT).refusal
    if refusal:
        raise AppError("no_shell_account", refusal)
    return True, account.name
