"""SshBackend against an in-process paramiko server: what the remote may not do, and how it ends."""

from __future__ import annotations

import socket
import threading

import paramiko
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from paramiko.common import cMSG_CHANNEL_REQUEST

from aict.errors import AppError
from aict.ssh.backend import SshBackend
from aict.ssh.connect import SshTarget
from aict.ssh.keys import HostKey, load_private_key
from aict.terminals.backend import ExitStatus


def _ed25519_key() -> paramiko.PKey:
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
    return load_private_key(pem.decode())


class _Server(paramiko.ServerInterface):
    def __init__(self):
        self.shell = threading.Event()
        self.requests: list[str] = []

    def get_allowed_auths(self, username):
        return "password"

    def check_auth_password(self, username, password):
        return paramiko.AUTH_SUCCESSFUL if password == "pw" else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        self.requests.append(kind)
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, channel, term, width, height, pixelwidth, pixelheight, modes):
        self.requests.append(f"pty {term.decode() if isinstance(term, bytes) else term} {width}x{height}")
        return True

    def check_channel_shell_request(self, channel):
        self.shell.set()
        return True

    def check_channel_forward_agent_request(self, channel):
        self.requests.append("agent")
        return True


class _RemoteHost:
    """A one-connection SSH server in a thread; the test scripts what it does after the shell starts."""

    def __init__(self, script):
        self.key = _ed25519_key()
        self.server = _Server()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.outcome: dict = {}
        self.thread = threading.Thread(target=self._serve, args=(script,), daemon=True)
        self.thread.start()

    def _serve(self, script):
        conn, _ = self.listener.accept()
        transport = paramiko.Transport(conn)
        transport.add_server_key(self.key)
        try:
            transport.start_server(server=self.server)
            channel = transport.accept(10)
            assert self.server.shell.wait(10)
            script(transport, channel, self.outcome)
        except Exception as exc:  # reported to the test through outcome
            self.outcome["error"] = exc
        finally:
            self.listener.close()

    def backend(self, **target) -> SshBackend:
        return SshBackend(SshTarget(host="127.0.0.1", port=self.port, username="u", password="pw", **target),
                          connect_timeout=10, keepalive=0, check_host_key=lambda key: None,
                          check_addresses=lambda addresses: None)


def _read_all(backend: SshBackend) -> bytes:
    out = bytearray()
    while chunk := backend.read(65536):
        out += chunk
    return bytes(out)


def _send_exit_signal(transport: paramiko.Transport, channel: paramiko.Channel, name: str) -> None:
    m = paramiko.Message()
    m.add_byte(cMSG_CHANNEL_REQUEST)
    m.add_int(channel.remote_chanid)
    m.add_string("exit-signal")
    m.add_boolean(False)
    m.add_string(name)
    m.add_boolean(False)
    m.add_string("")
    m.add_string("")
    transport._send_user_message(m)


def test_channels_opened_by_the_remote_are_refused_and_an_exit_signal_is_reported():
    def script(transport, channel, outcome):
        for name, opener in (("forwarded-tcpip", lambda: transport.open_forwarded_tcpip_channel(
                                 ("10.0.0.1", 5000), ("127.0.0.1", 22))),
                             ("x11", lambda: transport.open_x11_channel(("10.0.0.1", 6000))),
                             ("agent", transport.open_forward_agent_channel)):
            try:
                opener()
                outcome[name] = "opened"
            except paramiko.ChannelException as exc:
                outcome[name] = exc.code
        channel.sendall(b"hello\r\n")
        _send_exit_signal(transport, channel, "TERM")
        channel.close()

    remote = _RemoteHost(script)
    backend = remote.backend()
    backend.start(100, 30)
    try:
        assert _read_all(backend) == b"hello\r\n"
        assert backend.wait() == ExitStatus(signal="SIGTERM")
    finally:
        backend.close()
    remote.thread.join(10)
    assert "error" not in remote.outcome, remote.outcome
    refused = paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
    assert remote.outcome == {"forwarded-tcpip": refused, "x11": refused, "agent": refused}
    assert "pty xterm-256color 100x30" in remote.server.requests
    assert "agent" not in remote.server.requests  # agent forwarding is never asked for


def test_exit_status_and_a_silent_close():
    def with_status(transport, channel, outcome):
        channel.sendall(b"bye")
        channel.send_exit_status(5)
        channel.close()

    def silent(transport, channel, outcome):
        channel.close()

    for script, expected in ((with_status, ExitStatus(exit_code=5)), (silent, ExitStatus())):
        remote = _RemoteHost(script)
        backend = remote.backend()
        backend.start(80, 24)
        try:
            _read_all(backend)
            assert backend.wait() == expected
        finally:
            backend.close()
        remote.thread.join(10)


def test_host_key_is_checked_before_a_wrong_password_is_refused():
    seen: list[HostKey] = []
    remote = _RemoteHost(lambda *args: None)
    backend = SshBackend(SshTarget(host="127.0.0.1", port=remote.port, username="u", password="nope"),
                         connect_timeout=10, keepalive=0, check_host_key=seen.append,
                         check_addresses=lambda addresses: None)
    with pytest.raises(AppError) as raised:
        backend.start(80, 24)
    assert raised.value.code == "ssh_auth_failed"
    assert [key.fingerprint for key in seen] == [remote.key.fingerprint]
