"""Socket connect: a valid access token in `auth`, and a browser Origin that is ours or allowed."""

from __future__ import annotations

import pytest
import requests
import socketio

from tests.integration.contract import EXTRA_ORIGIN, login_tokens, new_user, raw_socket

TRANSPORTS = ["websocket", "polling"]
ALLOWED = EXTRA_ORIGIN


def refusal(url: str, auth: object, headers: dict | None = None, transport: str = "websocket") -> dict:
    """Connect expecting a refusal; returns the connect_error payload."""
    client = socketio.Client(reconnection=False, websocket_extra_options={"suppress_origin": True})
    errors = []
    client.on("connect_error", lambda *data: errors.append(data[0] if data else None))
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(url, auth=auth, headers=headers or {}, transports=[transport], wait_timeout=10)
    assert errors, "refused without a connect_error"
    return errors[0]


def accepted(url: str, token: str, headers: dict | None = None, transport: str = "websocket") -> None:
    client = raw_socket(url, token, headers=headers, transport=transport)
    try:
        assert client.connected
        assert client.call("list-terminals", {}, timeout=10)["ok"] is True
    finally:
        client.disconnect()


# ---- tokens ------------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("auth", [None, {}, {"token": ""}, {"token": 12345}, {"token": "not-a-jwt"},
                                  {"token": None}, "a-bare-string"], ids=repr)
def test_connect_without_a_valid_token_is_refused(server, transport, auth):
    refusal(server.url, auth, transport=transport)


def test_refusal_says_why_with_a_code(server):
    error = refusal(server.url, {"token": "not-a-jwt"})
    assert isinstance(error["message"], str) and error["message"]
    assert error["data"]["code"] in ("invalid_token", "unauthorized")
    assert refusal(server.url, None)["data"]["code"] == "unauthorized"


def test_token_in_the_url_is_not_accepted(server):
    refusal(f"{server.url}?token={server.admin_token}", None)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_valid_token_without_origin_is_accepted(server, transport):
    accepted(server.url, server.admin_token, transport=transport)


def test_users_token_connects_as_that_user(server):
    token = login_tokens(server, *new_user(server))["access_token"]
    client = raw_socket(server.url, token)
    try:
        assert client.call("list-terminals", {}, timeout=10) == {"ok": True, "sessions": []}
    finally:
        client.disconnect()


# ---- Origin ------------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1.evil.example",
                                    "https://127.0.0.1:{port}", "http://127.0.0.1:{other}", "not a url"])
def test_foreign_origin_is_refused_even_with_a_valid_token(server, transport, origin):
    origin = origin.format(port=server.port, other=server.port + 1 if server.port < 65535 else 1)
    error = refusal(server.url, {"token": server.admin_token}, {"Origin": origin}, transport)
    assert error["data"]["code"] == "forbidden_origin"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_servers_own_origin_is_accepted(server, transport):
    accepted(server.url, server.admin_token, {"Origin": server.url}, transport)


def test_own_origin_does_not_excuse_a_bad_token(server):
    error = refusal(server.url, {"token": "not-a-jwt"}, {"Origin": server.url})
    assert error["data"]["code"] != "forbidden_origin"


def test_forwarded_headers_from_an_untrusted_client_do_not_make_an_origin_ours(server):
    forged = {"Origin": "https://evil.example", "X-Forwarded-Proto": "https",
              "X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "443"}
    for transport in TRANSPORTS:
        refusal(server.url, {"token": server.admin_token}, forged, transport)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_configured_origins_are_accepted_in_addition_to_our_own(permissive_server, transport):
    token = permissive_server.admin_token
    accepted(permissive_server.url, token, {"Origin": ALLOWED}, transport)
    accepted(permissive_server.url, token, {"Origin": f"{ALLOWED}:443"}, transport)
    accepted(permissive_server.url, token, {"Origin": permissive_server.url}, transport)
    refusal(permissive_server.url, {"token": token}, {"Origin": "https://other.example.com"}, transport)
    refusal(permissive_server.url, {"token": token}, {"Origin": "http://app.example.com"}, transport)


def test_origin_reached_through_a_trusted_proxy_is_ours(permissive_server):
    forwarded = {"Origin": "https://terminal.example.org", "X-Forwarded-Proto": "https",
                 "X-Forwarded-Host": "terminal.example.org", "X-Forwarded-For": "203.0.113.9"}
    for transport in TRANSPORTS:
        accepted(permissive_server.url, permissive_server.admin_token, forwarded, transport)
        mismatched = dict(forwarded, Origin="https://evil.example")
        refusal(permissive_server.url, {"token": permissive_server.admin_token}, mismatched, transport)


# ---- CORS on the long-polling handshake --------------------------------------------------------

def _handshake_cors(url: str, origin: str, **headers) -> dict[str, str | None]:
    response = requests.get(f"{url}/socket.io/", params={"EIO": "4", "transport": "polling"},
                            headers={"Origin": origin, **headers}, timeout=10)
    assert response.status_code == 200, response.text
    return {name: response.headers.get(name)
            for name in ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials")}


def test_a_foreign_origin_gets_no_cors_headers_and_ours_and_configured_ones_do(permissive_server):
    """A page elsewhere may not read the handshake's answers with the user's credentials."""
    url = permissive_server.url
    assert _handshake_cors(url, "http://evil.example") == {
        "Access-Control-Allow-Origin": None, "Access-Control-Allow-Credentials": None}
    assert _handshake_cors(url, url)["Access-Control-Allow-Origin"] == url
    assert _handshake_cors(url, ALLOWED) == {"Access-Control-Allow-Origin": ALLOWED,
                                             "Access-Control-Allow-Credentials": "true"}
    proxied = _handshake_cors(url, "https://terminal.example.org", **{
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "terminal.example.org"})
    assert proxied["Access-Control-Allow-Origin"] == "https://terminal.example.org"
