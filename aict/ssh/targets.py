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

LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
ZONE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # an IPv6 scope: fe80::1%eth0
RESOLVE_SECONDS = 5


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


def lookup(host: str, port: int, seconds: float) -> list[tuple]:
    """getaddrinfo within `seconds` (cooperatively, under gevent); raises gevent.Timeout,
    socket.gaierror or UnicodeError (a name IDNA cannot encode)."""
    with gevent.Timeout(seconds):
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def resolve(host: str, port: int = 22) -> list[str]:
    """The host's addresses; [] when the name does not resolve within RESOLVE_SECONDS."""
    try:
        infos = lookup(host, port, RESOLVE_SECONDS)
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
