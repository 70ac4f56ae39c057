"""A lockout an attacker cannot aim at a user forever: usernames lock case-sensitively, a device that
logged in before gets past its user's lock (never past its IP's), and disabled users are out."""

from __future__ import annotations

import secrets
import sqlite3

import pytest
import requests

from tests.integration.audit_log import audit_events
from tests.integration.contract import assert_error, login_tokens, wait_until
from tests.server import RunningServer

USER_IP, ELSEWHERE = "198.51.100.10", "192.0.2.77"


@pytest.fixture(scope="module")
def lockout_server(tmp_path_factory):
    """3 failures lock a username, 6 an IP, for a minute; one trusted proxy says who is calling."""
    running = RunningServer(tmp_path_factory.mktemp("aict-lockout"), {
        "AICT_LOGIN_USER_FAILURES": "3", "AICT_LOGIN_IP_FAILURES": "6", "AICT_LOGIN_LOCK_SECONDS": "60",
        "AICT_LOGIN_RATE": "10000 per minute", "AICT_TRUSTED_PROXIES": "1"}).start()
    yield running
    running.stop()


def _create(server, username: str, password: str = "password-123") -> None:
    response = server.api("POST", "/api/users", server.admin_token,
                          json={"username": username, "password": password, "role": "user"})
    assert response.status_code == 201, response.text


def _login(server, username: str, password: str, ip: str, session: requests.Session | None = None):
    return (session or requests).post(server.url + "/api/auth/login", timeout=30,
                                      json={"username": username, "password": password},
                                      headers={"X-Forwarded-For": ip})


def test_failures_on_one_spelling_do_not_lock_another(lockout_server):
    server = lockout_server
    tag, attacker = secrets.token_hex(3), "203.0.113.1"  # each test's own attacker, counting from zero
    upper, lower = f"Zed{tag}", f"zed{tag}"
    _create(server, upper)
    _create(server, lower)
    for _ in range(3):
        assert_error(_login(server, upper, "wrong-password", attacker), 401, "invalid_credentials")
    assert_error(_login(server, upper, "password-123", ELSEWHERE), 429, "throttled")
    assert _login(server, lower, "password-123", ELSEWHERE).status_code == 200
    # and a name is one user: the other spelling's password does not open it
    assert_error(_login(server, lower.upper(), "password-123", ELSEWHERE), 401, "invalid_credentials")


def test_a_known_device_gets_past_its_users_lock_and_nothing_else_does(lockout_server):
    server = lockout_server
    victim, bystander, attacker = f"victim{secrets.token_hex(3)}", f"other{secrets.token_hex(3)}", "203.0.113.2"
    _create(server, victim)
    _create(server, bystander)
    device, others_device = requests.Session(), requests.Session()
    assert _login(server, victim, "password-123", USER_IP, device).status_code == 200
    assert _login(server, bystander, "password-123", USER_IP, others_device).status_code == 200
    assert device.cookies.get("aict_device", path="/api/auth/login")

    for _ in range(3):
        assert_error(_login(server, victim, "wrong-password", attacker), 401, "invalid_credentials")
    locked = _login(server, victim, "password-123", ELSEWHERE)
    assert_error(locked, 429, "throttled")
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    # another user's device does not open this user's lock
    assert_error(_login(server, victim, "password-123", USER_IP, others_device), 429, "throttled")
    # a made-up device cookie neither
    forged = requests.Session()
    forged.cookies.set("aict_device", secrets.token_urlsafe(32), path="/api/auth/login")
    assert_error(_login(server, victim, "password-123", USER_IP, forged), 429, "throttled")

    answer = _login(server, victim, "password-123", USER_IP, device)
    assert answer.status_code == 200, answer.text
    assert server.api("GET", "/api/me", answer.json()["access_token"]).json()["username"] == victim
    assert _login(server, bystander, "password-123", ELSEWHERE).status_code == 200
    # the attacker is still held
    assert_error(_login(server, victim, "password-123", attacker), 429, "throttled")

    failed = audit_events(server, "login_failed", victim)
    assert len(failed) == 3 and {e["ip"] for e in failed} == {attacker}, failed
    held = audit_events(server, "throttled", victim)
    assert len(held) == 4 and all(e["detail"]["lock"] == "username" for e in held), held
    logins = audit_events(server, "login", victim)
    assert logins[-1]["ip"] == USER_IP, logins
    assert logins[-1]["detail"] == {"known_device": True, "username_locked": True}, logins


def test_a_known_device_is_still_held_by_its_ips_block(lockout_server):
    server = lockout_server
    username = f"shared{secrets.token_hex(3)}"
    _create(server, username)
    ip = "198.51.100.99"
    device = requests.Session()
    assert _login(server, username, "password-123", ip, device).status_code == 200
    for n in range(6):
        _login(server, f"guess{n}{secrets.token_hex(2)}", "wrong-password", ip)
    blocked = _login(server, username, "password-123", ip, device)
    assert_error(blocked, 429, "throttled")
    assert audit_events(server, "throttled", username)[-1]["detail"]["lock"] == "ip"


def test_a_disabled_user_cannot_log_in_and_their_tokens_and_sockets_end(lockout_server):
    server = lockout_server
    username = f"leaver{secrets.token_hex(3)}"
    _create(server, username)
    tokens = login_tokens(server, username, "password-123")
    socket = server.socket(tokens["access_token"])
    try:
        with sqlite3.connect(server.instance / "aict.db") as db:
            db.execute("UPDATE users SET disabled = 1 WHERE username = ?", (username,))
        assert_error(_login(server, username, "password-123", ELSEWHERE), 401, "invalid_credentials")
        assert_error(server.api("GET", "/api/me", tokens["access_token"]), 401, "token_revoked")
        assert_error(server.api("POST", "/api/auth/refresh", tokens["refresh_token"]), 401, "token_revoked")
        wait_until(lambda: not socket.sio.connected, timeout=5, message="the disabled user's socket closed")
    finally:
        socket.close()


def test_last_login_at_follows_each_successful_login(lockout_server):
    server = lockout_server
    username = f"regular{secrets.token_hex(3)}"
    _create(server, username)
    first = login_tokens(server, username, "password-123")["access_token"]
    before = server.api("GET", "/api/me", first).json()["last_login_at"]
    assert _login(server, username, "wrong-password", ELSEWHERE).status_code == 401
    assert server.api("GET", "/api/me", first).json()["last_login_at"] == before
    second = login_tokens(server, username, "password-123")["access_token"]
    assert server.api("GET", "/api/me", second).json()["last_login_at"] > before



def test_a_valid_one_time_code_gets_past_its_users_lock_and_nothing_less_does(lockout_server):
    import time

    import pyotp

    username = f"otp{secrets.token_hex(3)}"
    _create(lockout_server, username)
    token = _login(lockout_server, username, "password-123", "10.9.0.1").json()["access_token"]
    secret = lockout_server.api("POST", "/api/me/totp", token).json()["secret"]
    authenticator = pyotp.TOTP(secret)
    assert lockout_server.api("POST", "/api/me/totp/confirm", token,
                              json={"otp": authenticator.now()}).status_code == 204
    for n in range(3):  # the attacker, from addresses of its own, locks the name
        assert _login(lockout_server, username, "guess", f"10.9.1.{n}").status_code == 401
    locked = _login(lockout_server, username, "password-123", "10.9.2.1")
    assert locked.status_code == 429  # the right password alone does not get past the lock

    def with_code(password: str, code: str, ip: str):
        return requests.post(lockout_server.url + "/api/auth/login", timeout=30, headers={"X-Forwarded-For": ip},
                             json={"username": username, "password": password, "otp": code})

    next_code = authenticator.at(time.time() + 30)
    assert with_code("guess", next_code, "10.9.2.2").status_code == 429  # a code with a wrong password: the lock
    assert with_code("password-123", "000000" if next_code != "000000" else "111111", "10.9.2.3").status_code == 429
    answer = with_code("password-123", next_code, "10.9.2.4")
    assert answer.status_code == 200, answer.text
    assert with_code("password-123", next_code, "10.9.2.5").status_code == 429  # a code works once
    logins = audit_events(lockout_server, "login", username)
    assert {"otp": True, "username_locked": True} in [e["detail"] for e in logins]
