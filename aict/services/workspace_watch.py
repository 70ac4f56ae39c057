"""What the terminal host needs to watch a workspace (aict/watching/): a local workspace's directory
and the account its shells run as, or an SSH workspace's connection with its rules."""

from __future__ import annotations

from flask import Flask

from aict.config import Settings
from aict.models import Workspace
from aict.services.backends import backend_for
from aict.services.shell_accounts import startable_account, workspace_root_of
from aict.terminals.accounts import HOME_DIRS, home_for
from aict.watching.hub import LocalTarget
from aict.watching.ssh_poll import SshWatchTarget


def watch_target(app: Flask, workspace: Workspace, settings: Settings, username: str | None):
    """A LocalTarget or an SshWatchTarget (within an app context); AppError when it cannot be
    watched here (no shell account: git would run as nobody a shell may run as)."""
    if workspace.kind == "local":
        account, root = startable_account(workspace, settings), workspace_root_of(settings)
        home = home_for(root, workspace.id, account)
        return LocalTarget(workspace.id, workspace.path, account, str(home), exclude=(str(root / HOME_DIRS),))
    return SshWatchTarget(workspace.id, backend_for(workspace, settings, username), app.app_context,
                          poll_seconds=settings.SSH_WATCH_POLL_SECONDS,
                          max_directories=settings.SSH_WATCH_MAX_DIRECTORIES)
