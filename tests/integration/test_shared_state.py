"""Several web processes on one database and one Redis (REDIS_URL) act as one server: a login
lock, a request limit, a logout and a membership change made through one hold on the other."""

from __future__ import annotations

import json
import secrets
import time

import pytest
import requests

from tests.integration.contract import assert_ack_error, assert_echoes, assert_error, login_tokens, new_user, wait_until
from tests.integration.shared import own_redis_prefix, redis_client, start_pair
from tests.server import RunningServer


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Two processes with the default settings and their Redis prefix, for the tests that need no
    other (each has users, workspaces and terminals of its own): (first, second, prefix)."""
    prefixes = own_redis_prefix()
    prefix = next(prefixes)
    started: list[RunningServer] = []

    def start(settings: dict[str, str]) -> RunningServer:
        started.append(RunningServer(tmp_path_factory.mktemp("aict-pair"), settings).start().wait_for_host())
        return started[-1]

    first, second = start_pair(start, tmp_path_factory.mktemp("pair"), prefix)
    yield first, second, prefix
    for running in started:
        running.stop()
    next(prefixes, None)  # its keys deleted


def _login(server, username: str, password: str, ip: str) -> requests.Response:
    return requests.post(server.url + "/api/auth/login", json={"username": username, "password": password},
                         headers={"X-Forwarded-For": ip}, timeout=30)


def test_a_login_lock_reached_through_one_process_holds_on_the_other(start_server, tmp_path, redis_prefix):
    first, second = start_pair(start_server, tmp_path, redis_prefix, {
        "AICT_LOGIN_USER_FAILURES": "3", "AICT_LOGIN_IP_FAILURES": "5", "AICT_LOGIN_LOCK_SECONDS": "60",
        "AICT_TRUSTED_PROXIES": "1"})
    username, password = new_user(first)
    attacker, user_ip = "203.0.113.9", "198.51.100.9"
    assert_error(_login(first, username, "wrong-password", attacker), 401, "invalid_credentials")
    assert_error(_login(second, username, "wrong-password", attacker), 401, "invalid_credentials")
    assert_error(_login(first, username, "wrong-password", attacker), 401, "invalid_credentials")
    for server in (second, first):  # the third failure, counted across both, locked the name everywhere
        locked = _login(server, username, password, user_ip)
        assert_error(locked, 429, "throttled")
        assert 1 <= int(locked.headers["Retry-After"]) <= 60
    # the attacker's address: 3 failures so far; the block comes at the 5th, wherever it is counted
    assert_error(_login(second, username, "wrong-password", attacker), 429, "throttled")
    assert_error(_login(first, username, "wrong-password", attacker), 429, "throttled")
    other, other_password = new_user(first)
    assert_error(_login(first, other, other_password, attacker), 429, "throttled")
    assert _login(second, other, other_password, user_ip).status_code == 200
    assert any(redis_client().scan_iter(match=f"{redis_prefix}:limits:*")), "the counts are not in Redis"


def test_a_request_limit_is_counted_across_processes(start_server, tmp_path, redis_prefix):
    first, second = start_pair(start_server, tmp_path, redis_prefix, {
        "AICT_API_RATE_PER_IP": "6 per minute", "AICT_TRUSTED_PROXIES": "1"})
    caller = {"X-Forwarded-For": "198.51.100.23"}
    for server in (first, second, first, second, first, second):
        assert_error(server.api("GET", "/api/me", headers=caller), 401, "unauthorized")
    for server in (first, second):
        throttled = server.api("GET", "/api/me", headers=caller)
        assert_error(throttled, 429, "throttled")
        assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert_error(second.api("GET", "/api/me", headers={"X-Forwarded-For": "198.51.100.24"}), 401, "unauthorized")


def test_logout_through_one_process_cuts_the_logins_sockets_on_the_other_at_once(pair):
    first, second, _ = pair
    username, password = new_user(first)
    kept = login_tokens(first, username, password)
    untouched = second.socket(kept["access_token"])
    try:
        for _ in range(3):  # each within half a second: the database sweep alone takes up to 2 s
            ended = login_tokens(first, username, password)
            sockets = [second.socket(ended["access_token"]), second.socket(ended["access_token"])]
            started = time.monotonic()
            assert first.api("POST", "/api/auth/logout", ended["access_token"]).status_code == 204
            wait_until(lambda s=sockets: not any(c.sio.connected for c in s), timeout=5,
                       message="the ended login's sockets on the other process closed")
            assert time.monotonic() - started < 0.5, time.monotonic() - started
            assert all([e["code"] for e in c.errors] == ["token_revoked"] for c in sockets), [c.errors for c in sockets]
        assert untouched.sio.connected and untouched.call("list-terminals", {})["ok"] is True
    finally:
        untouched.close()


def test_a_member_removed_through_one_process_is_detached_on_the_other(pair):
    first, second, _ = pair
    workspace = first.create_local_workspace()
    username, password = new_user(first)
    granted = first.api("POST", f"/api/workspaces/{workspace['id']}/members", first.admin_token,
                        json={"username": username, "access": "operator"})
    assert granted.status_code == 201, granted.text
    owner, member = second.socket(), second.socket(login_tokens(second, username, password)["access_token"])
    try:
        session_id = owner.create(workspace["id"])
        assert member.call("attach-terminal", {"sessionId": session_id})["access"] == "operator"
        assert_echoes(member, session_id)

        removed = first.api("DELETE", f"/api/workspaces/{workspace['id']}/members/{username}", first.admin_token)
        assert removed.status_code == 204
        wait_until(lambda: member.errors, timeout=2, message="the removed member's socket was told")
        assert [(e["code"], e["sessionId"]) for e in member.errors] == [("forbidden", session_id)]
        owner.send(session_id, "echo after-removal-$((6*7))\n")
        owner.wait_for(session_id, "after-removal-42")
        time.sleep(0.3)
        assert b"after-removal-42" not in member.streams.get(session_id, b"")
        assert_ack_error(member.send(session_id, "echo intruder\n"), "not_found")
    finally:
        owner.close()
        member.close()


def test_only_what_crosses_processes_goes_through_redis(pair):
    """A process's emits to its own sockets (terminal output, exits, answers) stay off the queue;
    a logout is one notice on it."""
    first, _, redis_prefix = pair
    listener = redis_client().pubsub(ignore_subscribe_messages=True)
    listener.subscribe(f"{redis_prefix}:socketio")
    username, password = new_user(first)
    tokens = login_tokens(first, username, password)
    client = first.socket()
    user_socket = first.socket(tokens["access_token"])
    try:
        session_id = client.create(first.create_local_workspace()["id"])
        marker = secrets.token_hex(4)
        client.send(session_id, f"printf '{marker}%.0s' $(seq 1 2000); echo; exit 3\n")
        client.wait_for(session_id, marker * 2000)
        assert client.wait_exit(session_id)["exitCode"] == 3
        assert user_socket.call("list-terminals", {})["ok"] is True
        assert first.api("POST", "/api/auth/logout", tokens["access_token"]).status_code == 204
        wait_until(lambda: not user_socket.sio.connected, timeout=5, message="the logged-out socket closed")
        published = []
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline:
            message = listener.get_message(timeout=0.1)
            if message is not None:
                published.append(json.loads(message["data"]))
        assert [(m["method"], m.get("kind")) for m in published] == [("aict-notice", "revoke")], published
    finally:
        client.close()
        user_socket.close()
        listener.close()
