"""Host keys are never trusted silently: confirm on first use, refuse (and audit) a changed key."""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import time

import pytest

from tests.integration.contract import assert_ack_error, assert_error
from tests.ssh.helpers import create_ack, create_workspace

pytestmark = pytest.mark.ssh


def _other_host_key(tmp_path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    return " ".join((tmp_path / "other.pub").read_text().split()[:2])


def _audit_events(server, type_: str) -> list[dict]:
    with sqlite3.connect(server.instance / "aict.db") as db:
        rows = db.execute("SELECT type, username, workspace_id, detail FROM audit_events WHERE type = ?",
                          (type_,)).fetchall()
    return [{"type": t, "username": u, "workspace_id": w, "detail": json.loads(d)} for t, u, w, d in rows]


def test_first_connection_asks_to_confirm_the_host_key(server, client, sshd):
    workspace = create_workspace(server, sshd.workspace_body(pin=False))
    assert "host_key_fingerprint" not in workspace
    trust = f"/api/workspaces/{workspace['id']}/trust-host-key"

    none_offered = server.api("POST", trust, server.admin_token, json={"fingerprint": sshd.host_fingerprint})
    assert_error(none_offered, 409, "fingerprint_mismatch")

    c = client()
    error = assert_ack_error(create_ack(c, workspace["id"]), "host_key_unknown")
    assert error["fingerprint"] == sshd.host_fingerprint
    assert error["host_key"] == sshd.host_key
    assert sshd.host_fingerprint in error["message"]

    wrong = server.api("POST", trust, server.admin_token, json={"fingerprint": "SHA256:" + "A" * 43})
    assert_error(wrong, 409, "fingerprint_mismatch")
    assert "host_key_fingerprint" not in server.api("GET", f"/api/workspaces/{workspace['id']}",
                                                    server.admin_token).json()

    right = server.api("POST", trust, server.admin_token, json={"fingerprint": error["fingerprint"]})
    assert right.status_code == 200, right.text
    assert right.json()["id"] == workspace["id"]
    assert right.json()["host_key_fingerprint"] == sshd.host_fingerprint

    session_id = c.create(workspace["id"])
    c.send(session_id, "whoami\n")
    c.wait_for(session_id, sshd.username)
    events = [e for e in _audit_events(server, "host_key_trust") if e["workspace_id"] == workspace["id"]]
    assert len(events) == 1 and events[0]["detail"]["fingerprint"] == sshd.host_fingerprint
    assert events[0]["username"] == server.admin_username

    again = server.api("POST", trust, server.admin_token, json={"fingerprint": error["fingerprint"]})
    assert_error(again, 409, "fingerprint_mismatch")  # the offer was used up


def test_unconfirmed_key_never_reaches_login(server, client, sshd):
    """The key check comes before authentication: no password is sent to an unverified host."""
    def failed_logins() -> int:
        return sshd.log_path.read_text(errors="replace").count(f"Failed password for {sshd.username}")

    before = failed_logins()
    workspace = create_workspace(server, sshd.workspace_body(auth="password", password="wrong-one", pin=False))
    error = assert_ack_error(create_ack(client(), workspace["id"]), "host_key_unknown")
    assert failed_logins() == before
    trusted = server.api("POST", f"/api/workspaces/{workspace['id']}/trust-host-key", server.admin_token,
                         json={"fingerprint": error["fingerprint"]})
    assert trusted.status_code == 200, trusted.text
    assert_ack_error(create_ack(client(), workspace["id"]), "ssh_auth_failed")
    deadline = time.monotonic() + 5  # sshd's log line may trail its answer a little
    while failed_logins() == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert failed_logins() == before + 1  # (so the count above would have seen a login attempt)


def test_changed_host_key_is_refused_and_audited(server, client, sshd, tmp_path):
    other = _other_host_key(tmp_path)
    workspace = create_workspace(server, sshd.workspace_body(host_key=other))
    pinned = workspace["host_key_fingerprint"]
    assert pinned != sshd.host_fingerprint
    error = assert_ack_error(create_ack(client(), workspace["id"]), "host_key_mismatch")
    assert sshd.host_fingerprint in error["message"] and pinned in error["message"]

    events = [e for e in _audit_events(server, "host_key_mismatch") if e["workspace_id"] == workspace["id"]]
    assert len(events) == 1
    assert events[0]["username"] == server.admin_username
    assert events[0]["detail"]["pinned_fingerprint"] == pinned
    assert events[0]["detail"]["presented_fingerprint"] == sshd.host_fingerprint

    trust = server.api("POST", f"/api/workspaces/{workspace['id']}/trust-host-key", server.admin_token,
                       json={"fingerprint": sshd.host_fingerprint})
    assert_error(trust, 409, "fingerprint_mismatch")  # a changed key is never re-trusted by a click

    repin = server.api("PATCH", f"/api/workspaces/{workspace['id']}", server.admin_token,
                       json={"host_key": sshd.host_key})
    assert repin.status_code == 200, repin.text
    assert repin.json()["host_key_fingerprint"] == sshd.host_fingerprint
    updates = [e for e in _audit_events(server, "workspace_update") if e["workspace_id"] == workspace["id"]]
    assert updates and "host_key" in updates[-1]["detail"]["changed"]
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "whoami\n")
    c.wait_for(session_id, sshd.username)


def test_host_key_line_from_ssh_keyscan_is_accepted_and_fingerprinted_like_ssh_keygen(server, sshd):
    line = f"[{sshd.host}]:{sshd.port} {sshd.host_key}"
    workspace = create_workspace(server, sshd.workspace_body(host_key=line))
    assert workspace["host_key_fingerprint"] == sshd.host_fingerprint
    blob = base64.b64decode(sshd.host_key.split()[1])
    assert len(blob) > 32


def test_only_owner_or_admin_may_trust_a_host_key(server, client, sshd):
    workspace = create_workspace(server, sshd.workspace_body(pin=False))
    error = assert_ack_error(create_ack(client(), workspace["id"]), "host_key_unknown")
    username, token = server.create_user()
    trust = f"/api/workspaces/{workspace['id']}/trust-host-key"
    assert_error(server.api("POST", trust, token, json={"fingerprint": error["fingerprint"]}), 404, "not_found")
    grant = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                       json={"username": username, "access": "operator"})
    assert grant.status_code == 201, grant.text
    assert_error(server.api("POST", trust, token, json={"fingerprint": error["fingerprint"]}), 403, "forbidden")
    assert server.api("POST", trust, server.admin_token, json={"fingerprint": error["fingerprint"]}).status_code == 200


def test_trust_needs_a_fingerprint_and_an_ssh_workspace(server, sshd):
    workspace = create_workspace(server, sshd.workspace_body(pin=False))
    trust = f"/api/workspaces/{workspace['id']}/trust-host-key"
    assert_error(server.api("POST", trust, server.admin_token, json={}), 400, "bad_request")
    local = server.create_local_workspace()
    assert_error(server.api("POST", f"/api/workspaces/{local['id']}/trust-host-key", server.admin_token,
                            json={"fingerprint": sshd.host_fingerprint}), 400, "bad_request")


def test_changing_the_host_forgets_the_pinned_key(server, sshd):
    workspace = create_workspace(server, sshd.workspace_body())
    assert workspace["host_key_fingerprint"] == sshd.host_fingerprint
    moved = server.api("PATCH", f"/api/workspaces/{workspace['id']}", server.admin_token, json={"port": 2222})
    assert moved.status_code == 200, moved.text
    assert moved.json()["port"] == 2222 and "host_key_fingerprint" not in moved.json()
