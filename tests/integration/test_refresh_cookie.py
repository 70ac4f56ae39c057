"""The page's refresh token as a cookie scripts cannot read: asked for with `"refresh_cookie": true`,
HttpOnly, SameSite=Strict, Secure behind TLS, scoped to /api/auth, and only taken with the CSRF guard."""

from __future__ import annotations

import requests

from tests.integration.contract import assert_error, new_user

GUARD = {"X-Requested-With": "aict"}


def _cookie_login(server, session: requests.Session, username: str, password: str, **kwargs) -> requests.Response:
    response = session.post(server.url + "/api/auth/login", timeout=30, **kwargs,
                            json={"username": username, "password": password, "refresh_cookie": True})
    assert response.status_code == 200, response.text
    return response


def _set_cookie(response: requests.Response, name: str) -> str:
    headers = [h for h in response.raw.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert len(headers) == 1, response.raw.headers.getlist("Set-Cookie")
    return headers[0]


def _attributes(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


def test_cookie_login_keeps_the_refresh_token_out_of_the_body(server):
    username, password = new_user(server)
    session = requests.Session()
    response = _cookie_login(server, session, username, password)
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    header = _set_cookie(response, "aict_refresh")
    assert {"httponly", "path", "max-age"} <= _attributes(header)
    assert "Path=/api/auth;" in header + ";" and "SameSite=Strict" in header
    assert "secure" not in _attributes(header), "Secure on plain HTTP: the browser would never send it back"
    assert 6 * 86400 < int(header.split("Max-Age=")[1].split(";")[0]) <= 7 * 86400
    assert server.api("GET", "/api/me", body["access_token"]).status_code == 200


def test_the_cookie_refreshes_and_rotates_only_with_the_csrf_guard(server):
    username, password = new_user(server)
    session = requests.Session()
    _cookie_login(server, session, username, password)
    first = session.cookies.get("aict_refresh", path="/api/auth")

    assert_error(session.post(server.url + "/api/auth/refresh", timeout=30), 403, "forbidden")
    foreign = session.post(server.url + "/api/auth/refresh", timeout=30,
                           headers=GUARD | {"Origin": "https://evil.example"})
    assert_error(foreign, 403, "forbidden")
    own = session.post(server.url + "/api/auth/refresh", timeout=30, headers=GUARD | {"Origin": server.url})
    assert own.status_code == 200, own.text
    assert set(own.json()) == {"access_token", "token_type", "expires_in"}
    second = session.cookies.get("aict_refresh", path="/api/auth")
    assert second and second != first, "the cookie's refresh token did not rotate"
    assert server.api("GET", "/api/me", own.json()["access_token"]).status_code == 200


def test_logout_with_the_cookie_ends_the_login_and_clears_the_cookie(server):
    username, password = new_user(server)
    session = requests.Session()
    access = _cookie_login(server, session, username, password).json()["access_token"]
    cookie = session.cookies.get("aict_refresh", path="/api/auth")
    assert_error(session.post(server.url + "/api/auth/logout", timeout=30), 403, "forbidden")

    response = session.post(server.url + "/api/auth/logout", headers=GUARD, timeout=30)
    assert response.status_code == 204, response.text
    assert "Max-Age=0" in _set_cookie(response, "aict_refresh")
    assert session.cookies.get("aict_refresh", path="/api/auth") is None
    assert_error(server.api("GET", "/api/me", access), 401, "token_revoked")
    stale = requests.post(server.url + "/api/auth/refresh", headers=GUARD, cookies={"aict_refresh": cookie},
                          timeout=30)
    assert_error(stale, 401, "token_revoked")
    assert "Max-Age=0" in _set_cookie(stale, "aict_refresh"), "a refused cookie is cleared"


def test_a_bearer_logout_clears_the_cookie_too(server):
    username, password = new_user(server)
    session = requests.Session()
    access = _cookie_login(server, session, username, password).json()["access_token"]
    response = session.post(server.url + "/api/auth/logout", headers={"Authorization": f"Bearer {access}"},
                            timeout=30)
    assert response.status_code == 204
    assert session.cookies.get("aict_refresh", path="/api/auth") is None


def test_no_cookie_and_no_header_is_401(server):
    assert_error(requests.post(server.url + "/api/auth/refresh", headers=GUARD, timeout=30), 401, "unauthorized")
    assert_error(requests.post(server.url + "/api/auth/logout", headers=GUARD, timeout=30), 401, "unauthorized")


def test_cookies_are_secure_when_a_trusted_proxy_says_tls(permissive_server):
    server = permissive_server  # trusts one proxy's X-Forwarded-*
    username, password = new_user(server)
    tls = _cookie_login(server, requests.Session(), username, password, headers={"X-Forwarded-Proto": "https"})
    assert "secure" in _attributes(_set_cookie(tls, "aict_refresh"))
    assert "secure" in _attributes(_set_cookie(tls, "aict_device"))


def test_a_client_cannot_claim_tls_without_a_trusted_proxy(server):
    username, password = new_user(server)
    claimed = _cookie_login(server, requests.Session(), username, password, headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in _attributes(_set_cookie(claimed, "aict_refresh"))


def test_a_new_login_in_the_same_browser_ends_the_one_it_replaces(server):
    username, password = new_user(server)
    session = requests.Session()
    old_access = _cookie_login(server, session, username, password).json()["access_token"]
    old_cookie = session.cookies.get("aict_refresh", path="/api/auth")
    new_access = _cookie_login(server, session, username, password).json()["access_token"]
    assert_error(server.api("GET", "/api/me", old_access), 401, "token_revoked")
    stale = requests.post(server.url + "/api/auth/refresh", headers=GUARD, cookies={"aict_refresh": old_cookie},
                          timeout=30)
    assert_error(stale, 401, "token_revoked")
    assert server.api("GET", "/api/me", new_access).status_code == 200
    assert session.post(server.url + "/api/auth/refresh", headers=GUARD, timeout=30).status_code == 200
