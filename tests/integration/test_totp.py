"""TOTP (v1.1): enrol, confirm, log in with a code that works once, turn off, admin reset, and
REQUIRE_TOTP_FOR_ADMINS."""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
import socketio

from tests.integration.contract import assert_error, audit_events, login_tokens, new_user, raw_socket
from tests.server import own_server_failing_logins

# Its tests fail logins on purpose: on the shared server they would add up to the per-IP block.
server = own_server_failing_logins


def _login(server, username: str, password: str = "password-123", otp: str | None = None):
    body = {"username": username, "password": password}
    if otp is not None:
        body["otp"] = otp
    return server.api("POST", "/api/auth/login", json=body)


def _enrol(server, token: str) -> pyotp.TOTP:
    """Start and confirm an enrolment; returns the authenticator (the confirming code is used up)."""
    started = server.api("POST", "/api/me/totp", token)
    assert started.status_code == 200, started.text
    authenticator = pyotp.TOTP(started.json()["secret"])
    confirmed = server.api("POST", "/api/me/totp/confirm", token, json={"otp": authenticator.now()})
    assert confirmed.status_code == 204, confirmed.text
    return authenticator


def _next_code(authenticator: pyotp.TOTP) -> str:
    """The code of the next 30 s step: accepted now (clock drift), and never the one just used."""
    return authenticator.at(time.time() + 30)


def _user_with_totp(server) -> tuple[str, pyotp.TOTP]:
    username, password = new_user(server)
    return username, _enrol(server, login_tokens(server, username, password)["access_token"])


def test_enrolment_gives_a_secret_and_an_otpauth_uri_for_authenticator_apps(server):
    username, password = new_user(server)
    token = login_tokens(server, username, password)["access_token"]
    started = server.api("POST", "/api/me/totp", token)
    assert started.status_code == 200
    body = started.json()
    assert set(body) >= {"secret", "otpauth_uri"}
    assert len(base64.b32decode(body["secret"])) >= 20  # 160 bits
    uri = urlsplit(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == f"/aict:{username}"
    query = {k: v[0] for k, v in parse_qs(uri.query).items()}
    assert query["secret"] == body["secret"] and query["issuer"] == "aict"
    assert query.get("digits", "6") == "6" and query.get("period", "30") == "30"
    assert query.get("algorithm", "SHA1") == "SHA1"
    assert body["qr_svg"].startswith("data:image/svg+xml")
    # Pending: nothing changes until a code confirms it.
    assert server.api("GET", "/api/me", token).json()["totp"] is False
    assert _login(server, username).status_code == 200


def test_a_wrong_confirmation_code_is_invalid_otp_and_leaves_totp_off(server):
    username, password = new_user(server)
    token = login_tokens(server, username, password)["access_token"]
    assert_error(server.api("POST", "/api/me/totp/confirm", token, json={"otp": "123456"}), 409, "conflict")
    secret = server.api("POST", "/api/me/totp", token).json()["secret"]
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    for otp in (wrong, "", "abcdef", 123456, None, "1234567"):
        assert_error(server.api("POST", "/api/me/totp/confirm", token, json={"otp": otp}), 400, "invalid_otp")
    assert server.api("GET", "/api/me", token).json()["totp"] is False
    assert _login(server, username).status_code == 200


def test_confirmed_totp_makes_login_ask_for_a_code_that_works_once(server):
    username, password = new_user(server)
    token = login_tokens(server, username, password)["access_token"]
    authenticator = _enrol(server, token)
    assert server.api("GET", "/api/me", token).json()["totp"] is True
    assert {"user": username} in [e["detail"] for e in audit_events(server, "totp_enable")]
    # The right password without a code: otp_required. A wrong password is still just wrong.
    assert_error(_login(server, username), 401, "otp_required")
    assert_error(_login(server, username, "wrong-password"), 401, "invalid_credentials")
    assert_error(_login(server, username, "wrong-password", _next_code(authenticator)), 401, "invalid_credentials")

    code = _next_code(authenticator)
    first = _login(server, username, otp=code)
    assert first.status_code == 200, first.text
    assert server.api("GET", "/api/me", first.json()["access_token"]).json()["username"] == username
    reused = assert_error(_login(server, username, otp=code), 401, "invalid_credentials")  # used once
    assert "each code works once" in reused["message"], reused  # what to do about it: wait for the next
    assert_error(_login(server, username, otp=authenticator.now()), 401, "invalid_credentials")  # an older step
    assert_error(_login(server, username, otp="000000" if code != "000000" else "111111"), 401, "invalid_credentials")


def test_the_confirming_code_is_used_up(server):
    username, password = new_user(server)
    token = login_tokens(server, username, password)["access_token"]
    authenticator = pyotp.TOTP(server.api("POST", "/api/me/totp", token).json()["secret"])
    code = authenticator.now()
    assert server.api("POST", "/api/me/totp/confirm", token, json={"otp": code}).status_code == 204
    assert_error(_login(server, username, otp=code), 401, "invalid_credentials")


def test_wrong_codes_count_as_failures_and_missing_ones_do_not(start_server):
    server = start_server({"AICT_LOGIN_USER_FAILURES": "3", "AICT_LOGIN_RATE": "10000 per minute"})
    username, authenticator = _user_with_totp(server)
    for _ in range(6):  # asking for the code never locks anyone out
        assert_error(_login(server, username), 401, "otp_required")
    assert _login(server, username, otp=_next_code(authenticator)).status_code == 200

    other, other_authenticator = _user_with_totp(server)
    for _ in range(3):
        assert_error(_login(server, other, otp="000000"), 401, "invalid_credentials")
    assert_error(_login(server, other), 429, "throttled")  # locked: the password alone is held
    # A valid code is not held by the lock on its user's name (so nobody can lock a user out with it)
    assert _login(server, other, otp=_next_code(other_authenticator)).status_code == 200
    failures = [e for e in audit_events(server, "login_failed") if e["username"] == other]
    assert len(failures) == 3 and all(e["detail"] == {"reason": "otp"} for e in failures)


def test_two_logins_racing_with_one_code_let_one_in(server):
    username, authenticator = _user_with_totp(server)
    code = _next_code(authenticator)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda _: _login(server, username, otp=code).status_code, range(6)))
    assert sorted(statuses) == [200] + [401] * 5, statuses


def test_a_second_enrolment_needs_totp_off_first(server):
    username, password = new_user(server)
    token = login_tokens(server, username, password)["access_token"]
    _enrol(server, token)
    assert_error(server.api("POST", "/api/me/totp", token), 409, "conflict")


def test_turning_totp_off_needs_a_current_code(server):
    username, password = new_user(server)
    token = login_tokens(server, username, password)["access_token"]
    authenticator = _enrol(server, token)
    assert_error(server.api("DELETE", "/api/me/totp", token, json={"otp": "000000"}), 400, "invalid_otp")
    assert_error(server.api("DELETE", "/api/me/totp", token, json={}), 400, "invalid_otp")
    off = server.api("DELETE", "/api/me/totp", token, json={"otp": _next_code(authenticator)})
    assert off.status_code == 204, off.text
    assert server.api("GET", "/api/me", token).json()["totp"] is False
    assert _login(server, username).status_code == 200
    events = [e for e in audit_events(server, "totp_disable") if e["detail"]["user"] == username]
    assert [e["detail"] for e in events] == [{"user": username, "by": "self"}]
    # And on again, with a new secret.
    assert _enrol(server, token).secret


def test_an_admin_resets_a_lost_device(server):
    username, _ = _user_with_totp(server)
    user_id = next(u["id"] for u in server.api("GET", "/api/users", server.admin_token).json()
                   if u["username"] == username)
    reset = server.api("PATCH", f"/api/users/{user_id}", server.admin_token, json={"totp": False})
    assert reset.status_code == 200, reset.text
    assert reset.json()["totp"] is False
    assert _login(server, username).status_code == 200
    events = [e for e in audit_events(server, "totp_disable") if e["detail"]["user"] == username]
    assert events == [{"type": "totp_disable", "username": server.admin_username,
                       "detail": {"user": username, "by": "admin"}}]
    token = login_tokens(server, username, "password-123")["access_token"]
    assert_error(server.api("PATCH", f"/api/users/{user_id}", token, json={"totp": False}), 403, "forbidden")


def test_a_disabled_user_with_totp_is_refused_even_with_a_code(server):
    username, authenticator = _user_with_totp(server)
    user_id = next(u["id"] for u in server.api("GET", "/api/users", server.admin_token).json()
                   if u["username"] == username)
    assert server.api("PATCH", f"/api/users/{user_id}", server.admin_token, json={"disabled": True}).status_code == 200
    assert_error(_login(server, username, otp=_next_code(authenticator)), 401, "invalid_credentials")
    assert_error(_login(server, username), 401, "invalid_credentials")  # no hint that the password was right


# ---- REQUIRE_TOTP_FOR_ADMINS --------------------------------------------------------------------

def _refused_socket(server, token: str) -> dict:
    """Connect expecting a refusal; returns the connect_error payload."""
    client = socketio.Client(reconnection=False)
    errors = []
    client.on("connect_error", lambda *data: errors.append(data[0] if data else None))
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    assert errors, "refused without a connect_error"
    return errors[0]


@pytest.fixture
def strict_server(start_server):
    return start_server({"AICT_REQUIRE_TOTP_FOR_ADMINS": "1", "AICT_LOGIN_RATE": "10000 per minute"})


def test_an_admin_without_totp_may_only_enrol(strict_server):
    server = strict_server
    token = server.admin_token  # the password alone still logs in...
    me = server.api("GET", "/api/me", token)
    assert me.status_code == 200 and me.json()["totp_required"] is True and me.json()["totp"] is False
    # ...but nothing else is allowed until TOTP is on, sockets included.
    assert_error(server.api("GET", "/api/users", token), 403, "totp_required")
    assert_error(server.api("GET", "/api/workspaces", token), 403, "totp_required")
    assert_error(server.api("POST", "/api/users", token, json={"username": "x1", "password": "password-123"}),
                 403, "totp_required")
    assert_error(server.api("POST", "/api/me/password", token,
                            json={"current_password": server.admin_password, "new_password": "x" * 12}),
                 403, "totp_required")
    assert _refused_socket(server, token)["data"]["code"] == "totp_required"

    authenticator = _enrol(server, token)
    assert server.api("GET", "/api/me", token).json()["totp"] is True
    assert server.api("GET", "/api/users", token).status_code == 200
    raw_socket(server.url, token).disconnect()
    # Admins keep it on: turning it off is refused; an admin reset makes them enrol again.
    assert_error(server.api("DELETE", "/api/me/totp", token, json={"otp": _next_code(authenticator)}),
                 403, "forbidden")
    logged_in = _login(server, server.admin_username, server.admin_password, _next_code(authenticator))
    assert logged_in.status_code == 200


def test_users_are_not_held_by_the_admin_rule_and_an_admin_reset_reapplies_it(strict_server):
    server = strict_server
    admin = server.admin_token
    _enrol(server, admin)
    username, password = new_user(server)  # (made by an admin with TOTP on)
    user_token = login_tokens(server, username, password)["access_token"]
    assert server.api("GET", "/api/workspaces", user_token).status_code == 200
    assert server.api("GET", "/api/me", user_token).json()["totp_required"] is False

    second, _ = new_user(server, role="admin")
    second_token = login_tokens(server, second, "password-123")["access_token"]
    assert_error(server.api("GET", "/api/workspaces", second_token), 403, "totp_required")
    _enrol(server, second_token)
    socket = raw_socket(server.url, second_token)
    assert server.api("GET", "/api/workspaces", second_token).status_code == 200
    second_id = next(u["id"] for u in server.api("GET", "/api/users", admin).json() if u["username"] == second)
    assert server.api("PATCH", f"/api/users/{second_id}", admin, json={"totp": False}).status_code == 200
    assert_error(server.api("GET", "/api/workspaces", second_token), 403, "totp_required")
    deadline = time.monotonic() + 5
    while socket.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not socket.connected
