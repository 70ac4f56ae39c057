"""Login, throttling, refresh, logout and token validation, as a client sees them."""

from __future__ import annotations

import secrets
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import socketio

from tests.integration.contract import (
    assert_error,
    craft_token,
    login_tokens,
    new_user,
    raw_socket,
    server_secret,
    wait_until,
)
from tests.server import RunningServer

LOCK_SECONDS = 5


@pytest.fixture(scope="module")
def throttle_server(tmp_path_factory):
    """Locks a username after 3 failures for 5 s; the IP limit is out of the way. Password hashes at
    their real cost, as every production server makes them (other test servers make cheap ones)."""
    running = RunningServer(tmp_path_factory.mktemp("aict-throttle"), {
        "AICT_LOGIN_USER_FAILURES": "3", "AICT_LOGIN_LOCK_SECONDS": str(LOCK_SECONDS),
        "AICT_LOGIN_IP_FAILURES": "1000", "AICT_LOGIN_RATE": "1000 per minute",
        "AICT_TEST_CHEAP_PASSWORD_HASHES": "0"}).start()
    yield running
    running.stop()


def _login(server: RunningServer, username: str, password: str):
    return server.api("POST", "/api/auth/login", json={"username": username, "password": password})


def _past() -> int:
    return int((datetime.now(UTC) - timedelta(minutes=5)).timestamp())


# ---- health and login --------------------------------------------------------------------------

def test_healthz_answers_ok_without_a_token(server):
    response = server.api("GET", "/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_login_returns_bearer_tokens_with_expiry(server):
    username, password = new_user(server)
    response = _login(server, username, password)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert isinstance(body["refresh_token"], str) and body["refresh_token"]
    assert body["access_token"] != body["refresh_token"]
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert abs(claims["exp"] - claims["iat"] - body["expires_in"]) <= 1


def test_me_describes_the_caller(server):
    username, password = new_user(server)
    token = login_tokens(server, username, password)["access_token"]
    me = server.api("GET", "/api/me", token)
    assert me.status_code == 200
    # The contract's `user` (v1.1), and what the caller may create (extension; the default settings).
    assert me.json() == {"id": me.json()["id"], "username": username, "role": "user",
                         "disabled": False, "totp": False, "created_at": me.json()["created_at"],
                         "last_login_at": me.json()["last_login_at"], "totp_required": False,
                         "can": {"create_local_workspace": False, "create_ssh_workspace": False}}
    assert me.json()["created_at"].endswith("Z") and me.json()["last_login_at"].endswith("Z")
    assert isinstance(me.json()["id"], str)
    admin = server.api("GET", "/api/me", server.admin_token).json()
    assert admin["username"] == server.admin_username and admin["role"] == "admin"
    assert admin["can"] == {"create_local_workspace": True, "create_ssh_workspace": True}


def test_me_says_what_the_settings_let_users_create(start_server):
    server = start_server({"AICT_USER_LOCAL_WORKSPACES": "1", "AICT_SSH_ALLOWED_HOSTS": "*.example.com"})
    username, password = new_user(server)
    me = server.api("GET", "/api/me", login_tokens(server, username, password)["access_token"]).json()
    assert me["can"] == {"create_local_workspace": True, "create_ssh_workspace": True}


def test_me_without_a_token_is_401(server):
    assert_error(server.api("GET", "/api/me"), 401, "unauthorized")


def test_wrong_password_and_unknown_user_get_the_same_401(throttle_server):
    username, _ = new_user(throttle_server)
    wrong = _login(throttle_server, username, "not-the-password")
    unknown = _login(throttle_server, "nobody-by-this-name", "not-the-password")
    assert_error(wrong, 401, "invalid_credentials")
    assert_error(unknown, 401, "invalid_credentials")
    assert wrong.json() == unknown.json()


def test_passwords_are_stored_as_strong_scrypt_hashes(throttle_server):
    username, _ = new_user(throttle_server)
    with sqlite3.connect(throttle_server.instance / "aict.db") as db:
        stored = dict(db.execute("SELECT username, password_hash FROM users"))
    # werkzeug's scrypt at n=2**15, r=8, p=1 (~160 ms of CPU a guess), for the first admin and a new user
    assert stored[username].startswith("scrypt:32768:8:1$"), stored[username]
    assert stored[throttle_server.admin_username].startswith("scrypt:32768:8:1$")
    assert _login(throttle_server, username, "password-123").status_code == 200


def test_login_without_a_password_is_bad_request(server):
    assert_error(server.api("POST", "/api/auth/login", json={"username": "admin"}), 400, "bad_request")


# ---- throttling --------------------------------------------------------------------------------

def test_failures_lock_the_username_even_for_the_right_password(throttle_server):
    username, password = new_user(throttle_server)
    for _ in range(3):
        assert_error(_login(throttle_server, username, "wrong-password"), 401, "invalid_credentials")
    locked = _login(throttle_server, username, password)
    assert_error(locked, 429, "throttled")
    retry_after = int(locked.headers["Retry-After"])
    assert 1 <= retry_after <= LOCK_SECONDS


def test_guessing_the_current_password_of_a_password_change_is_throttled_and_audited(throttle_server):
    """With someone's session, guessing their password through POST /api/me/password is as slow
    as through the login: each wrong one a failed login of the username (audited), then locked."""
    username, password = new_user(throttle_server)
    token = login_tokens(throttle_server, username, password)["access_token"]
    change = "/api/me/password"
    for _ in range(3):
        wrong = throttle_server.api("POST", change, token, json={"current_password": "guess-123",
                                                                 "new_password": "new-password-1"})
        assert_error(wrong, 401, "invalid_credentials")
    locked = throttle_server.api("POST", change, token, json={"current_password": password,
                                                              "new_password": "new-password-1"})
    assert_error(locked, 429, "throttled")
    assert 1 <= int(locked.headers["Retry-After"]) <= LOCK_SECONDS
    assert_error(_login(throttle_server, username, password), 429, "throttled")  # the username is locked
    failures = throttle_server.api("GET", "/api/audit", throttle_server.admin_token,
                                   params={"type": "login_failed", "user": username}).json()["events"]
    assert [e["detail"].get("reason") for e in failures] == ["password_change"] * 3


def test_an_admin_sees_a_locked_login_and_lifts_it(throttle_server):
    """The Users list says a username is locked and for how long; unlocking it (or a new password)
    lets the right password in at once, audited. It stayed locked through a reset and a re-enable."""
    username, password = new_user(throttle_server)
    for _ in range(3):
        _login(throttle_server, username, "wrong-password")
    assert_error(_login(throttle_server, username, password), 429, "throttled")

    def listed() -> dict:
        users = throttle_server.api("GET", "/api/users", throttle_server.admin_token).json()
        return next(u for u in users if u["username"] == username)

    assert 1 <= listed()["login_locked_seconds"] <= LOCK_SECONDS
    unlocked = throttle_server.api("PATCH", f"/api/users/{listed()['id']}", throttle_server.admin_token,
                                   json={"unlock": True})
    assert unlocked.status_code == 200 and "login_locked_seconds" not in unlocked.json(), unlocked.text
    assert _login(throttle_server, username, password).status_code == 200
    assert_error(throttle_server.api("PATCH", f"/api/users/{listed()['id']}", throttle_server.admin_token,
                                     json={"unlock": False}), 400, "bad_request")
    events = throttle_server.api("GET", "/api/audit", throttle_server.admin_token,
                                 params={"type": "user_update"}).json()["events"]
    assert any(e["detail"] == {"user": username, "changed": ["login_lock"]} for e in events), events

    for _ in range(3):  # locked again: a new password set by an admin lifts it too
        _login(throttle_server, username, "wrong-password")
    assert "login_locked_seconds" in listed()
    reset = throttle_server.api("PATCH", f"/api/users/{listed()['id']}", throttle_server.admin_token,
                                json={"password": "a-new-password-9"})
    assert reset.status_code == 200, reset.text
    assert _login(throttle_server, username, "a-new-password-9").status_code == 200


def test_a_locked_username_does_not_lock_other_usernames(throttle_server):
    locked_name, _ = new_user(throttle_server)
    other_name, other_password = new_user(throttle_server)
    for _ in range(3):
        _login(throttle_server, locked_name, "wrong-password")
    assert _login(throttle_server, locked_name, "wrong-password").status_code == 429
    assert _login(throttle_server, other_name, other_password).status_code == 200


def test_lock_is_not_extended_by_refused_attempts_and_then_expires(throttle_server):
    username, password = new_user(throttle_server)
    for _ in range(3):
        _login(throttle_server, username, "wrong-password")
    tripped = time.monotonic()
    first = _login(throttle_server, username, password)
    assert first.status_code == 429
    time.sleep(2)
    for attempt in (password, "wrong-password", password):
        refused = _login(throttle_server, username, attempt)
        assert_error(refused, 429, "throttled")
    remaining = int(refused.headers["Retry-After"])
    assert remaining <= int(first.headers["Retry-After"]) - 1, "refused attempts extended the lock"
    time.sleep(max(0.0, tripped + LOCK_SECONDS + 0.5 - time.monotonic()))
    assert _login(throttle_server, username, password).status_code == 200


def test_unknown_usernames_lock_like_known_ones(throttle_server):
    """The lock must not tell an attacker which usernames exist."""
    name = f"ghost{secrets.token_hex(4)}"
    for _ in range(3):
        assert_error(_login(throttle_server, name, "wrong-password"), 401, "invalid_credentials")
    assert_error(_login(throttle_server, name, "wrong-password"), 429, "throttled")


def test_success_resets_the_username_failure_count(throttle_server):
    username, password = new_user(throttle_server)
    for _ in range(2):
        assert_error(_login(throttle_server, username, "wrong-password"), 401, "invalid_credentials")
    assert _login(throttle_server, username, password).status_code == 200
    for _ in range(2):
        assert_error(_login(throttle_server, username, "wrong-password"), 401, "invalid_credentials")
    assert _login(throttle_server, username, password).status_code == 200


def test_failures_across_usernames_block_the_ip(start_server):
    server = start_server({"AICT_LOGIN_USER_FAILURES": "3", "AICT_LOGIN_IP_FAILURES": "4",
                           "AICT_LOGIN_LOCK_SECONDS": "60", "AICT_LOGIN_RATE": "1000 per minute"})
    username, password = new_user(server)
    for n in range(4):
        assert_error(_login(server, f"stranger{n}", "wrong-password"), 401, "invalid_credentials")
    blocked = _login(server, username, password)
    assert_error(blocked, 429, "throttled")
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert_error(_login(server, server.admin_username, server.admin_password), 429, "throttled")
    # without a trusted proxy, a client cannot step around the block by claiming another address
    spoofed = server.api("POST", "/api/auth/login", json={"username": username, "password": password},
                         headers={"X-Forwarded-For": "198.51.100.7", "X-Real-IP": "198.51.100.7"})
    assert_error(spoofed, 429, "throttled")


# ---- refresh and logout ------------------------------------------------------------------------

def test_refresh_token_mints_a_working_access_token(server):
    tokens = login_tokens(server, *new_user(server))
    response = server.api("POST", "/api/auth/refresh", tokens["refresh_token"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    assert server.api("GET", "/api/me", body["access_token"]).status_code == 200


def test_access_token_cannot_be_used_to_refresh(server):
    tokens = login_tokens(server, *new_user(server))
    assert server.api("POST", "/api/auth/refresh", tokens["access_token"]).status_code == 401


def test_refresh_token_is_not_an_access_token(server):
    tokens = login_tokens(server, *new_user(server))
    assert server.api("GET", "/api/me", tokens["refresh_token"]).status_code == 401
    with pytest.raises(socketio.exceptions.ConnectionError):
        raw_socket(server.url, tokens["refresh_token"])


def test_logout_revokes_every_token_of_that_login_only(server):
    username, password = new_user(server)
    tokens = login_tokens(server, username, password)
    other_login = login_tokens(server, username, password)
    refreshed = server.api("POST", "/api/auth/refresh", tokens["refresh_token"]).json()["access_token"]

    assert server.api("POST", "/api/auth/logout", tokens["access_token"]).status_code == 204

    assert server.api("POST", "/api/auth/logout", tokens["access_token"]).status_code == 401
    assert server.api("GET", "/api/me", tokens["access_token"]).status_code == 401
    assert server.api("GET", "/api/me", refreshed).status_code == 401
    assert server.api("POST", "/api/auth/refresh", tokens["refresh_token"]).status_code == 401
    assert server.api("GET", "/api/me", other_login["access_token"]).status_code == 200
    assert server.api("POST", "/api/auth/refresh", other_login["refresh_token"]).status_code == 200


def test_logout_disconnects_sockets_of_that_login_within_5_seconds(server, client):
    username, password = new_user(server)
    tokens = login_tokens(server, username, password)
    other_login = login_tokens(server, username, password)
    refreshed = server.api("POST", "/api/auth/refresh", tokens["refresh_token"]).json()["access_token"]
    revoked_sockets = [client(tokens["access_token"]), client(refreshed)]
    kept_socket = client(other_login["access_token"])

    assert server.api("POST", "/api/auth/logout", tokens["access_token"]).status_code == 204

    wait_until(lambda: not any(s.sio.connected for s in revoked_sockets), timeout=5,
               message="every socket of the login disconnected")
    assert kept_socket.sio.connected
    assert kept_socket.call("list-terminals", {})["ok"] is True
    with pytest.raises(socketio.exceptions.ConnectionError):
        raw_socket(server.url, tokens["access_token"])


# ---- expired and forged tokens -----------------------------------------------------------------

def test_token_resigned_with_the_server_key_is_accepted(server):
    """The control for the crafted-token tests below: re-signing alone changes nothing."""
    token = craft_token(login_tokens(server, *new_user(server))["access_token"], server_secret(server))
    assert server.api("GET", "/api/me", token).status_code == 200
    raw_socket(server.url, token).disconnect()


def test_expired_token_is_refused_over_http_and_socket(server):
    genuine = login_tokens(server, *new_user(server))["access_token"]
    expired = craft_token(genuine, server_secret(server), exp=_past())
    assert server.api("GET", "/api/me", expired).status_code == 401
    with pytest.raises(socketio.exceptions.ConnectionError):
        raw_socket(server.url, expired)


def test_expired_refresh_token_cannot_refresh(server):
    genuine = login_tokens(server, *new_user(server))["refresh_token"]
    expired = craft_token(genuine, server_secret(server), exp=_past())
    assert server.api("POST", "/api/auth/refresh", expired).status_code == 401


@pytest.mark.parametrize("forgery", ["wrong_key", "alg_none", "hs512", "no_expiry", "other_user"])
def test_forged_token_is_refused_over_http_and_socket(server, forgery):
    genuine = login_tokens(server, *new_user(server))["access_token"]
    secret = server_secret(server)
    admin_id = server.api("GET", "/api/me", server.admin_token).json()["id"]
    forged = {
        "wrong_key": lambda: craft_token(genuine, "not-the-server-key-" * 3),
        "alg_none": lambda: craft_token(genuine, None, algorithm="none"),
        "hs512": lambda: craft_token(genuine, secret, algorithm="HS512"),
        "no_expiry": lambda: craft_token(genuine, secret, drop=("exp",)),
        # a genuine signature is required: claiming to be the admin with the wrong key gets nothing
        "other_user": lambda: craft_token(genuine, "guessed-key-" * 4, sub=admin_id),
    }[forgery]()
    response = server.api("GET", "/api/me", forged)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] in ("invalid_token", "unauthorized", "token_expired")
    with pytest.raises(socketio.exceptions.ConnectionError):
        raw_socket(server.url, forged)


def test_garbage_bearer_token_is_401(server):
    assert server.api("GET", "/api/me", "not.a.jwt").status_code == 401
    undecodable = server.api("GET", "/api/me", "t7e3.eyJ.x")  # base64 of bytes that are not UTF-8
    assert undecodable.status_code == 401 and undecodable.json()["error"]["code"] == "invalid_token"
    assert "codec" not in undecodable.json()["error"]["message"], undecodable.text  # not Python's words
    response = server.api("GET", "/api/me", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert response.status_code == 401
