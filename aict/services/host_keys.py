"""Host keys are never trusted silently: an unpinned host's key is offered to a person, who confirms
its fingerprint (trust-host-key); a pinned key that changes refuses the connection and is audited."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

from aict.audit.events import record
from aict.errors import AppError
from aict.extensions import db
from aict.models import User, Workspace
from aict.ssh.host_keys import Offers
from aict.ssh.keys import BadKey, HostKey, parse_host_key


def offers(app: Flask) -> Offers:
    return app.extensions["aict"].host_key_offers


def pinned_key(workspace: Workspace) -> HostKey | None:
    if not workspace.host_key_fingerprint or not workspace.host_key:
        return None
    try:
        return parse_host_key(workspace.host_key)
    except BadKey:
        return None  # cannot happen for keys pinned through the API; treat as unpinned, ask again


def host_key_checker(workspace: Workspace, username: str | None) -> Callable[[HostKey], None]:
    """What a connection (opened for `username`) does with the key the host presented: go on, or
    raise the contract's error."""
    app = current_app._get_current_object()
    workspace_id, host, port = workspace.id, workspace.host, workspace.port
    pinned = pinned_key(workspace)

    def check(presented: HostKey) -> None:
        if pinned is None:
            offers(app).remember(workspace_id, presented)
            raise AppError(
                "host_key_unknown",
                f"The host key of {host} is not trusted yet. Its fingerprint is {presented.fingerprint}: "
                "check it with the server's administrator, then confirm it to connect.",
                fingerprint=presented.fingerprint, host_key=presented.line)
        if presented.blob != pinned.blob:
            record("host_key_mismatch", username=username, workspace_id=workspace_id,
                   detail={"host": host, "port": port, "pinned_fingerprint": pinned.fingerprint,
                           "presented_fingerprint": presented.fingerprint})
            raise AppError(
                "host_key_mismatch",
                f"The host key of {host} has changed (it is now {presented.fingerprint}, but "
                f"{pinned.fingerprint} is pinned). This could be an attack, so the connection was refused. "
                "If the change is expected, the workspace's owner or an admin can pin the new key.",
                fingerprint=presented.fingerprint, pinned_fingerprint=pinned.fingerprint)

    return check


def trust_offered_key(user: User, workspace: Workspace, fingerprint: str) -> None:
    """Pin the key this workspace's host offered, if `fingerprint` is that key's; 409 otherwise."""
    offered = offers(current_app).offered(workspace.id)
    if offered is None or fingerprint.strip() != offered.fingerprint:
        raise AppError("fingerprint_mismatch",
                       "That fingerprint is not the one the host offered; connect again to see the current one."
                       if offered is not None else
                       "No host key has been offered for this workspace yet; open a terminal on it first.")
    workspace.host_key, workspace.host_key_fingerprint = offered.line, offered.fingerprint
    offers(current_app).forget(workspace.id)
    record("host_key_trust", username=user.username, workspace_id=workspace.id,
           detail={"host": workspace.host, "port": workspace.port, "fingerprint": offered.fingerprint,
                   "key_type": offered.key_type}, commit=False)
    db.session.commit()
