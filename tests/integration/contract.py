"""Shared checks for the black-box contract tests: error bodies, acks, crafted tokens, raw sockets."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Callable

import jwt
import requests
import websocket

from tests.server import InOrderClient, RunningServer, TerminalClient

EXTRA_ORIGIN = "https://app.example.com"  # allowed on the permissive_server


def assert_error(response: requests.Response, status: int, code: str) -> dict:
    """The response is the contract's error body with this status and code; returns the error."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str) and error["message"], body
    return error


def assert_ack_error(answer: dict, code: str) -> dict:
    """The ack is `{"ok": false, "error": {"code", "message"}}` with this code; returns the error."""
    assert answer["ok"] is False, answer
    assert answer["error"]["code"] == code, answer
    assert isinstance(answer["error"]["message"], str) and answer["error"]["message"], answer
    return answer["error"]


def login_tokens(server: RunningServer, username: str, password: str) -> dict:
    response = server.api("POST", "/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def new_user(server: RunningServer, password: str = "password-123", role: str = "user") -> tuple[str, str]:
    """Create a user with a fresh name; returns (username, password) without logging in."""
    username = f"u{secrets.token_hex(5)}"
    response = server.api("POST", "/api/users", server.admin_token,
                          json={"username": username, "password": password, "role": role})
    assert response.status_code == 201, response.text
    return username, password


def server_secret(server: RunningServer) -> str:
    """The key the server signs tokens with (generated into its instance folder in development)."""
    return (server.instance / "secret_key").read_text().strip()


def craft_token(genuine: str, key: str | None, algorithm: str = "HS256", drop: tuple[str, ...] = (),
                **changes) -> str:
    """Re-sign a genuine token's claims with some changed (e.g. exp in the past) or dropped."""
    claims = jwt.decode(genuine, options={"verify_signature": False})
    claims.update(changes)
    for name in drop:
        claims.pop(name, None)
    return jwt.encode(claims, key, algorithm=algorithm)


def raw_socket(url: str, token: str | None, headers: dict | None = None, transport: str = "websocket",
               auth: object = "default") -> InOrderClient:
    """Connect a plain client that sends no Origin unless `headers` carries one."""
    client = InOrderClient(reconnection=False, websocket_extra_options={"suppress_origin": True})
    client.connect(url, auth={"token": token} if auth == "default" else auth, headers=headers or {},
                   transports=[transport], wait_timeout=10)
    return client


def wait_until(condition: Callable[[], object], timeout: float = 10, message: str = "condition",
               seen: Callable[[], object] | None = None) -> None:
    """Poll `condition`; on timeout fail with `message` and, if given, what `seen()` shows then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{message} not met within {timeout} s" + (f"; seen: {seen()!r}" if seen else ""))


def assert_echoes(client: TerminalClient, session_id: str) -> None:
    """The session still answers input: type a computation and see its result."""
    a, b = secrets.randbelow(9000) + 1000, secrets.randbelow(9000) + 1000
    answer = client.send(session_id, f"echo $(({a}+{b}))\n")
    assert answer == {"ok": True}, answer
    client.wait_for(session_id, f"{a + b}\r\n")


def raw_websocket(server: RunningServer, token: str | None = None) -> websocket.WebSocket:
    """A bare WebSocket speaking Engine.IO v4 / Socket.IO v5 by hand, connected and authenticated."""
    url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=10)
    assert ws.recv().startswith("0")  # Engine.IO open
    ws.send("40" + json.dumps({"token": token or server.admin_token}))
    assert ws.recv().startswith("40")  # Socket.IO connected
    return ws



def audit_events(server: RunningServer, type_: str) -> list[dict]:
    """The audit events of one type the server wrote (its SQLite database), oldest first."""
    with sqlite3.connect(server.instance / "aict.db") as db:
        rows = db.execute("SELECT type, username, detail FROM audit_events WHERE type = ? ORDER BY id",
                          (type_,)).fetchall()
    return [{"type": t, "username": u, "detail": json.loads(d)} for t, u, d in rows]
