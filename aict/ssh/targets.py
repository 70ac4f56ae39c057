"""SSH workspaces: validating a target and its credentials, and who may aim a workspace where.

Admins may target any host. Users may target hosts matching SSH_ALLOWED_HOSTS (fnmatch
patterns), and never, whatever the patterns say, an address that reaches this server or the
cloud platform under it (FORBIDDEN_FOR_USERS below). Checked on every resolved address, at
creation and again at every connection, so a name cannot be re-pointed there later.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from fnmatch import fnmatchcase

import gevent
import psutil

LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
ZONE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # an IPv6 scope: fe80::1%eth0
RESOLVE_SECONDS = 5

# ---- where users may never point a workspace --------------------------------------------------
# FORBIDDEN_FOR_USERS, the one list (docs/api.md and the README point here):
#  - every address of this machine's own interfaces (OWN_ADDRESSES_SECONDS fresh), so a user's
#    "remote" shell is never the server itself through its LAN or public address;
#  - loopback, link-local, unspecified, multicast and reserved addresses (the machine itself, its
#    local link, nothing routable), also when written as IPv4 inside IPv6 (::ffff:127.0.0.1,
#    6to4, NAT64);
#  - the cloud platforms' instance metadata and platform services below, which hand out the
#    machine's credentials to anyone who asks from it;
#  - the names below and `localhost` / `*.localhost`, whatever they resolve to.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle, Hetzner...: instance metadata
    "169.254.170.2",  # AWS ECS task metadata and credentials
    "169.254.169.253",  # AWS VPC DNS
    "fd00:ec2::254",  # AWS instance metadata over IPv6
    "fd00:ec2::253",  # AWS VPC DNS over IPv6
    "100.100.100.200",  # Alibaba Cloud metadata
    "192.0.0.192",  # Oracle Cloud metadata (classic)
    "168.63.129.16",  # Azure WireServer (VM agent, platform DNS)
    "169.254.42.42",  # Scaleway metadata
))
METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                            "instance-data.ec2.internal"})
OWN_ADDRESSES_SECONDS = 10.0  # how long a read of this machine's interface addresses is trusted
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Said when a user makes such a workspace, and when one owned by a user connects (an admin opening it
# reads it too: the owner decides, not the reader)
USER_TARGET_REFUSED = ("Only administrators' SSH workspaces may reach {host}: a user's may target only hosts "
                       "that match SSH_ALLOWED_HOSTS, and never this server, its local network link or a "
                       "cloud metadata address.")


class _OwnAddresses:
    """This machine's interface addresses, read again when older than OWN_ADDRESSES_SECONDS
    (an interface may come up, or an address be added, while the server runs)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._read_at = -OWN_ADDRESSES_SECONDS
        self._addresses: frozenset = frozenset()

    def get(self) -> frozenset:
        with self._lock:
            if time.monotonic() - self._read_at >= OWN_ADDRESSES_SECONDS:
                found = set()
                for entries in psutil.net_if_addrs().values():
                    for entry in entries:
                        if entry.family in (socket.AF_INET, socket.AF_INET6):
                            parsed = _parse(entry.address)
                            if parsed is not None:
                                found.add(parsed)
                self._addresses, self._read_at = frozenset(found), time.monotonic()
            return self._addresses


own_addresses = _OwnAddresses()


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches: mapped (::ffff:a.b.c.d), 6to4 (2002::/16), NAT64 (64:ff9b::/96)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_forbidden_for_users(address: str) -> bool:
    """True for an address in FORBIDDEN_FOR_USERS (see above); an unparseable one is forbidden too."""
    ip = _parse(address)
    if ip is None:
        return True
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)) is not None:
        candidates.append(inner)
    own = own_addresses.get()
    return any(c.is_loopback or c.is_link_local or c.is_unspecified or c.is_multicast or c.is_reserved
               or getattr(c, "is_site_local", False) or c in METADATA_ADDRESSES or c in own
               for c in candidates)


def is_forbidden_name(host: str) -> bool:
    lowered = host.lower().rstrip(".")
    return lowered == "localhost" or lowered.endswith(".localhost") or lowered in METADATA_NAMES


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
    """Why a non-admin may not target this host (one sentence for every reason, so that it says
    nothing about what the name resolves to), or None when it is fine."""
    if owner_is_admin:
        return None
    if (not host_allowed_for_users(host, patterns) or is_forbidden_name(host)
            or any(map(is_forbidden_for_users, addresses))):
        return USER_TARGET_REFUSED.format(host=host)
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
