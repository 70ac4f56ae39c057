"""User administration (v1.1): admins list users and change roles, disabled, passwords and TOTP;
a new password, disabling or demotion ends every login of that user, sockets included; the last
enabled admin is never lost; users change their own password."""

from __future__ import annotations

import secrets
import threading
import time

import pytest

from tests.integration.contract import assert_error, audit_events, login_tokens, new_user, wait_until
from tests.server import own_server_failing_logins

# Its tests fail logins on purpose: on the shared server they would add up to the per-IP block.
server = own_server_failing_logins


def _patch(server, user_id: str, token: str | None = None, **body):
    return server.api("PATCH", f"/api/users/{user_id}", token or server.admin_token, json=body)


def _user_id(server, username: str) -> str:
    return next(u["id"] for u in server.api("GET", "/api/users", server.admin_token).json()
                if u["username"] == username)


def _logged_in_user(server, role: str = "user") -> tuple[str, str, dict]:
    """A new user, logged in: (username, id, tokens)."""
    username, password = new_user(server, role=role)
    return username, _user_id(server, username), login_tokens(server, username, password)


def _assert_closed_within(client, seconds: float) -> float:
    started = time.monotonic()
    wait_until(lambda: not client.sio.connected, timeout=seconds, message="the socket is closed")
    return time.monotonic() - started


def _assert_login_ended(server, tokens: dict) -> None:
    assert_error(server.api("GET", "/api/me", tokens["access_token"]), 401, "token_revoked")
    assert_error(server.api("POST", "/api/auth/refresh", tokens["refresh_token"]), 401, "token_revoked")


# ---- listing -----------------------------------------------------------------------------------

def test_admin_lists_every_user_as_the_contracts_user(server):
    username, user_id, _ = _logged_in_user(server)
    listed = server.api("GET", "/api/users", server.admin_token)
    assert listed.status_code == 200
    mine = next(u for u in listed.json() if u["username"] == username)
    assert mine == {"id": user_id, "username": username, "role": "user", "disabled": False, "totp": False,
                    "created_at": mine["created_at"], "last_login_at": mine["last_login_at"]}
    assert mine["created_at"].endswith("Z") and mine["last_login_at"].endswith("Z")
    admin = next(u for u in listed.json() if u["username"] == server.admin_username)
    assert admin["role"] == "admin"
    assert all("password" not in str(u).lower() and "secret" not in str(u).lower() for u in listed.json())


def test_only_admins_list_and_change_users(server):
    _, user_id, tokens = _logged_in_user(server)
    assert_error(server.api("GET", "/api/users", tokens["access_token"]), 403, "forbidden")
    assert_error(_patch(server, user_id, tokens["access_token"], role="admin"), 403, "forbidden")
    assert_error(server.api("GET", "/api/users"), 401, "unauthorized")
    assert_error(server.api("PATCH", f"/api/users/{user_id}", json={"role": "admin"}), 401, "unauthorized")
    assert server.api("GET", "/api/me", tokens["access_token"]).json()["role"] == "user"


@pytest.mark.parametrize("body", [{}, {"role": "root"}, {"role": None}, {"disabled": "yes"}, {"disabled": 1},
                                  {"totp": True}, {"password": "short"}, {"password": 12345678},
                                  {"username": "renamed"}])
def test_bad_changes_are_bad_request(server, body):
    _, user_id, _ = _logged_in_user(server)
    assert_error(_patch(server, user_id, **body), 400, "bad_request")


def test_changing_an_unknown_user_is_not_found(server):
    assert_error(_patch(server, "no-such-user", disabled=True), 404, "not_found")


@pytest.mark.parametrize("username", ["bob\n", "bob\r", "bo\x1bb", "bo\x07b", "\tbob", "bo\x00b", "bob\x7f"])
def test_control_characters_in_usernames_are_refused(server, username):
    response = server.api("POST", "/api/users", server.admin_token,
                          json={"username": username, "password": "password-123", "role": "user"})
    assert_error(response, 400, "bad_request")


def test_usernames_are_case_sensitive(server):
    username = f"Zed{secrets.token_hex(3)}"
    created = []
    for name in (username, username.lower()):
        response = server.api("POST", "/api/users", server.admin_token,
                              json={"username": name, "password": f"pw-of-{name}", "role": "user"})
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
    assert created[0] != created[1]
    assert login_tokens(server, username.lower(), f"pw-of-{username.lower()}")
    refused = server.api("POST", "/api/auth/login",
                         json={"username": username, "password": f"pw-of-{username.lower()}"})
    assert_error(refused, 401, "invalid_credentials")


# ---- changes that end logins -------------------------------------------------------------------

def test_disabling_a_user_ends_their_logins_and_closes_their_sockets_within_5_seconds(server, client, workspace):
    username, user_id, tokens = _logged_in_user(server)
    server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
               json={"username": username, "access": "operator"})
    socket = client(tokens["access_token"])
    session_id = socket.create(workspace["id"])

    changed = _patch(server, user_id, disabled=True)
    assert changed.status_code == 200, changed.text
    assert changed.json()["disabled"] is True
    assert _assert_closed_within(socket, 5) < 5
    _assert_login_ended(server, tokens)
    assert_error(server.api("POST", "/api/auth/login", json={"username": username, "password": "password-123"}),
                 401, "invalid_credentials")
    # The terminal they started runs on (an admin may still look at it or end it).
    assert server.api("GET", f"/api/sessions/{session_id}", server.admin_token).json()["status"] == "running"

    enabled = _patch(server, user_id, disabled=False)
    assert enabled.status_code == 200 and enabled.json()["disabled"] is False
    _assert_login_ended(server, tokens)  # re-enabling does not bring old logins back
    assert login_tokens(server, username, "password-123")
    details = [e["detail"] for e in audit_events(server, "user_update") if e["detail"]["user"] == username]
    assert details == [{"user": username, "changed": ["disabled"], "disabled": True},
                       {"user": username, "changed": ["disabled"], "disabled": False}]


def test_a_password_set_by_an_admin_ends_every_login_of_the_user(server, client):
    username, user_id, tokens = _logged_in_user(server)
    other_login = login_tokens(server, username, "password-123")
    socket = client(tokens["access_token"])
    changed = _patch(server, user_id, password="brand-new-password")
    assert changed.status_code == 200, changed.text
    assert _assert_closed_within(socket, 5) < 5
    _assert_login_ended(server, tokens)
    _assert_login_ended(server, other_login)
    assert_error(server.api("POST", "/api/auth/login", json={"username": username, "password": "password-123"}),
                 401, "invalid_credentials")
    assert login_tokens(server, username, "brand-new-password")
    event = [e for e in audit_events(server, "user_update") if e["detail"]["user"] == username][-1]
    assert event["username"] == server.admin_username
    assert event["detail"] == {"user": username, "changed": ["password"]}
    assert "brand-new-password" not in str(audit_events(server, "user_update"))


def test_demoting_an_admin_ends_their_logins_and_promoting_gives_admin_rights(server, client):
    username, user_id, tokens = _logged_in_user(server, role="admin")
    socket = client(tokens["access_token"])
    demoted = _patch(server, user_id, role="user")
    assert demoted.status_code == 200 and demoted.json()["role"] == "user"
    assert _assert_closed_within(socket, 5) < 5
    _assert_login_ended(server, tokens)
    token = login_tokens(server, username, "password-123")["access_token"]
    assert_error(server.api("GET", "/api/users", token), 403, "forbidden")

    promoted = _patch(server, user_id, role="admin")
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    assert server.api("GET", "/api/users", token).status_code == 200  # promotion keeps the login


def test_a_change_to_nothing_new_changes_nothing(server):
    username, user_id, tokens = _logged_in_user(server)
    same = _patch(server, user_id, role="user", disabled=False)
    assert same.status_code == 200 and same.json()["role"] == "user"
    assert server.api("GET", "/api/me", tokens["access_token"]).status_code == 200
    assert not [e for e in audit_events(server, "user_update") if e["detail"]["user"] == username]


# ---- the last admin ----------------------------------------------------------------------------

def test_the_last_enabled_admin_is_never_demoted_or_disabled(start_server):
    server = start_server()
    admin_id = _user_id(server, server.admin_username)
    assert_error(_patch(server, admin_id, role="user"), 409, "last_admin")
    assert_error(_patch(server, admin_id, disabled=True), 409, "last_admin")
    me = server.api("GET", "/api/me", server.admin_token).json()
    assert me["role"] == "admin" and me["disabled"] is False

    # A disabled admin does not count: the only enabled one is still the last.
    other, other_id, _ = _logged_in_user(server, role="admin")
    assert _patch(server, other_id, disabled=True).status_code == 200
    assert_error(_patch(server, admin_id, role="user"), 409, "last_admin")
    # With a second enabled admin, either may go.
    assert _patch(server, other_id, disabled=False).status_code == 200
    assert _patch(server, admin_id, role="user").status_code == 200
    token = login_tokens(server, other, "password-123")["access_token"]
    assert_error(_patch(server, other_id, token, role="user"), 409, "last_admin")


def _remove(server, start: threading.Barrier, answers: dict, actor: tuple, target: tuple, how: dict) -> None:
    start.wait()
    answers[actor[0]] = _patch(server, target[1], actor[2], **how).status_code


def _race(one, two, first: tuple, rounds: int) -> None:
    """Rounds of: `first` (an admin: name, id, token) makes a second admin; at the same moment the
    first demotes the second through server `one` and the second disables the first through `two`.
    Exactly one enabled admin must remain each time; the survivor goes on as `first`."""
    for _round in range(rounds):
        name = f"a{secrets.token_hex(5)}"
        made = one.api("POST", "/api/users", first[2], json={"username": name, "password": "password-123",
                                                              "role": "admin"})
        assert made.status_code == 201, made.text
        second = (name, made.json()["id"], login_tokens(two, name, "password-123")["access_token"])
        answers: dict[str, int] = {}
        start = threading.Barrier(2)
        threads = [threading.Thread(target=_remove, args=(one, start, answers, first, second, {"role": "user"})),
                   threading.Thread(target=_remove, args=(two, start, answers, second, first, {"disabled": True}))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        # The loser is refused: last_admin, or its login already ended (401) or its role gone (403).
        assert sorted(answers.values()) in ([200, 401], [200, 403], [200, 409]), answers
        winner = first if answers[first[0]] == 200 else second
        users = one.api("GET", "/api/users", winner[2]).json()
        enabled_admins = [u for u in users if u["role"] == "admin" and not u["disabled"]]
        assert [u["username"] for u in enabled_admins] == [winner[0]], users
        password = one.admin_password if winner[0] == one.admin_username else "password-123"
        first = (winner[0], winner[1], login_tokens(one, winner[0], password)["access_token"])


def test_two_admins_removing_each_other_at_once_leave_one(start_server):
    server = start_server()
    _race(server, server, (server.admin_username, _user_id(server, server.admin_username), server.admin_token), 5)


def test_two_admins_on_two_servers_of_one_postgresql_database_leave_one(start_server, postgres_url):
    """The last-admin check holds across processes: each change locks the admins' rows first."""
    shared = {"AICT_DATABASE_URL": postgres_url, "AICT_SECRET_KEY": secrets.token_urlsafe(48)}
    one = start_server(shared)
    two = start_server(shared)  # a second node: same database and signing key, its own process
    _race(one, two, (one.admin_username, _user_id(one, one.admin_username), one.admin_token), 8)


# ---- a user's own password ---------------------------------------------------------------------

def test_changing_ones_own_password_needs_the_current_one(server):
    username, _, tokens = _logged_in_user(server)
    wrong = server.api("POST", "/api/me/password", tokens["access_token"],
                       json={"current_password": "not-my-password", "new_password": "another-password"})
    assert_error(wrong, 401, "invalid_credentials")
    short = server.api("POST", "/api/me/password", tokens["access_token"],
                       json={"current_password": "password-123", "new_password": "short"})
    assert_error(short, 400, "bad_request")
    missing = server.api("POST", "/api/me/password", tokens["access_token"], json={"new_password": "x" * 10})
    assert_error(missing, 400, "bad_request")
    assert_error(server.api("POST", "/api/me/password", json={"current_password": "password-123",
                                                              "new_password": "another-password"}),
                 401, "unauthorized")
    assert login_tokens(server, username, "password-123")  # unchanged


def test_a_new_own_password_ends_the_other_logins(server, client):
    username, _, tokens = _logged_in_user(server)
    other = login_tokens(server, username, "password-123")
    other_socket = client(other["access_token"])
    changed = server.api("POST", "/api/me/password", tokens["access_token"],
                         json={"current_password": "password-123", "new_password": "my-new-password"})
    assert changed.status_code == 204, changed.text
    assert _assert_closed_within(other_socket, 5) < 5
    _assert_login_ended(server, other)
    assert server.api("GET", "/api/me", tokens["access_token"]).status_code == 200  # the caller's own goes on
    assert_error(server.api("POST", "/api/auth/login", json={"username": username, "password": "password-123"}),
                 401, "invalid_credentials")
    assert login_tokens(server, username, "my-new-password")
    assert {"user": username, "source": "self"} in [e["detail"] for e in audit_events(server, "password_change")]

