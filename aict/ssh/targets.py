"""SSH workspaces: validating a target and its credentials, and who may aim a workspace where.

Admins may target any host. Users may target hosts matching SSH_ALLOWED_HOSTS (fnmatch
patterns), except loopback and link-local addresses (checked on the resolved addresses, at
creation and again at every connection, so a name cannot be re-pointed at the server itself).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from fnmatch import fnmatchcase

import gevent
from flask import current_app

from aict.api.validation import int_field, text_field
from aict.db_pool import release_connection
from aict.errors import bad_request, forbidden
from aict.extensions import db
from aict.models import User, Workspace
from aict.ssh.credentials import CredentialsUnreadable, cipher_for
from aict.ssh.keys import BadKey, load_private_key, parse_host_key

# A DNS label (RFC 1123; '_' too, as some internal zones use it). Names such as "a..b" or a label
# over 63 characters were stored, then failed inside getaddrinfo's IDNA step at every connection.
LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
ZONE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # an IPv6 scope: fe80::1%eth0
USERNAME = re.compile(r"^[^\x00-\x20\x7f]{1,128}$")  # domain logins may hold '@' or a backslash
RESOLVE_SECONDS = 5
MAX_SECRET_CHARS = 4096
MAX_KEY_CHARS = 16 * 1024
SECRET_FIELDS = ("password", "private_key", "passphrase")


def _settings() -> dict:
    return current_app.config["AICT"]


# ---- where a workspace may point ------------------------------------------------------------
def is_internal_address(address: str) -> bool:
    """Loopback, link-local or unspecified (which reaches the local machine too)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified


def resolve(host: str, port: int = 22) -> list[str]:
    """The host's addresses (cooperatively, under gevent); [] when the name does not resolve."""
    try:
        with gevent.Timeout(RESOLVE_SECONDS):
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, gevent.Timeout, UnicodeError):
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


def host_allowed_for_users(host: str, patterns: list[str]) -> bool:
    return any(fnmatchcase(host.lower(), str(p).strip().lower()) for p in patterns if str(p).strip())


def target_problem(host: str, addresses: list[str], owner_is_admin: bool, patterns: list[str]) -> str | None:
    """Why a non-admin may not target this host (a sentence), or None when it is fine."""
    if owner_is_admin:
        return None
    if not host_allowed_for_users(host, patterns):
        return (f"Only administrators may create SSH workspaces for {host}: "
                "it does not match the hosts allowed for users (SSH_ALLOWED_HOSTS).")
    lowered = host.lower().rstrip(".")
    if lowered == "localhost" or lowered.endswith(".localhost") or any(map(is_internal_address, addresses)):
        return (f"{host} is a loopback or link-local address (the server itself or its local network "
                "link); only administrators may target it.")
    return None


def check_target(user: User, host: str, port: int) -> None:
    if user.is_admin:
        return
    release_connection()  # a DNS answer can take seconds
    problem = target_problem(host, resolve(host, port), False, _settings()["SSH_ALLOWED_HOSTS"])
    if problem:
        raise forbidden(problem)


# ---- fields ---------------------------------------------------------------------------------
def valid_host(host: str) -> bool:
    """An IP address, or a host name whose last label is not all digits ("256.1.1.1" is neither)."""
    address, percent, zone = host.partition("%")
    try:
        ipaddress.ip_address(address)
        return not percent or (":" in address and bool(ZONE.match(zone)))
    except ValueError:
        pass
    labels = (host[:-1] if host.endswith(".") else host).split(".")
    return len(host) <= 253 and all(map(LABEL.match, labels)) and not labels[-1].isdigit()


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
    return int_field(body, "port", low=1, high=65535, default=22)


def _username(body: dict) -> str:
    username = text_field(body, "username", max_len=128)
    if not USERNAME.match(username):
        raise bad_request("'username' may not contain spaces or control characters.")
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
        private_key = _secret(body, "private_key", MAX_KEY_CHARS)
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
                          credentials=cipher_for(_settings()).seal(document))
    if body.get("host_key"):
        _pin(workspace, body["host_key"])
    return workspace


def update_ssh_workspace(user: User, workspace: Workspace, body: dict) -> set[str]:
    """Apply the SSH fields of a PATCH; returns what changed (names only, never secrets)."""
    from aict.ssh.host_keys import offers

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
        cipher = cipher_for(_settings())
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
    cipher = cipher_for(_settings())
    resealed = unreadable = 0
    for workspace in db.session.execute(db.select(Workspace).where(Workspace.credentials.is_not(None))).scalars():
        try:
            workspace.credentials = cipher.reseal(workspace.credentials)
            resealed += 1
        except CredentialsUnreadable:
            unreadable += 1
    db.session.commit()
    return resealed, unreadable
