"""Tokens end on sockets too (v1.1): a socket renews its access token with `authenticate` before it
expires, or is cut off with `error` {"code": "token_expired"}, its terminals running on."""

from __future__ import annotations

import threading
import time

import jwt
import pytest

from tests.integration.contract import (
    assert_ack_error,
    assert_echoes,
    craft_token,
    login_tokens,
    new_user,
    server_secret,
    wait_until,
)
from tests.server import TerminalClient

TOKEN_SECONDS = 10


@pytest.fixture(scope="module")
def short_tokens(tmp_path_factory):
    """Access tokens that last 10 s (the setting allows seconds; the contract's cut-off is 60 s)."""
    from tests.server import RunningServer

    running = RunningServer(tmp_path_factory.mktemp("aict-short-tokens"), {
        "AICT_ACCESS_TOKEN_SECONDS": str(TOKEN_SECONDS), "AICT_LOGIN_RATE": "10000 per minute",
        "AICT_USER_LOCAL_WORKSPACES": "1"}).start().wait_for_host()  # a 10 s token's clock starts at once
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _fresh_admin_token(short_tokens):
    short_tokens._tokens.clear()  # the admin's cached token lasts 10 s too


def _expiry(token: str) -> float:
    return jwt.decode(token, options={"verify_signature": False})["exp"]


def _socket(server, token: str) -> TerminalClient:
    client = TerminalClient()
    client.connect(server.url, token)
    return client


def _refresh(server, refresh_token: str) -> dict:
    response = server.api("POST", "/api/auth/refresh", refresh_token)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_socket_that_does_not_reauthenticate_is_cut_off_and_one_that_does_stays(short_tokens):
    server = short_tokens
    tokens = login_tokens(server, *new_user(server))
    workspace = server.create_local_workspace(tokens["access_token"])
    kept, lapsed = _socket(server, tokens["access_token"]), _socket(server, tokens["access_token"])
    try:
        kept_session = kept.create(workspace["id"])
        lapsed_session = lapsed.create(workspace["id"])
        expires = _expiry(tokens["access_token"])
        assert TOKEN_SECONDS - 2 <= expires - time.time() <= TOKEN_SECONDS

        # The renewing socket authenticates with a fresh token of the same login every 4 s.
        stop = threading.Event()
        refresh_token = tokens["refresh_token"]
        answers = []

        def renew():
            nonlocal refresh_token
            while not stop.wait(TOKEN_SECONDS * 0.4):
                fresh = _refresh(server, refresh_token)
                refresh_token = fresh["refresh_token"]
                answers.append(kept.call("authenticate", {"token": fresh["access_token"]}))

        renewer = threading.Thread(target=renew, daemon=True)
        renewer.start()
        try:
            assert lapsed.sio.connected and time.time() < expires
            wait_until(lambda: not lapsed.sio.connected, timeout=expires - time.time() + 60,
                       message="the socket whose token expired cut off")
            cut_after = time.time() - expires
            assert cut_after >= -0.5, f"cut off {-cut_after:.1f} s before its token expired"
            assert [e["code"] for e in lapsed.errors] == ["token_expired"], lapsed.errors
            assert lapsed.errors[0]["message"]

            # Past two lifetimes of its first token, the renewing socket still types.
            time.sleep(max(0.0, expires + TOKEN_SECONDS + 2 - time.time()))
            assert kept.sio.connected and kept.errors == []
            assert answers and all(a == {"ok": True} for a in answers), answers
            assert_echoes(kept, kept_session)
            # The lapsed socket's terminal kept running: the renewing socket attaches to it and types.
            assert kept.call("attach-terminal", {"sessionId": lapsed_session})["ok"] is True
            assert_echoes(kept, lapsed_session)
        finally:
            stop.set()
            renewer.join(10)
    finally:
        kept.close()
        lapsed.close()


def test_authenticate_takes_only_a_valid_token_of_the_same_user(short_tokens):
    server = short_tokens
    username, password = new_user(server)
    tokens = login_tokens(server, username, password)
    other_user = login_tokens(server, *new_user(server))
    ended = login_tokens(server, username, password)
    assert server.api("POST", "/api/auth/logout", ended["access_token"]).status_code == 204
    workspace = server.create_local_workspace(tokens["access_token"])
    client = _socket(server, tokens["access_token"])
    try:
        session_id = client.create(workspace["id"])
        expired = craft_token(login_tokens(server, username, password)["access_token"], server_secret(server),
                              exp=int(time.time()) - 60)
        assert_ack_error(client.call("authenticate", {"token": other_user["access_token"]}), "forbidden")
        assert_ack_error(client.call("authenticate", {"token": ended["access_token"]}), "token_revoked")
        assert_ack_error(client.call("authenticate", {"token": expired}), "token_expired")
        assert_ack_error(client.call("authenticate", {"token": "not.a.jwt"}), "invalid_token")
        assert_ack_error(client.call("authenticate", {"token": tokens["refresh_token"]}), "invalid_token")
        assert_ack_error(client.call("authenticate", {}), "unauthorized")
        assert_ack_error(client.call("authenticate", ["token"]), "bad_request")

        # Still the same user's socket: its own terminal answers, and the other user's token did
        # not lend it their workspaces.
        assert_echoes(client, session_id)
        others_workspace = server.create_local_workspace(other_user["access_token"])
        assert_ack_error(client.call("create-terminal", {"workspaceId": others_workspace["id"]}), "not_found")
        # Nor did any refused token move its cut-off.
        expires = _expiry(tokens["access_token"])
        wait_until(lambda: not client.sio.connected, timeout=expires - time.time() + 60,
                   message="the socket cut off at its own token's expiry")
        assert [e["code"] for e in client.errors] == ["token_expired"]
    finally:
        client.close()


def test_a_token_of_another_login_of_the_same_user_is_taken_and_its_logout_closes_the_socket(short_tokens):
    server = short_tokens
    username, password = new_user(server)
    first, second = login_tokens(server, username, password), login_tokens(server, username, password)
    client = _socket(server, first["access_token"])
    try:
        assert client.call("authenticate", {"token": second["access_token"]}) == {"ok": True}
        # The socket now belongs to the second login: logging the first out leaves it open...
        assert server.api("POST", "/api/auth/logout", first["access_token"]).status_code == 204
        time.sleep(3)
        assert client.sio.connected
        assert client.call("list-terminals", {})["ok"] is True
        # ...and logging the second out closes it within 5 s.
        assert server.api("POST", "/api/auth/logout", second["access_token"]).status_code == 204
        wait_until(lambda: not client.sio.connected, timeout=5, message="socket of the ended login closed")
    finally:
        client.close()
