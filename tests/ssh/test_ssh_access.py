"""Who may aim an SSH workspace where: admins anywhere; users only at allowed hosts, never this
server, its local link or a cloud metadata address, whatever the allow-list says."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time

import psutil
import pytest

from tests.integration.contract import assert_ack_error, assert_error
from tests.server import RunningServer
from tests.ssh.helpers import create_ack, create_workspace

pytestmark = pytest.mark.ssh


def _create(server, token, sshd, **changes):
    return server.api("POST", "/api/workspaces", token, json=sshd.workspace_body(pin=False, **changes))


def test_users_may_not_create_ssh_workspaces_by_default(server, sshd):
    _, token = server.create_user()
    error = assert_error(_create(server, token, sshd, host="192.0.2.10"), 403, "forbidden")
    assert "administrators" in error["message"]


def test_admin_may_target_loopback(server, sshd):
    assert _create(server, server.admin_token, sshd).status_code == 201


@pytest.mark.parametrize("host", ["192.0.2.10", "build.example.invalid"])
def test_users_may_target_hosts_the_allow_list_matches(ssh_server, sshd, host):
    _, token = ssh_server.create_user()
    response = _create(ssh_server, token, sshd, host=host)
    assert response.status_code == 201, response.text
    assert response.json()["host"] == host


@pytest.mark.parametrize("host", ["198.51.100.7", "example.com"])
def test_users_may_not_target_hosts_outside_the_allow_list(ssh_server, sshd, host):
    _, token = ssh_server.create_user()
    error = assert_error(_create(ssh_server, token, sshd, host=host), 403, "forbidden")
    assert "SSH_ALLOWED_HOSTS" in error["message"]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "169.254.10.20"])
def test_loopback_and_link_local_need_an_admin_even_when_allowed(ssh_server, sshd, host):
    _, token = ssh_server.create_user()
    error = assert_error(_create(ssh_server, token, sshd, host=host), 403, "forbidden")
    assert error["message"] == assert_error(_create(ssh_server, token, sshd, host="example.com"), 403,
                                            "forbidden")["message"].replace("example.com", host)


def test_users_may_not_move_a_workspace_to_loopback(ssh_server, sshd):
    _, token = ssh_server.create_user()
    workspace = _create(ssh_server, token, sshd, host="192.0.2.10").json()
    moved = ssh_server.api("PATCH", f"/api/workspaces/{workspace['id']}", token, json={"host": "127.0.0.1"})
    assert_error(moved, 403, "forbidden")
    assert ssh_server.api("GET", f"/api/workspaces/{workspace['id']}", token).json()["host"] == "192.0.2.10"


def test_members_may_use_an_admins_loopback_workspace(ssh_server, sshd):
    workspace = _create(ssh_server, ssh_server.admin_token, sshd).json()
    username, token = ssh_server.create_user()
    grant = ssh_server.api("POST", f"/api/workspaces/{workspace['id']}/members", ssh_server.admin_token,
                           json={"username": username, "access": "operator"})
    assert grant.status_code == 201, grant.text
    c = ssh_server.socket(token)
    try:
        answer = c.call("create-terminal", {"workspaceId": workspace["id"]}, timeout=20)
        assert_ack_error(answer, "host_key_unknown")  # past the target check: the owner is an admin
    finally:
        c.close()


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    """Users may target any host at all ("*"): what is refused now is refused whatever the list says."""
    running = RunningServer(tmp_path_factory.mktemp("aict-ssh-open"), {
        "AICT_SSH_ALLOWED_HOSTS": '["*"]', "AICT_SSH_CONNECT_TIMEOUT": "3"}).start()
    yield running
    running.stop()


def _own_addresses() -> list[str]:
    return [entry.address.split("%")[0] for entries in psutil.net_if_addrs().values() for entry in entries
            if entry.family in (socket.AF_INET, socket.AF_INET6)]


def test_users_may_never_target_this_machine_whatever_the_allow_list_says(open_server, sshd):
    own = _own_addresses()
    assert any(not a.startswith(("127.", "::1")) for a in own), own  # the machine's LAN addresses too
    _, token = open_server.create_user()
    for host in [*own, "127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "0.0.0.0", "::", "localhost",
                 "0x7f000001", "localhost.", socket.gethostname()]:
        response = _create(open_server, token, sshd, host=host)
        if host == socket.gethostname() and response.status_code == 400:
            continue  # not a valid host name here
        assert_error(response, 403, "forbidden")
    assert _create(open_server, open_server.admin_token, sshd, host=own[-1]).status_code == 201  # admins may


@pytest.mark.parametrize("host", ["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192",
                                  "168.63.129.16", "::ffff:169.254.169.254", "224.0.0.1", "240.0.0.1",
                                  "metadata.google.internal", "fe80::1"])
def test_users_may_never_target_cloud_metadata_or_unroutable_addresses(open_server, sshd, host):
    _, token = open_server.create_user()
    assert_error(_create(open_server, token, sshd, host=host), 403, "forbidden")


def test_users_may_target_other_hosts_the_list_allows(open_server, sshd):
    _, token = open_server.create_user()
    for host in ("192.0.2.10", "10.1.2.3", "fd00::1234", "100.100.100.201"):
        assert _create(open_server, token, sshd, host=host).status_code == 201, host


def test_the_address_is_checked_again_at_connection(open_server, sshd):
    """A name that resolved elsewhere at creation and now resolves to the server itself (DNS changed):
    the stored host is re-pointed at the test sshd, which would let the user in if it were allowed."""
    username, token = open_server.create_user()
    workspace = create_workspace(open_server, sshd.workspace_body(host="192.0.2.10"), token)
    with sqlite3.connect(open_server.instance / "aict.db") as db:
        db.execute("UPDATE workspaces SET host = '127.0.0.1' WHERE id = ?", (workspace["id"],))
    c = open_server.socket(token)
    try:
        error = assert_ack_error(create_ack(c, workspace["id"]), "ssh_unreachable")
        assert "127.0.0.1" not in error["message"]
    finally:
        c.close()


class _NotSsh:
    """A TCP listener that answers like a web server, not SSH, on a port of 127.0.0.1."""

    def __init__(self, port: int):
        self.sock = socket.create_server(("127.0.0.1", port))
        self.stopped = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            time.sleep(0.2)
            conn.close()

    def close(self):
        self.stopped = True
        self.sock.close()


def test_a_user_cannot_tell_a_closed_port_from_an_open_one_that_is_not_ssh(ssh_server, sshd):
    """An admin's workspaces on 127.0.0.1 (allowed: the owner is an admin), used by a member: the
    same port closed, then open to something that is not SSH. The member hears one thing for both;
    the admin hears what happened."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workspace = create_workspace(ssh_server, sshd.workspace_body(port=port, pin=False))
    username, token = ssh_server.create_user()
    grant = ssh_server.api("POST", f"/api/workspaces/{workspace['id']}/members", ssh_server.admin_token,
                           json={"username": username, "access": "operator"})
    assert grant.status_code == 201, grant.text
    member, admin = ssh_server.socket(token), ssh_server.socket()
    try:
        started = time.monotonic()
        closed = create_ack(member, workspace["id"])
        closed_seconds = time.monotonic() - started
        closed_for_admin = assert_ack_error(create_ack(admin, workspace["id"]), "ssh_unreachable")
        listener = _NotSsh(port)
        try:
            started = time.monotonic()
            opened = create_ack(member, workspace["id"])
            opened_seconds = time.monotonic() - started
            opened_for_admin = assert_ack_error(create_ack(admin, workspace["id"]), "ssh_unreachable")
        finally:
            listener.close()
    finally:
        member.close()
        admin.close()
    assert_ack_error(closed, "ssh_unreachable")
    assert closed == opened
    assert str(port) not in closed["error"]["message"]
    assert closed_for_admin["message"] != opened_for_admin["message"]  # admins keep the details
    assert "refused" in closed_for_admin["message"] and "handshake" in opened_for_admin["message"]
    assert abs(closed_seconds - opened_seconds) < 1.5, (closed_seconds, opened_seconds)  # nor tell by the time


def test_a_user_hears_the_same_for_a_name_that_does_not_resolve(ssh_server, sshd):
    _, token = ssh_server.create_user()
    workspace = _create(ssh_server, token, sshd, host="nonexistent.invalid").json()
    c = ssh_server.socket(token)
    try:
        error = assert_ack_error(create_ack(c, workspace["id"]), "ssh_unreachable")
        assert "nonexistent" not in error["message"]
    finally:
        c.close()
