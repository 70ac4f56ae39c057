"""Who may aim an SSH workspace where: admins anywhere; users only at allowed hosts, never loopback."""

from __future__ import annotations

import pytest

from tests.integration.contract import assert_ack_error, assert_error

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
    assert "loopback or link-local" in error["message"]


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
