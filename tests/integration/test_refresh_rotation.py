"""Refresh tokens rotate on every use; the one replaced keeps working until its successor is used
(racing tabs, v1 clients); a token older than that, used again, ends the whole login."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import socketio

from tests.integration.audit_log import audit_events
from tests.integration.contract import assert_error, login_tokens, new_user, raw_socket, wait_until


def _refresh(server, token: str):
    return server.api("POST", "/api/auth/refresh", token)


def _jti(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["jti"]


def test_each_refresh_answers_a_new_refresh_token_beside_the_v1_fields(server):
    tokens = login_tokens(server, *new_user(server))
    response = _refresh(server, tokens["refresh_token"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "refresh_token"}
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert _jti(body["refresh_token"]) != _jti(tokens["refresh_token"])
    assert server.api("GET", "/api/me", body["access_token"]).status_code == 200
    following = _refresh(server, body["refresh_token"])
    assert following.status_code == 200
    assert _jti(following.json()["refresh_token"]) not in (_jti(body["refresh_token"]), _jti(tokens["refresh_token"]))


def test_a_client_that_keeps_its_first_refresh_token_keeps_working(server):
    """A v1 client never reads the new field: its login token refreshes again and again."""
    tokens = login_tokens(server, *new_user(server))
    for _ in range(5):
        response = _refresh(server, tokens["refresh_token"])
        assert response.status_code == 200, response.text
        assert server.api("GET", "/api/me", response.json()["access_token"]).status_code == 200


def test_tabs_refreshing_at_once_all_succeed_and_share_one_successor(server):
    tokens = login_tokens(server, *new_user(server))
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: _refresh(server, tokens["refresh_token"]), range(8)))
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    successors = {_jti(a.json()["refresh_token"]) for a in answers}
    assert len(successors) == 1, "racing refreshes forked the login"
    # Whichever tab's answer the browser kept, its token works, and the others' copies too.
    for answer in answers[:3]:
        renewed = _refresh(server, answer.json()["refresh_token"])
        assert renewed.status_code == 200, renewed.text
    assert server.api("GET", "/api/me", answers[-1].json()["access_token"]).status_code == 200


def test_a_rotated_out_refresh_token_used_again_ends_the_whole_login(server, client):
    username, password = new_user(server)
    stolen = login_tokens(server, username, password)
    other_login = login_tokens(server, username, password)
    first = _refresh(server, stolen["refresh_token"]).json()
    second = _refresh(server, first["refresh_token"]).json()  # the successor was used: the first is out
    sockets = [client(stolen["access_token"]), client(second["access_token"])]
    kept = client(other_login["access_token"])

    reused = _refresh(server, stolen["refresh_token"])
    assert_error(reused, 401, "token_revoked")

    wait_until(lambda: not any(s.sio.connected for s in sockets), timeout=5,
               message="every socket of the ended login closed")
    for token in (stolen["access_token"], first["access_token"], second["access_token"]):
        assert_error(server.api("GET", "/api/me", token), 401, "token_revoked")
    for token in (second["refresh_token"], first["refresh_token"]):
        assert_error(_refresh(server, token), 401, "token_revoked")
    with pytest.raises(socketio.exceptions.ConnectionError):
        raw_socket(server.url, second["access_token"])
    # The user's other login is untouched.
    assert kept.sio.connected and kept.call("list-terminals", {})["ok"] is True
    assert _refresh(server, other_login["refresh_token"]).status_code == 200

    events = audit_events(server, "refresh_reuse", username)
    assert len(events) == 1 and events[0]["ip"] == "127.0.0.1", events


def test_refresh_from_a_rotated_out_token_of_an_ended_login_stays_refused(server):
    tokens = login_tokens(server, *new_user(server))
    assert server.api("POST", "/api/auth/logout", tokens["access_token"]).status_code == 204
    assert_error(_refresh(server, tokens["refresh_token"]), 401, "token_revoked")
