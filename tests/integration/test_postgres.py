"""The same contract on PostgreSQL (database) and Redis (throttling storage) as in production."""

from __future__ import annotations

import secrets
import socket

import pytest

from tests.integration.contract import assert_echoes, assert_error, login_tokens, new_user, wait_until
from tests.integration.databases import postgres_dsn
from tests.server import RunningServer

REDIS_URL = "redis://127.0.0.1:6379"


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _require(port: int, what: str) -> None:
    if not _listening(port):
        pytest.fail(f"no {what} on 127.0.0.1:{port}: the suite runs against the real service")


@pytest.fixture
def pg_server(start_server, postgres_url):
    return start_server({"AICT_DATABASE_URL": postgres_url})


def _pg_rows(sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(postgres_dsn()) as conn:
        return conn.execute(sql).fetchall()


def test_migrations_login_workspace_and_terminal_on_postgresql(pg_server):
    server: RunningServer = pg_server
    assert _pg_rows("SELECT version_num FROM alembic_version"), "migrations did not record a version"
    assert server.api("GET", "/healthz").json()["status"] == "ok"

    username, password = new_user(server)
    assert_error(server.api("POST", "/api/users", server.admin_token,
                            json={"username": username, "password": "password-456", "role": "user"}), 409, "conflict")
    tokens = login_tokens(server, username, password)
    workspace = server.create_local_workspace(name="ŝpaco ✓")
    assert workspace["name"] == "ŝpaco ✓"
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": "operator"})
    assert granted.status_code == 201, granted.text
    assert [w["id"] for w in server.api("GET", "/api/workspaces", tokens["access_token"]).json()] == [workspace["id"]]

    c = server.socket(tokens["access_token"])
    try:
        session_id = c.create(workspace["id"], cols=120, rows=40)
        assert_echoes(c, session_id)
        c.send(session_id, "false # 100%_done\n")
        c.send(session_id, "exit 5\n")
        assert c.wait_exit(session_id)["exitCode"] == 5
    finally:
        c.close()

    def history(query: str) -> list[dict]:  # LIKE's % and _ are searched for as they are
        return server.api("GET", f"/api/workspaces/{workspace['id']}/history", tokens["access_token"],
                          params={"q": query}).json()

    wait_until(lambda: history("%_DONE"), message="the command in the history")
    assert [(i["command"], i["exit_code"]) for i in history("%_DONE")] == [("false # 100%_done", 1)]
    assert history("100%x") == [] and history("0_d") == []

    def exited() -> dict | None:
        sessions = server.api("GET", "/api/sessions", tokens["access_token"],
                              params={"workspace_id": workspace["id"], "status": "exited"}).json()
        return sessions[0] if sessions else None

    wait_until(exited, timeout=10, message="session listed as exited")
    session = exited()
    assert session["id"] == session_id and session["exit_code"] == 5 and session["owner"] == username
    assert _pg_rows(f"SELECT status, exit_code FROM terminal_sessions WHERE id = '{session_id}'") == [("exited", 5)]
    recording = server.api("GET", f"/api/sessions/{session_id}/recording", tokens["access_token"])
    assert recording.status_code == 200 and '"version": 2' in recording.text.splitlines()[0]
    assert "exit 5" in recording.text  # the typed command was echoed, recorded and stored in PostgreSQL
    assert _pg_rows(f"SELECT DISTINCT codec FROM recording_chunks WHERE session_id = '{session_id}'") == [("zstd",)]
    purged = server.flask("aict", "purge-recordings", "--older-than", "0")  # every ended terminal's, in batches
    assert "Purged" in purged.stdout and _pg_rows(
        f"SELECT count(*) FROM recording_chunks WHERE session_id = '{session_id}'") == [(0,)]

    assert server.api("POST", "/api/auth/logout", tokens["access_token"]).status_code == 204
    assert server.api("GET", "/api/me", tokens["access_token"]).status_code == 401
    assert server.api("POST", "/api/auth/refresh", tokens["refresh_token"]).status_code == 401
    assert server.api("DELETE", f"/api/workspaces/{workspace['id']}", server.admin_token).status_code == 204


def test_refresh_rotation_holds_under_racing_requests_on_postgresql(pg_server):
    """PostgreSQL lets the racing refreshes interleave for real: one rotates, the rest share its successor."""
    from concurrent.futures import ThreadPoolExecutor

    import jwt

    server: RunningServer = pg_server
    tokens = login_tokens(server, *new_user(server))
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: server.api("POST", "/api/auth/refresh", tokens["refresh_token"]), range(8)))
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    successor = {jwt.decode(a.json()["refresh_token"], options={"verify_signature": False})["jti"] for a in answers}
    assert len(successor) == 1, successor
    following = server.api("POST", "/api/auth/refresh", answers[0].json()["refresh_token"])
    assert following.status_code == 200
    # the login token's successor was used: the login token is out, and using it ends the login
    assert_error(server.api("POST", "/api/auth/refresh", tokens["refresh_token"]), 401, "token_revoked")
    assert_error(server.api("GET", "/api/me", following.json()["access_token"]), 401, "token_revoked")
    assert _pg_rows("SELECT count(*) FROM logins WHERE revoked_at IS NOT NULL") == [(1,)]
    # and the newest migration goes down and up again on PostgreSQL
    server.flask("db", "downgrade", "cd0048521ef8")
    assert _pg_rows("SELECT count(*) FROM information_schema.tables WHERE table_name = 'revoked_logins'") == [(1,)]
    server.flask("db", "upgrade")
    assert _pg_rows("SELECT count(*) FROM information_schema.columns WHERE column_name = 'previous_jti'") == [(1,)]


# ---- Redis as the throttling storage -----------------------------------------------------------

@pytest.fixture
def redis_settings(redis_prefix):
    """Throttling in the real Redis under a key prefix of the test's own: no counter of another test
    (or of another run) meets it, and none of theirs is touched."""
    _require(6379, "Redis")
    return {"AICT_RATELIMIT_STORAGE_URI": REDIS_URL, "AICT_REDIS_PREFIX": redis_prefix,
            "AICT_LOGIN_USER_FAILURES": "3", "AICT_LOGIN_LOCK_SECONDS": "30", "AICT_LOGIN_IP_FAILURES": "1000",
            "AICT_LOGIN_RATE": "10000 per minute"}


def test_login_lock_lives_in_redis_and_holds_across_server_processes(start_server, redis_settings):
    first = start_server(redis_settings)
    username = f"redis{secrets.token_hex(4)}"
    created = first.api("POST", "/api/users", first.admin_token,
                        json={"username": username, "password": "password-123", "role": "user"})
    assert created.status_code == 201, created.text
    for _ in range(3):
        assert_error(first.api("POST", "/api/auth/login", json={"username": username, "password": "wrong-one"}),
                     401, "invalid_credentials")
    locked = first.api("POST", "/api/auth/login", json={"username": username, "password": "password-123"})
    assert_error(locked, 429, "throttled")
    assert 1 <= int(locked.headers["Retry-After"]) <= 30

    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    try:
        prefix = redis_settings["AICT_REDIS_PREFIX"]
        assert any(username in key.decode() for key in connection.scan_iter(f"{prefix}:limits*")), \
            "the lock is not stored in Redis"
    finally:
        connection.close()

    second = start_server(redis_settings)
    created = second.api("POST", "/api/users", second.admin_token,
                         json={"username": username, "password": "password-123", "role": "user"})
    assert created.status_code == 201, created.text
    elsewhere = second.api("POST", "/api/auth/login", json={"username": username, "password": "password-123"})
    assert_error(elsewhere, 429, "throttled")
