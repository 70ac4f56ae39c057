"""GET/PUT /api/me/settings: each user's page settings, checked, kept on the server, their own."""

from __future__ import annotations

import pytest

from tests.integration.contract import assert_error, login_tokens, new_user

DEFAULTS = {"theme": "dark", "font_size": 14, "font_family": "DejaVu Sans Mono", "scrollback": 5000,
            "cursor_style": "block", "cursor_blink": False, "local_echo": "auto"}
CHOSEN = {"theme": "light", "font_size": 18, "font_family": "Liberation Mono", "scrollback": 20000,
          "cursor_style": "bar", "cursor_blink": True, "local_echo": "always"}


@pytest.fixture
def token(server):
    return login_tokens(server, *new_user(server))["access_token"]


def test_a_new_user_gets_the_defaults(server, token):
    response = server.api("GET", "/api/me/settings", token)
    assert response.status_code == 200, response.text
    assert response.json() == DEFAULTS


def test_saved_settings_follow_the_user_to_another_login(server):
    username, password = new_user(server)
    first = login_tokens(server, username, password)["access_token"]
    saved = server.api("PUT", "/api/me/settings", first, json=CHOSEN)
    assert saved.status_code == 200, saved.text
    assert saved.json() == CHOSEN
    second = login_tokens(server, username, password)["access_token"]  # another browser
    assert server.api("GET", "/api/me/settings", second).json() == CHOSEN


def test_keys_left_out_take_their_defaults(server, token):
    server.api("PUT", "/api/me/settings", token, json=CHOSEN)
    response = server.api("PUT", "/api/me/settings", token, json={"font_size": 20})
    assert response.status_code == 200, response.text
    assert response.json() == DEFAULTS | {"font_size": 20}
    assert server.api("GET", "/api/me/settings", token).json() == DEFAULTS | {"font_size": 20}


def test_one_users_settings_are_not_anothers(server, token):
    server.api("PUT", "/api/me/settings", token, json=CHOSEN)
    other = login_tokens(server, *new_user(server))["access_token"]
    assert server.api("GET", "/api/me/settings", other).json() == DEFAULTS


@pytest.mark.parametrize("body", [
    {"colour": "red"},                      # unknown key
    {"theme": "sepia"},
    {"theme": None},
    {"font_size": 7}, {"font_size": 33}, {"font_size": "14"}, {"font_size": 14.5}, {"font_size": True},
    {"font_family": "Comic Sans MS"},
    {"font_family": "monospace; background: red"},
    {"scrollback": -1}, {"scrollback": 50_001}, {"scrollback": 10**20},
    {"cursor_style": "blinking"},
    {"cursor_blink": "yes"}, {"cursor_blink": 1}, {"cursor_blink": None},
    {"local_echo": "on"}, {"local_echo": True},
])
def test_bad_settings_are_refused_and_change_nothing(server, token, body):
    server.api("PUT", "/api/me/settings", token, json=CHOSEN)
    error = assert_error(server.api("PUT", "/api/me/settings", token, json=body), 400, "bad_request")
    assert next(iter(body)) in error["message"]  # the sentence names the key
    assert server.api("GET", "/api/me/settings", token).json() == CHOSEN


@pytest.mark.parametrize("raw", [b"[]", b'"dark"', b"null", b"{", b"not json"])
def test_a_body_that_is_not_an_object_is_refused(server, token, raw):
    response = server.api("PUT", "/api/me/settings", token, data=raw, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "bad_request")


def test_an_oversized_body_is_refused(server, token):
    body = {"theme": "dark", "padding": "x" * 5000}
    assert_error(server.api("PUT", "/api/me/settings", token, json=body), 413, "too_large")


def test_settings_need_a_login(server):
    assert_error(server.api("GET", "/api/me/settings"), 401, "unauthorized")
    assert_error(server.api("PUT", "/api/me/settings", json={"theme": "light"}), 401, "unauthorized")
