"""Host keys are never trusted silently: an unpinned host's key is offered to a person, who confirms
its fingerprint (trust-host-key); a pinned key that changes refuses the connection and is audited."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, current_app, has_request_context, request

from aict.audit.events import record
from aict.errors import AppError
from aict.extensions import db
from aict.models import User, Workspace
from aict.ssh.keys import BadKey, HostKey, parse_host_key

OFFER_SECONDS = 3600
MAX_OFFERS = 10_000


class HostKeyOffers:
    """The key each unpinned workspace's host presented last, kept for a while for trust-host-key."""

    def __init__(self, ttl: float = OFFER_SECONDS):
        self.ttl = ttl
        self._offers: dict[str, tuple[HostKey, float]] = {}

    def remember(self, workspace_id: str, key: HostKey) -> None:
        now = time.monotonic()
        if len(self._offers) >= MAX_OFFERS:
            self._offers = {k: v for k, v in self._offers.items() if now - v[1] < self.ttl}
            while len(self._offers) >= MAX_OFFERS:
                self._offers.pop(next(iter(self._offers)))
        self._offers.pop(workspace_id, None)
        self._offers[workspace_id] = (key, now)

    def offered(self, workspace_id: str) -> HostKey | None:
        entry = self._offers.get(workspace_id)
        if entry is None or time.monotonic() - entry[1] >= self.ttl:
            return None
        return entry[0]

    def forget(self, workspace_id: str) -> None:
        self._offers.pop(workspace_id, None)


def offers(app: Flask) -> HostKeyOffers:
    extra = app.extensions["aict"].extra
    if "host_key_offers" not in extra:
        extra["host_key_offers"] = HostKeyOffers()
    return extra["host_key_offers"]


def pinned_key(workspace: Workspace) -> HostKey | None:
    if not workspace.host_key_fingerprint or not workspace.host_key:
        return None
    try:
        return parse_host_key(workspace.host_key)
    except BadKey:
        return None  # cannot happen for keys pinned through the API; treat as unpinned, ask again


def _acting_username() -> str | None:
    """The user on whose behalf a socket event runs (for audit), when there is one."""
    if not has_request_context():
        return None
    connections = getattr(current_app.extensions["aict"], "connections", None)
    connection = connections.get(getattr(request, "sid", None)) if connections is not None else None
    return connection.username if connection is not None else None


def host_key_checker(workspace: Workspace) -> Callable[[HostKey], None]:
    """What a connection does with the key the host presented: go on, or raise the contract's error."""
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
            record("host_key_mismatch", username=_acting_username(), workspace_id=workspace_id,
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
