"""SSH workspaces from request bodies: their fields, where a user may point them, their sealed secrets."""

from __future__ import annotations

import re

from flask import current_app

from aict.config import current_settings
from aict.db_pool import release_connection
from aict.errors import bad_request, forbidden
from aict.extensions import db
from aict.models import User, Workspace
from aict.services.host_keys import offers
from aict.ssh.credentials import CredentialCipher, CredentialsUnreadable
from aict.ssh.keys import MAX_PRIVATE_KEY_CHARS, BadKey, load_private_key, parse_host_key
from aict.ssh.targets import resolve, target_problem, valid_host
from aict.validation import DECEPTIVE_CHARACTERS, int_field, text_field

USERNAME = re.compile(r"^[^\x00-\x20\x7f-\x9f]{1,128}$")  # domain logins may hold '@' or a backslash
MAX_SECRET_CHARS = 4096
SECRET_FIELDS = ("password", "private_key", "passphrase")


def check_target(user: User, host: str, port: int) -> None:
    if user.is_admin:
        return
    release_connection()  # a DNS answer can take seconds
    problem = target_problem(host, resolve(host, port), False, current_settings().SSH_ALLOWED_HOSTS)
    if problem:
        raise forbidden(problem)



def _host(body: dict) -> str:
    host = text_field(body, "host", max_len=255).strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not valid_host(host):
        port_inside = host.count(":") == 1 and valid_host(host.partition(":")[0])
        raise bad_request("'host' must be a host name or an IP address"
                          + (" (the port goes in 'port')." if port_inside else "."))
    return host


def _port(body: dict) -> int:
    port = int_field(body, "port", low=1, high=65535, default=22)
    return 22 if port is None else port  # null: SSH's own port (it was stored as null, and shown so)


def _username(body: dict) -> str:
    username = text_field(body, "username", max_len=128)
    if not USERNAME.match(username) or DECEPTIVE_CHARACTERS.search(username):
        raise bad_request("'username' may not contain spaces, control, invisible or direction-changing characters.")
    return username


def _secret(body: dict, name: str, max_len: int = MAX_SECRET_CHARS) -> str | None:
    return text_field(body, name, required=False, max_len=max_len) or None  # "" clears it, as null does


def _credentials(body: dict, current: dict | None = None) -> dict:
    """The credential document after applying the body's secret fields (validated; key parsed)."""
    document = dict(current or {})
    if "password" in body:
        document.pop("password", None)
        if (password := _secret(body, "password")) is not None:
            document["password"] = password
    if "private_key" in body:
        document.pop("private_key", None)
        document.pop("passphrase", None)
        private_key = _secret(body, "private_key", MAX_PRIVATE_KEY_CHARS)
        if private_key is not None:
            passphrase = _secret(body, "passphrase")
            try:
                load_private_key(private_key, passphrase)
            except BadKey as exc:
                raise bad_request(str(exc)) from None
            document["private_key"] = private_key
            if passphrase is not None:
                document["passphrase"] = passphrase
    elif "passphrase" in body:
        raise bad_request("'passphrase' goes with 'private_key': send both.")
    if not document.get("password") and not document.get("private_key"):
        raise bad_request("An SSH workspace needs a 'password' or a 'private_key' to log in with.")
    return document


def _pin(workspace: Workspace, text: object) -> None:
    if text is None or text == "":
        workspace.host_key = workspace.host_key_fingerprint = None
        return
    if not isinstance(text, str):
        raise bad_request("'host_key' must be one OpenSSH public-key line, or null to forget the pinned key.")
    try:
        key = parse_host_key(text)
    except BadKey as exc:
        raise bad_request(str(exc)) from None
    workspace.host_key, workspace.host_key_fingerprint = key.line, key.fingerprint


# ---- the service ----------------------------------------------------------------------------
def new_ssh_workspace(user: User, name: str, body: dict) -> Workspace:
    """A new (unsaved) SSH workspace from a create body; 400 on bad input, 403 for a forbidden target."""
    host, port, username = _host(body), _port(body), _username(body)
    document = _credentials(body)
    check_target(user, host, port)
    workspace = Workspace(name=name, kind="ssh", owner_id=user.id, host=host, port=port, username=username,
                          credentials=CredentialCipher(current_settings().ENCRYPTION_KEY).seal(document))
    if body.get("host_key"):
        _pin(workspace, body["host_key"])
    return workspace


def update_ssh_workspace(user: User, workspace: Workspace, body: dict) -> set[str]:
    """Apply the SSH fields of a PATCH; returns what changed (names only, never secrets)."""
    changed: set[str] = set()
    host = _host(body) if "host" in body else workspace.host
    port = _port(body) if "port" in body else workspace.port
    if (host, port) != (workspace.host, workspace.port):
        check_target(user, host, port)
        changed |= {name for name, old, new in (("host", workspace.host, host), ("port", workspace.port, port))
                    if old != new}
        workspace.host, workspace.port = host, port
        if "host_key" not in body and workspace.host_key_fingerprint:
            _pin(workspace, None)  # a key pinned for another address says nothing about this one
            changed.add("host_key")
        offers(current_app).forget(workspace.id)
    if "username" in body:
        username = _username(body)
        if username != workspace.username:
            workspace.username = username
            changed.add("username")
    if any(name in body for name in SECRET_FIELDS):
        cipher = CredentialCipher(current_settings().ENCRYPTION_KEY)
        try:
            current = cipher.open(workspace.credentials) if workspace.credentials else {}
        except CredentialsUnreadable:
            current = {}  # sealed with a key that is gone: only a full replacement can help
        workspace.credentials = cipher.seal(_credentials(body, current))
        changed.add("credentials")
    if "host_key" in body:
        _pin(workspace, body["host_key"])
        offers(current_app).forget(workspace.id)
        changed.add("host_key")
    return changed


def reseal_all_credentials() -> tuple[int, int]:
    """Re-encrypt every stored credential with the first configured key (after a key rotation).

    Returns (resealed, unreadable): unreadable ones were sealed with a key no longer configured."""
    cipher = CredentialCipher(current_settings().ENCRYPTION_KEY)
    resealed = unreadable = 0
    for workspace in db.session.execute(db.select(Workspace).where(Workspace.credentials.is_not(None))).scalars():
        try:
            workspace.credentials = cipher.reseal(workspace.credentials)
            resealed += 1
        except CredentialsUnreadable:
            unreadable += 1
    db.session.commit()
    return resealed, unreadable
