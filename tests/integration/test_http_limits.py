"""HSTS behind a trusted TLS proxy, and the general request limits on the HTTP API: per user and
per IP, each refusal a 429 `throttled` with Retry-After, audited once a minute, not once a request."""

from __future__ import annotations

import sqlite3

import requests

from tests.integration.contract import assert_error, login_tokens, new_user


def test_hsts_only_for_https_requests_from_a_trusted_proxy(server, permissive_server):
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "127.0.0.1",
             "X-Forwarded-Port": str(permissive_server.port)}
    behind_proxy = permissive_server.api("GET", "/login", headers=dict(https))
    assert behind_proxy.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" in permissive_server.api("GET", "/api/me", headers=dict(https)).headers
    assert "Strict-Transport-Security" not in permissive_server.api("GET", "/login").headers  # plain HTTP
    # no proxy is trusted on the default server: a client's own X-Forwarded-Proto changes nothing
    assert "Strict-Transport-Security" not in server.api("GET", "/login", headers=dict(https)).headers


def _throttled_audits(server) -> list[tuple]:
    with sqlite3.connect(server.instance / "aict.db") as db:
        return db.execute("SELECT type, username, ip, detail FROM audit_events WHERE type = 'throttled'").fetchall()


def test_each_user_has_a_request_budget_and_refusals_are_audited_once(start_server):
    server = start_server({"AICT_API_RATE_PER_USER": "20 per minute"})
    token = login_tokens(server, *new_user(server))["access_token"]
    other = login_tokens(server, *new_user(server))["access_token"]
    answers = [server.api("GET", "/api/workspaces", token) for _ in range(60)]
    assert [a.status_code for a in answers[:20]] == [200] * 20
    refused = answers[20:]
    assert all(a.status_code == 429 for a in refused)
    error = assert_error(refused[0], 429, "throttled")
    assert error["message"]
    assert 1 <= int(refused[0].headers["Retry-After"]) <= 60
    # another user, from the same address, has a budget of their own; a forged token spends nobody's
    assert server.api("GET", "/api/workspaces", other).status_code == 200
    assert server.api("GET", "/api/workspaces", token[:-4] + "AAAA").status_code == 401
    audits = _throttled_audits(server)
    assert len(audits) == 1, audits  # 40 refusals, one event
    assert '"/api/workspaces"' in audits[0][3] and audits[0][2] == "127.0.0.1"


def test_each_address_has_a_request_budget_whoever_asks(start_server):
    server = start_server({"AICT_API_RATE_PER_IP": "30 per minute", "AICT_LOGIN_RATE": "10000 per minute"})
    token = server.admin_token  # a login: the login has limits of its own, not these
    codes = [server.api("GET", "/api/me", token).status_code for _ in range(20)]
    codes += [server.api("GET", "/api/sessions").status_code for _ in range(20)]  # anonymous, same address
    assert codes[:20] == [200] * 20
    assert 401 in codes[20:] and codes[-1] == 429
    refused = server.api("GET", "/api/me", token)
    assert_error(refused, 429, "throttled")
    assert int(refused.headers["Retry-After"]) >= 1
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200  # not the API: not counted
    assert requests.get(server.url + "/login", timeout=10).status_code == 200
    assert len(_throttled_audits(server)) == 1


def test_default_budgets_are_not_in_a_normal_users_way(server):
    token = login_tokens(server, *new_user(server))["access_token"]
    for _ in range(100):
        assert server.api("GET", "/api/me", token).status_code == 200
