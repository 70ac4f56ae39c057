"""SSH credentials are sealed at rest and never leave the server: no answer, log or table shows them."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest
from cryptography.fernet import Fernet

from tests.ssh.helpers import create_workspace

pytestmark = pytest.mark.ssh


def _key_material(private_key: str) -> list[bytes]:
    """Recognisable pieces of a private key: each full base64 line of its body."""
    return [line.encode() for line in private_key.splitlines() if line and not line.startswith("-----")]


def test_credentials_never_appear_in_answers_logs_or_the_database(server, client, sshd, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "pass-phrase-77", "-f", str(tmp_path / "k")],
                   check=True)
    protected_key = (tmp_path / "k").read_text()
    secrets_ = [sshd.password.encode(), b"pass-phrase-77", *_key_material(sshd.private_key),
                *_key_material(protected_key)]

    answers = []
    body = sshd.workspace_body(auth="both")
    created = server.api("POST", "/api/workspaces", server.admin_token, json=body)
    assert created.status_code == 201, created.text
    workspace_id = created.json()["id"]
    answers.append(created)
    answers.append(server.api("PATCH", f"/api/workspaces/{workspace_id}", server.admin_token,
                              json={"private_key": protected_key, "passphrase": "pass-phrase-77"}))
    answers.append(server.api("GET", f"/api/workspaces/{workspace_id}", server.admin_token))
    answers.append(server.api("GET", "/api/workspaces", server.admin_token))
    c = client()
    session_id = c.create(workspace_id)  # logs in with the password (the new key is not authorised)
    c.send(session_id, "whoami\n")
    c.wait_for(session_id, sshd.username)
    answers.append(server.api("GET", f"/api/sessions/{session_id}", server.admin_token))
    answers.append(server.api("GET", "/api/sessions", server.admin_token))
    answers.append(server.api("GET", "/api/audit", server.admin_token))
    for answer in answers:
        assert answer.status_code in (200, 201, 404), answer.text  # /api/audit may not exist yet
        assert all(secret not in answer.content for secret in secrets_), answer.text
    for field in ("password", "private_key", "passphrase", "credentials"):
        assert field not in created.json()

    database = (server.instance / "aict.db").read_bytes()
    assert all(secret not in database for secret in secrets_)
    log = server.log_path.read_bytes()
    assert all(secret not in log for secret in secrets_)
    with sqlite3.connect(server.instance / "aict.db") as db:
        sealed, = db.execute("SELECT credentials FROM workspaces WHERE id = ?", (workspace_id,)).fetchone()
    assert bytes(sealed).startswith(b"v1:")


def _rotate(server, keys: str) -> str:
    """Run `flask aict rotate-credentials` against the server's database with these keys."""
    saved = server.env.get("AICT_ENCRYPTION_KEY")
    server.env["AICT_ENCRYPTION_KEY"] = keys
    try:
        return server.flask("aict", "rotate-credentials").stdout
    finally:
        if saved is None:
            server.env.pop("AICT_ENCRYPTION_KEY")
        else:
            server.env["AICT_ENCRYPTION_KEY"] = saved


def test_rotating_the_encryption_key_reseals_stored_credentials(ssh_server, sshd):
    """new,old decrypts everything and `rotate-credentials` re-seals with the new key; a server that
    only has a key that no longer opens them says so instead of failing obscurely."""
    old = (ssh_server.instance / "encryption_key").read_text().strip()  # generated in development
    new = Fernet.generate_key().decode()
    workspace = create_workspace(ssh_server, sshd.workspace_body(auth="password"))
    try:
        assert "Re-encrypted the credentials of" in _rotate(ssh_server, f"{new},{old}")
        with sqlite3.connect(ssh_server.instance / "aict.db") as db:
            sealed, = db.execute("SELECT credentials FROM workspaces WHERE id = ?",
                                 (workspace["id"],)).fetchone()
        assert bytes(sealed).startswith(b"v1:")
        assert json.loads(Fernet(new.encode()).decrypt(bytes(sealed)[3:])) == {"password": sshd.password}

        c = ssh_server.socket()  # this server runs with the old key only
        try:
            answer = c.call("create-terminal", {"workspaceId": workspace["id"]}, timeout=20)
        finally:
            c.close()
        assert answer["ok"] is False and answer["error"]["code"] == "ssh_credentials_unreadable", answer
    finally:
        _rotate(ssh_server, f"{old},{new}")  # back to the key the running server has

    c = ssh_server.socket()
    try:
        session_id = c.create(workspace["id"])
        c.send(session_id, "whoami\n")
        c.wait_for(session_id, sshd.username)
    finally:
        c.close()
