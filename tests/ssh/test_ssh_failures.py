"""Each way an SSH connection fails has its own code and a sentence, and arrives in time."""

from __future__ import annotations

import socket
import time

import pytest

from tests.integration.contract import assert_ack_error, assert_error
from tests.ssh.helpers import create_ack, create_workspace

pytestmark = pytest.mark.ssh


def test_wrong_password_is_ssh_auth_failed(server, client, sshd):
    workspace = create_workspace(server, sshd.workspace_body(auth="password", password="not-the-password"))
    error = assert_ack_error(create_ack(client(), workspace["id"]), "ssh_auth_failed")
    assert sshd.username in error["message"]
    assert "not-the-password" not in error["message"]


def test_key_the_server_does_not_know_is_ssh_auth_failed(server, client, sshd, tmp_path):
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", str(tmp_path / "k")], check=True)
    workspace = create_workspace(server, sshd.workspace_body(private_key=(tmp_path / "k").read_text()))
    assert_ack_error(create_ack(client(), workspace["id"]), "ssh_auth_failed")


def test_closed_port_is_ssh_unreachable_at_once(server, client, sshd):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workspace = create_workspace(server, sshd.workspace_body(port=port, pin=False))
    started = time.monotonic()
    error = assert_ack_error(create_ack(client(), workspace["id"]), "ssh_unreachable")
    assert time.monotonic() - started < 3
    assert "refused" in error["message"]


def test_unknown_host_name_is_ssh_dns(server, client, sshd):
    workspace = create_workspace(server, sshd.workspace_body(host="nonexistent.invalid", pin=False))
    started = time.monotonic()
    error = assert_ack_error(create_ack(client(), workspace["id"]), "ssh_dns")
    assert time.monotonic() - started < 8
    assert "nonexistent.invalid" in error["message"]


def test_bad_private_key_is_refused_at_creation(server, sshd):
    response = server.api("POST", "/api/workspaces", server.admin_token,
                          json=sshd.workspace_body(private_key="-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n"
                                                                "-----END OPENSSH PRIVATE KEY-----\n"))
    error = assert_error(response, 400, "bad_request")
    assert "private key" in error["message"]


def test_encrypted_key_needs_its_passphrase(server, sshd, tmp_path):
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "sesame-42", "-f", str(tmp_path / "k")], check=True)
    key = (tmp_path / "k").read_text()
    missing = server.api("POST", "/api/workspaces", server.admin_token, json=sshd.workspace_body(private_key=key))
    assert "passphrase" in assert_error(missing, 400, "bad_request")["message"]
    wrong = server.api("POST", "/api/workspaces", server.admin_token,
                       json=sshd.workspace_body(private_key=key, passphrase="not-it"))
    assert "passphrase" in assert_error(wrong, 400, "bad_request")["message"]
    right = server.api("POST", "/api/workspaces", server.admin_token,
                       json=sshd.workspace_body(private_key=key, passphrase="sesame-42"))
    assert right.status_code == 201, right.text


@pytest.mark.parametrize("change, field", [
    ({"host": "bad host"}, "host"), ({"host": "a..b.example"}, "host"), ({"host": "256.1.1.1"}, "host"),
    ({"host": "x" * 64 + ".example"}, "host"), ({"port": 70000}, "port"), ({"port": "22"}, "port"),
    ({"username": ""}, "username"), ({"password": None, "private_key": None}, "password"),
    ({"host_key": "ssh-ed25519 not-base64!"}, "host_key"),
])
def test_invalid_ssh_fields_are_bad_request(server, sshd, change, field):
    body = {**sshd.workspace_body(auth="key"), **change}
    body = {k: v for k, v in body.items() if v is not None}
    error = assert_error(server.api("POST", "/api/workspaces", server.admin_token, json=body), 400, "bad_request")
    assert field in error["message"] or field == "host_key"


def test_a_port_written_into_the_host_is_pointed_out(server, sshd):
    body = {**sshd.workspace_body(auth="key"), "host": f"{sshd.host}:{sshd.port}"}
    error = assert_error(server.api("POST", "/api/workspaces", server.admin_token, json=body), 400, "bad_request")
    assert "the port goes in 'port'" in error["message"]
