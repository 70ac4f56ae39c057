"""POST /api/users: only admins create users."""

from __future__ import annotations

import secrets

import pytest

from tests.integration.contract import assert_error, login_tokens, new_user


def _create(server, token, **body):
    return server.api("POST", "/api/users", token, json=body)


def test_admin_creates_a_user_who_can_log_in(server):
    username = f"u{secrets.token_hex(5)}"
    response = _create(server, server.admin_token, username=username, password="password-123", role="user")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {"id": body["id"], "username": username, "role": "user", "disabled": False,
                    "totp": False, "created_at": body["created_at"]}
    assert isinstance(body["id"], str) and body["id"]
    token = login_tokens(server, username, "password-123")["access_token"]
    me = server.api("GET", "/api/me", token).json()
    assert me == body | {"last_login_at": me["last_login_at"], "totp_required": False,
                         "can": {"create_local_workspace": False, "create_ssh_workspace": False}}  # default settings
    assert me["last_login_at"].endswith("Z")


def test_admin_creates_another_admin(server):
    username, password = new_user(server, role="admin")
    token = login_tokens(server, username, password)["access_token"]
    assert server.api("GET", "/api/me", token).json()["role"] == "admin"
    assert _create(server, token, username=f"u{secrets.token_hex(5)}", password="password-123",
                   role="user").status_code == 201


def test_non_admin_cannot_create_users(server):
    token = login_tokens(server, *new_user(server))["access_token"]
    response = _create(server, token, username=f"u{secrets.token_hex(5)}", password="password-123", role="admin")
    assert_error(response, 403, "forbidden")


def test_creating_users_needs_a_token(server):
    response = _create(server, None, username=f"u{secrets.token_hex(5)}", password="password-123", role="user")
    assert_error(response, 401, "unauthorized")


def test_duplicate_username_is_a_conflict(server):
    username, _ = new_user(server)
    response = _create(server, server.admin_token, username=username, password="password-456", role="user")
    assert_error(response, 409, "conflict")


@pytest.mark.parametrize("role", ["root", "", "ADMIN", 1])
def test_unknown_role_is_bad_request(server, role):
    body = {"username": f"u{secrets.token_hex(5)}", "password": "password-123", "role": role}
    assert_error(server.api("POST", "/api/users", server.admin_token, json=body), 400, "bad_request")


@pytest.mark.parametrize("body", [
    {"password": "password-123", "role": "user"},
    {"username": "", "password": "password-123"},
    {"username": "has space", "password": "password-123"},
    {"username": "x" * 65, "password": "password-123"},
    {"username": "shortpass", "password": "short"},
    {"username": "nopassword"},
    {"username": ["list"], "password": "password-123"},
])
def test_invalid_user_fields_are_bad_request(server, body):
    assert_error(server.api("POST", "/api/users", server.admin_token, json=body), 400, "bad_request")
