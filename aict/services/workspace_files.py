"""A workspace's files for one user: which way they are reached, and the audit of each transfer.

Local workspaces: through the terminal host's files gate, as the workspace's shell account (the web
process holds no privileges). SSH workspaces: over SFTP as the remote user, the connection opened
under the same rules as a terminal's (pinned host key, allowed addresses, the same errors, the
details hidden from non-admins).
"""

from __future__ import annotations

import time

from aict.audit.events import record
from aict.config import Settings
from aict.db_pool import release_connection
from aict.errors import AppError
from aict.files.local import LocalFiles, files_socket_path
from aict.files.sftp import SftpFiles
from aict.models import User, Workspace
from aict.services.backends import ssh_plan, start_failure_for
from aict.ssh.connect import Deadline, open_transport


def files_of(user: User, workspace: Workspace, settings: Settings) -> LocalFiles | SftpFiles:
    """The workspace's files as `user` may reach them (authorised already: operator, owner or admin).
    Gives the database connection back first: what follows waits on processes and networks."""
    if workspace.kind == "local":
        files = LocalFiles(str(files_socket_path(settings.terminal_host_socket)), workspace.id, user.id)
        release_connection()
        return files
    plan = ssh_plan(workspace, settings, user.username)
    release_connection()
    timeout = float(settings.SSH_CONNECT_TIMEOUT)
    started = time.monotonic()
    try:
        transport = open_transport(plan.target, deadline=Deadline(timeout),
                                   keepalive=int(settings.SSH_KEEPALIVE_SECONDS),
                                   check_host_key=plan.check_host_key, check_addresses=plan.check_addresses)
    except AppError as error:
        raise start_failure_for(user, workspace, error, started, timeout) from None
    return SftpFiles(transport)


def record_transfer(kind: str, user: User, workspace: Workspace, path: str, size: int, sha256: str,
                    **extra) -> None:
    """A `file_upload` or `file_download` audit event: what moved, how much, and its digest."""
    record(kind, username=user.username, workspace_id=workspace.id,
           detail={"path": path, "size": size, "sha256": sha256, **extra})
