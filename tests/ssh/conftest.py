"""A real OpenSSH sshd on 127.0.0.1 for the SSH suite, and servers configured for SSH targets.

The daemon runs as root (it must, to log users in) with its own host key and config in a
temporary folder, and lets one dedicated account in, by key or by password.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.server import RunningServer, accounts_lock, free_port

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
TEST_USER = "aict-ssh-test"


@dataclass
class Sshd:
    host: str
    port: int
    username: str
    password: str
    private_key: str  # OpenSSH text of a key the account accepts
    host_key: str  # the daemon's public host key line ("ssh-ed25519 AAAA...")
    host_fingerprint: str  # as `ssh-keygen -l` prints it
    log_path: Path

    def workspace_body(self, name: str | None = None, *, auth: str = "key", pin: bool = True, **extra) -> dict:
        body = {"name": name or f"ssh-{secrets.token_hex(4)}", "kind": "ssh", "host": self.host,
                "port": self.port, "username": self.username}
        if auth in ("key", "both"):
            body["private_key"] = self.private_key
        if auth in ("password", "both"):
            body["password"] = self.password
        if pin:
            body["host_key"] = self.host_key
        body.update(extra)
        return body


def _run(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30, **kwargs)


def _ensure_account() -> str:
    """Create the test account if needed; its password (random, made once per machine and kept in a
    root-only file, so that concurrent test runs agree on it)."""
    with accounts_lock():
        try:
            account = pwd.getpwnam(TEST_USER)
        except KeyError:
            created = subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", TEST_USER],
                                     capture_output=True, text=True, timeout=30)
            if created.returncode not in (0, 9):  # 9: a run that does not lock created it meanwhile
                raise RuntimeError(f"useradd failed: {created.stderr}") from None
            account = pwd.getpwnam(TEST_USER)
        secret = Path(account.pw_dir) / ".aict-test-password"
        try:
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write("pw-" + secrets.token_urlsafe(12))
        except FileExistsError:
            pass
        password = secret.read_text().strip()
        _run("chpasswd", input=f"{TEST_USER}:{password}\n")
    return password


def _wait_for_banner(port: int, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited early:\n{log_path.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not come up:\n{log_path.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def sshd():
    """A real sshd on 127.0.0.1 (a free port) admitting TEST_USER by key and by password."""
    if os.geteuid() != 0 or not os.access(SSHD, os.X_OK):
        pytest.fail("the SSH suite needs root and OpenSSH's sshd: run it through `make test` (installs openssh-server)")
    folder = Path(tempfile.mkdtemp(prefix="aict-sshd-"))
    folder.chmod(0o755)  # sshd reads authorized_keys as the test user
    password = _ensure_account()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(folder / "host_ed25519"))
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "aict-test", "-f", str(folder / "client_ed25519"))
    authorized = folder / "authorized_keys"
    authorized.write_text((folder / "client_ed25519.pub").read_text())
    authorized.chmod(0o644)
    port = free_port()
    config = folder / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {folder / 'host_ed25519'}",
        f"PidFile {folder / 'sshd.pid'}",
        f"AuthorizedKeysFile {authorized}",
        "StrictModes no",
        "UsePAM no",
        "PubkeyAuthentication yes",
        "PasswordAuthentication yes",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin no",
        f"AllowUsers {TEST_USER}",
        "PrintMotd no",
        "PrintLastLog no",
        "X11Forwarding no",
        "AllowAgentForwarding no",
        "Subsystem sftp internal-sftp",  # workspace files (as a stock sshd_config has it)
        "MaxStartups 100:30:200",
        "MaxSessions 100",
        "LogLevel VERBOSE",
        "",
    ]))
    _run(SSHD, "-t", "-f", str(config))
    log_path = folder / "sshd.log"
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_banner(port, proc, log_path)
        host_key = " ".join((folder / "host_ed25519.pub").read_text().split()[:2])
        fingerprint = _run("ssh-keygen", "-l", "-f", str(folder / "host_ed25519.pub")).stdout.split()[1]
        yield Sshd(host="127.0.0.1", port=port, username=TEST_USER, password=password,
                   private_key=(folder / "client_ed25519").read_text(), host_key=host_key,
                   host_fingerprint=fingerprint, log_path=log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def ssh_server(tmp_path_factory):
    """A server of its own for tests that change SSH settings: users may target the patterns below,
    connections give up after 3 seconds, and local shells skip the login scripts (root's may be slow)."""
    running = RunningServer(tmp_path_factory.mktemp("aict-ssh"), {
        "AICT_SSH_ALLOWED_HOSTS": '["192.0.2.*", "169.254.*", "127.0.0.*", "localhost", "*.invalid"]',
        "AICT_SSH_CONNECT_TIMEOUT": "3",
        "AICT_SHELL_ARGS": '["--noprofile", "--norc"]',
    }).start()
    yield running
    running.stop()


@pytest.fixture
def ssh_workspace(server, sshd):
    """An admin's SSH workspace on the test sshd, logging in by key, host key pinned."""
    response = server.api("POST", "/api/workspaces", server.admin_token, json=sshd.workspace_body())
    assert response.status_code == 201, response.text
    return response.json()
