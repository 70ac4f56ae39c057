"""Opening an SSH connection: resolve, TCP connect, key exchange, host-key check, login.

Each failure becomes the contract's error code with a sentence a person understands. Under
gevent's monkey-patching paramiko's Transport thread is a greenlet and its socket cooperates,
so a pending connection blocks only the greenlet that asked for it; one deadline covers
every step.
"""

from __future__ import annotations

import errno
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import gevent
import paramiko
from paramiko.common import MSG_CHANNEL_REQUEST

from aict.errors import AppError
from aict.ssh.keys import BadKey, HostKey, load_private_key
from aict.ssh.targets import lookup
from aict.terminals.backend import ExitStatus

log = logging.getLogger(__name__)
# paramiko logs every failed handshake with a traceback at ERROR; failures are reported (and
# logged once) by the callers here, so its own log is quiet unless an operator turns it up.
PARAMIKO_LOG = "aict.ssh.paramiko"
if logging.getLogger(PARAMIKO_LOG).level == logging.NOTSET:
    logging.getLogger(PARAMIKO_LOG).setLevel(logging.CRITICAL)
GRACE_SECONDS = 1.0
UNREACHABLE_ERRNOS = (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN)


@dataclass(frozen=True)
class SshTarget:
    """Where to connect and how to log in. Secrets never appear in its repr."""

    host: str
    port: int
    username: str
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)
    pinned: HostKey | None = None


HostKeyCheck = Callable[[HostKey], None]  # raises AppError to refuse the host
AddressCheck = Callable[[list[str]], None]  # raises AppError to refuse the resolved addresses


def _handle_channel_request(channel: paramiko.Channel, m: paramiko.Message) -> None:
    """Note how the remote command ended (paramiko ignores exit-signal), then let paramiko go on."""
    start = m.packet.tell()
    kind = m.get_text()
    if kind == "exit-status":
        m.get_boolean()
        channel.aict_exit = ExitStatus(exit_code=m.get_int())
    elif kind == "exit-signal":
        m.get_boolean()
        name = m.get_text()
        channel.aict_exit = ExitStatus(signal=name if name.startswith("SIG") else f"SIG{name}")
        channel.status_event.set()
    m.packet.seek(start)
    paramiko.Channel._handle_request(channel, m)


class BastionTransport(paramiko.Transport):
    """A client transport that records exit signals; like any paramiko client it refuses every
    channel the server tries to open (no agent, X11 or port forwarding is ever requested)."""

    _channel_handler_table = {**paramiko.Transport._channel_handler_table,
                              MSG_CHANNEL_REQUEST: _handle_channel_request}


class Deadline:
    """One time budget for every step of a connection."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.05, self.end - time.monotonic())


def _unreachable(target: SshTarget, why: str) -> AppError:
    return AppError("ssh_unreachable", f"Cannot reach the SSH server {target.host} port {target.port}: {why}.")


def _resolve(target: SshTarget, deadline: Deadline) -> list[tuple]:
    try:
        infos = lookup(target.host, target.port, deadline.left())
    except gevent.Timeout:
        raise AppError("ssh_dns", f"The host name {target.host} could not be resolved within "
                                  f"{deadline.seconds:g} seconds.") from None
    except (socket.gaierror, UnicodeError):
        raise AppError("ssh_dns", f"The host name {target.host} could not be resolved: "
                                  "check its spelling (DNS has no such name).") from None
    return infos


def _tcp_connect(target: SshTarget, infos: list[tuple], deadline: Deadline) -> socket.socket:
    failure = None
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(deadline.left())
        try:
            sock.connect(address)
        except TimeoutError:
            sock.close()
            raise _unreachable(target, f"no answer within {deadline.seconds:g} seconds") from None
        except ConnectionRefusedError:
            sock.close()
            failure = failure or "the connection was refused (is sshd running on that port?)"
            continue
        except OSError as exc:
            sock.close()
            if exc.errno in UNREACHABLE_ERRNOS:
                failure = "there is no route to that host"
            else:
                failure = failure or (exc.strerror or str(exc)).lower()
            continue
        _tune(sock)
        return sock
    raise _unreachable(target, failure or "it has no address")


def _tune(sock: socket.socket) -> None:
    """Interactive traffic: no Nagle delay; a dead peer noticed by TCP keepalives and write timeouts."""
    for level, option, value in ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
                                 (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
                                 (socket.IPPROTO_TCP, getattr(socket, "TCP_KEEPIDLE", None), 30),
                                 (socket.IPPROTO_TCP, getattr(socket, "TCP_KEEPINTVL", None), 10),
                                 (socket.IPPROTO_TCP, getattr(socket, "TCP_KEEPCNT", None), 6),
                                 (socket.IPPROTO_TCP, getattr(socket, "TCP_USER_TIMEOUT", None), 120_000)):
        if option is not None:
            try:
                sock.setsockopt(level, option, value)
            except OSError:
                pass


def _authenticate(transport: paramiko.Transport, target: SshTarget, deadline: Deadline) -> None:
    refused = AppError("ssh_auth_failed", f"The SSH server {target.host} refused the login of "
                                          f"{target.username!r}: check the username, password or private key.")
    methods = []
    if target.private_key:
        try:
            methods.append(lambda: transport.auth_publickey(target.username,
                                                            load_private_key(target.private_key, target.passphrase)))
        except BadKey as exc:
            raise AppError("ssh_auth_failed", f"The stored private key cannot be used: {exc}") from None
    if target.password:
        methods.append(lambda: transport.auth_password(target.username, target.password))
    for attempt in methods:
        transport.auth_timeout = deadline.left() + GRACE_SECONDS
        try:
            remaining = attempt()
        except paramiko.BadAuthenticationType as exc:
            allowed = ", ".join(exc.allowed_types) or "none"
            refused = AppError("ssh_auth_failed", f"The SSH server {target.host} does not accept this kind of "
                                                  f"login for {target.username!r} (it accepts: {allowed}).")
            continue
        except paramiko.AuthenticationException:
            if not transport.is_active():
                raise _unreachable(target, "the server closed the connection during login") from None
            continue
        if transport.is_authenticated():
            return
        refused = AppError("ssh_auth_failed", f"The SSH server {target.host} wants more steps to log in "
                                              f"({', '.join(remaining)}), which aict does not support.")
    raise refused


def open_transport(target: SshTarget, *, deadline: Deadline, keepalive: int,
                   check_host_key: HostKeyCheck, check_addresses: AddressCheck) -> paramiko.Transport:
    """A connected, host-verified, logged-in transport; AppError with a contract code otherwise."""
    infos = _resolve(target, deadline)
    check_addresses(list(dict.fromkeys(info[4][0] for info in infos)))
    transport = None
    try:
        try:
            with gevent.Timeout(deadline.left()):
                sock = _tcp_connect(target, infos, deadline)
                transport = BastionTransport(sock)
                transport.set_log_channel(PARAMIKO_LOG)
                if target.pinned is not None:  # prefer the pinned key's type to whichever the host prefers
                    options = transport.get_security_options()
                    pinned_first = list(target.pinned.algorithms)
                    options.key_types = pinned_first + [k for k in options.key_types if k not in pinned_first]
                # paramiko's own timers run a little longer, so the deadline above decides (and says so)
                transport.banner_timeout = transport.handshake_timeout = deadline.left() + GRACE_SECONDS
                transport.start_client(timeout=deadline.left() + GRACE_SECONDS)
                presented = HostKey.from_pkey(transport.get_remote_server_key())
        except gevent.Timeout:
            raise _unreachable(target, f"no SSH handshake within {deadline.seconds:g} seconds") from None
        except (EOFError, paramiko.SSHException, OSError) as exc:
            raise _unreachable(target, f"the SSH handshake failed ({_reason(exc)})") from None
        check_host_key(presented)  # outside the timer: it may write an audit event
        try:
            with gevent.Timeout(deadline.left()):
                _authenticate(transport, target, deadline)
        except gevent.Timeout:
            raise _unreachable(target, f"the login did not finish within {deadline.seconds:g} seconds") from None
        except (EOFError, paramiko.SSHException, OSError) as exc:
            raise _unreachable(target, f"the connection broke during login ({_reason(exc)})") from None
        if keepalive:
            transport.set_keepalive(keepalive)
        return transport
    except BaseException:
        if transport is not None:
            transport.close()
        raise


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def open_shell(transport: paramiko.Transport, target: SshTarget, cols: int, rows: int,
               deadline: Deadline) -> paramiko.Channel:
    """A session channel with a PTY and a login shell; AppError ssh_session_refused otherwise."""
    try:
        with gevent.Timeout(deadline.left()):
            channel = transport.open_session(timeout=deadline.left())
            channel.get_pty(term="xterm-256color", width=cols, height=rows)
            channel.invoke_shell()
    except gevent.Timeout:
        raise _unreachable(target, f"no terminal was opened within {deadline.seconds:g} seconds") from None
    except (EOFError, paramiko.SSHException, OSError) as exc:
        raise AppError("ssh_session_refused", f"{target.host} accepted the login but refused a terminal "
                                              f"session ({_reason(exc)}).") from None
    channel.aict_exit = getattr(channel, "aict_exit", None)
    return channel
