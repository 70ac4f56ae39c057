"""Who may do what, as one table: every HTTP endpoint and every client socket event, for each kind
of caller, with the status or ack code each one gets.

The endpoints come from the app's own URL map and the events from aict.protocol: an endpoint or
event without a row here fails the test, so nothing new ships unexamined. Adding a row is one line:
the method and the Flask rule as the app spells it, then the expected answer for each caller, in
the order of WHO.

The world: `owner` (a user) owns a local workspace with a running terminal; `viewer` and
`operator` are its members; `stranger` is a user with no part in it; `admin` is an administrator;
`disabled` was an operator member until the account was disabled (in the database, as an admin's
action would); `expired` holds the owner's token past its expiry; `anonymous` has no token.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass, field

import pytest

from aict import create_app, protocol
from tests.integration.contract import craft_token, new_user, raw_socket, server_secret
from tests.server import RunningServer, TerminalClient

WHO = ("anonymous", "stranger", "viewer", "operator", "owner", "admin", "disabled", "expired")
USERS = ("stranger", "viewer", "operator", "owner", "admin", "disabled")


@dataclass(frozen=True)
class Http:
    method: str
    rule: str  # as in the app's URL map; <workspace_id>, <session_id>, <username>, <path:filename> filled in
    expect: str  # one status per caller, in WHO order
    body: dict | None = None  # "{username}", "{password}", "{unique}", "{spare}" filled in
    fresh: bool = False  # changes what it touches: each caller gets a workspace (and terminal) of its own
    token: str = "access"  # "refresh": the caller's refresh token; "new": a login of its own (logout)
    ends_logins: bool = False  # ends the caller's other logins: everyone logs in again afterwards


# Request bodies ("{...}" filled in per call).
LOGIN = {"username": "{username}", "password": "{password}"}
NEW_USER = {"username": "{unique}", "password": "password-123"}
NEW_LOCAL = {"name": "{unique}", "kind": "local"}
NEW_SSH = {"name": "{unique}", "kind": "ssh", "host": "192.0.2.10", "username": "u", "password": "pw"}
GRANT = {"username": "{spare}", "access": "viewer"}
SAME_PASSWORD = {"current_password": "{password}", "new_password": "{password}"}
OTP = {"otp": "000000"}
ENABLE = {"disabled": False}
TRUST = {"fingerprint": "SHA256:x"}

HTTP = [
    Http("POST", "/api/auth/login", "401 200 200 200 200 200 401 200", LOGIN),
    Http("POST", "/api/auth/refresh", "401 200 200 200 200 200 401 401", token="refresh"),
    Http("POST", "/api/auth/logout", "401 204 204 204 204 204 401 401", token="new"),
    Http("GET", "/api/me", "401 200 200 200 200 200 401 401"),
    Http("POST", "/api/me/password", "401 204 204 204 204 204 401 401", SAME_PASSWORD, token="new", ends_logins=True),
    Http("POST", "/api/me/totp", "401 200 200 200 200 200 401 401"),
    Http("POST", "/api/me/totp/confirm", "401 400 400 400 400 400 401 401", OTP),
    Http("DELETE", "/api/me/totp", "401 204 204 204 204 204 401 401", OTP),  # not on: nothing to turn off
    Http("GET", "/api/me/settings", "401 200 200 200 200 200 401 401"),
    Http("PUT", "/api/me/settings", "401 200 200 200 200 200 401 401", {"font_size": 15}),
    Http("GET", "/api/users", "401 403 403 403 403 200 401 401"),
    Http("POST", "/api/users", "401 403 403 403 403 201 401 401", NEW_USER),
    Http("PATCH", "/api/users/<user_id>", "401 403 403 403 403 200 401 401", ENABLE),
    Http("GET", "/api/audit", "401 403 403 403 403 200 401 401"),
    Http("GET", "/api/audit/export", "401 403 403 403 403 200 401 401"),
    Http("GET", "/api/audit/verify", "401 403 403 403 403 200 401 401"),
    Http("GET", "/api/workspaces", "401 200 200 200 200 200 401 401"),
    Http("POST", "/api/workspaces", "401 201 201 201 201 201 401 401", NEW_LOCAL),
    Http("POST", "/api/workspaces", "401 403 403 403 403 201 401 401", NEW_SSH),
    Http("GET", "/api/workspaces/<workspace_id>", "401 404 200 200 200 200 401 401"),
    Http("PATCH", "/api/workspaces/<workspace_id>", "401 404 403 403 200 200 401 401", {"name": "{unique}"}),
    Http("DELETE", "/api/workspaces/<workspace_id>", "401 404 403 403 204 204 401 401", fresh=True),
    Http("GET", "/api/workspaces/<workspace_id>/members", "401 404 200 200 200 200 401 401"),
    Http("POST", "/api/workspaces/<workspace_id>/members", "401 404 403 403 201 201 401 401", GRANT, fresh=True),
    Http("DELETE", "/api/workspaces/<workspace_id>/members/<username>", "401 404 403 403 204 204 401 401", fresh=True),
    # a local workspace has no host key to trust
    Http("POST", "/api/workspaces/<workspace_id>/trust-host-key", "401 404 403 403 400 400 401 401", TRUST),
    Http("GET", "/api/sessions", "401 200 200 200 200 200 401 401"),
    Http("GET", "/api/sessions/<session_id>", "401 404 200 200 200 200 401 401"),
    Http("DELETE", "/api/sessions/<session_id>", "401 404 403 204 204 204 401 401", fresh=True),
    Http("GET", "/api/sessions/<session_id>/recording", "401 404 200 200 200 200 401 401"),
    Http("GET", "/api/sessions/<session_id>/processes", "401 404 200 200 200 200 401 401"),
    Http("GET", "/api/sessions/<session_id>/viewers", "401 404 200 200 200 200 401 401"),
    # owners and admins only; no such viewer: 404 (detaching one: tests/integration/test_processes_viewers.py)
    Http("DELETE", "/api/sessions/<session_id>/viewers/<viewer_id>", "401 404 403 403 404 404 401 401"),
    Http("GET", "/api/sessions/<session_id>/commands", "401 404 200 200 200 200 401 401"),
    Http("GET", "/api/workspaces/<workspace_id>/history", "401 404 200 200 200 200 401 401"),
    # Files: operators and up (viewers 403). Without ?path= the content rows name the root, a directory (400).
    Http("GET", "/api/workspaces/<workspace_id>/files", "401 404 403 200 200 200 401 401"),
    Http("GET", "/api/workspaces/<workspace_id>/files/content", "401 404 403 400 400 400 401 401"),
    Http("PUT", "/api/workspaces/<workspace_id>/files/content", "401 404 403 400 400 400 401 401"),
    # The pages are the same static shells for everyone: their data comes from the API above.
    Http("GET", "/", "200 200 200 200 200 200 200 200"),
    Http("POST", "/", "400 400 400 400 400 400 400 400"),
    Http("GET", "/login", "200 200 200 200 200 200 200 200"),
    Http("POST", "/login", "400 400 400 400 400 400 400 400"),
    Http("GET", "/account", "200 200 200 200 200 200 200 200"),
    Http("POST", "/account", "400 400 400 400 400 400 400 400"),
    Http("GET", "/users", "200 200 200 200 200 200 200 200"),
    Http("POST", "/users", "400 400 400 400 400 400 400 400"),
    Http("GET", "/workspaces/<workspace_id>", "200 200 200 200 200 200 200 200"),
    Http("GET", "/sessions/<session_id>", "200 200 200 200 200 200 200 200"),
    Http("GET", "/sessions/<session_id>/replay", "200 200 200 200 200 200 200 200"),
    Http("GET", "/audit", "200 200 200 200 200 200 200 200"),
    Http("GET", "/sessions", "200 200 200 200 200 200 200 200"),
    Http("GET", "/favicon.ico", "204 204 204 204 204 204 204 204"),
    Http("GET", "/static/<path:filename>", "200 200 200 200 200 200 200 200"),
    Http("GET", "/healthz", "200 200 200 200 200 200 200 200"),
    Http("GET", "/metrics", "200 200 200 200 200 200 200 200"),  # no METRICS_TOKEN, not production
]


@dataclass(frozen=True)
class Event:
    name: str
    expect: str  # one answer per caller, in WHO order: ok, an error code, none (no ack), refused (at connect)
    payload: dict = field(default_factory=dict)  # "{workspace_id}", "{session_id}" filled in
    attach_first: bool = False
    fresh: bool = False  # each caller gets a terminal of its own to do it to


WS = {"workspaceId": "{workspace_id}"}
SESSION = {"sessionId": "{session_id}"}
SIZE = {"sessionId": "{session_id}", "cols": 80, "rows": 24}
EVENTS = [
    Event("create-terminal", "refused not_found forbidden ok ok ok refused refused", WS),
    Event("attach-terminal", "refused not_found ok ok ok ok refused refused", SESSION),
    Event("detach-terminal", "refused not_found ok ok ok ok refused refused", SESSION, attach_first=True),
    Event("terminal-input", "refused not_found forbidden ok ok ok refused refused", {**SESSION, "data": ":\r"}),
    Event("terminal-resize", "refused not_found forbidden ok ok ok refused refused", SIZE),
    Event("terminal-ack", "refused none none none none none refused refused", {**SESSION, "offset": 0}),
    Event("kill-terminal", "refused not_found forbidden ok ok ok refused refused", SESSION, fresh=True),
    Event("list-terminals", "refused not_found ok ok ok ok refused refused", WS),
    Event("authenticate", "refused ok ok ok ok ok refused refused", {"token": "{token}"}),
    Event("watch-terminals", "refused not_found ok ok ok ok refused refused", WS),
    Event("unwatch-terminals", "refused ok ok ok ok ok refused refused", WS),  # stops nothing it did not start
    Event("watch-workspace", "refused not_found ok ok ok ok refused refused", WS),
    Event("unwatch-workspace", "refused ok ok ok ok ok refused refused", WS),  # tells nothing: always ok
]


# ---- the world ----------------------------------------------------------------------------------

@dataclass
class Caller:
    name: str
    username: str = ""
    password: str = ""
    access: str | None = None
    refresh: str | None = None


class World:
    def __init__(self, server: RunningServer):
        self.server = server
        self.callers = {name: Caller(name) for name in WHO}
        for name in USERS:
            caller = self.callers[name]
            caller.username, caller.password = f"{name}-{secrets.token_hex(3)}", "password-123"
            role = "admin" if name == "admin" else "user"
            created = server.api("POST", "/api/users", server.admin_token,
                                 json={"username": caller.username, "password": caller.password, "role": role})
            assert created.status_code == 201, created.text
            self.log_in(caller)
        self.owner_socket = self.socket(self.callers["owner"])
        self.workspace_id, self.session_id, self.spare = self.new_workspace()
        self._disable(self.callers["disabled"])
        owner, expired = self.callers["owner"], self.callers["expired"]
        expired.username, expired.password = owner.username, owner.password
        key, past = server_secret(server), int(time.time()) - 60
        expired.access = craft_token(owner.access, key, exp=past)
        expired.refresh = craft_token(owner.refresh, key, exp=past)

    def log_in(self, caller: Caller) -> None:
        body = self.server.api("POST", "/api/auth/login",
                               json={"username": caller.username, "password": caller.password}).json()
        caller.access, caller.refresh = body["access_token"], body["refresh_token"]

    def socket(self, caller: Caller) -> TerminalClient:
        client = TerminalClient()
        client.connect(self.server.url, caller.access)
        return client

    def new_workspace(self) -> tuple[str, str, str]:
        """A workspace of the owner's with a running terminal, the members, and a spare member."""
        owner = self.callers["owner"]
        created = self.server.api("POST", "/api/workspaces", owner.access,
                                  json={"name": f"m-{secrets.token_hex(4)}", "kind": "local"})
        assert created.status_code == 201, created.text
        workspace_id = created.json()["id"]
        spare = new_user(self.server)[0]
        for name, access in (("viewer", "viewer"), ("operator", "operator"), ("disabled", "operator"),
                             (spare, "operator")):
            username = self.callers[name].username if name in self.callers else name
            granted = self.server.api("POST", f"/api/workspaces/{workspace_id}/members", owner.access,
                                      json={"username": username, "access": access})
            assert granted.status_code == 201, granted.text
        return workspace_id, self.owner_socket.create(workspace_id), spare

    def log_in_again(self) -> None:
        """After something that ended logins: fresh tokens for everyone, and the owner's socket."""
        for name in USERS:
            if name != "disabled":
                self.log_in(self.callers[name])
        owner, expired = self.callers["owner"], self.callers["expired"]
        key, past = server_secret(self.server), int(time.time()) - 60
        expired.access = craft_token(owner.access, key, exp=past)
        expired.refresh = craft_token(owner.refresh, key, exp=past)
        self.owner_socket.close()
        self.owner_socket = self.socket(owner)

    def user_id(self, username: str) -> str:
        users = self.server.api("GET", "/api/users", self.server.admin_token).json()
        return next(user["id"] for user in users if user["username"] == username)

    def _disable(self, caller: Caller) -> None:
        with sqlite3.connect(self.server.instance / "aict.db") as db:
            assert db.execute("UPDATE users SET disabled = 1 WHERE username = ?", (caller.username,)).rowcount == 1


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = RunningServer(tmp_path_factory.mktemp("aict-authz"), {
        "AICT_USER_LOCAL_WORKSPACES": "1", "AICT_LOGIN_RATE": "10000 per minute"}).start()
    try:
        yield World(server)
    finally:
        server.stop()


# ---- the table covers everything ----------------------------------------------------------------

def test_every_endpoint_and_event_has_a_row(tmp_path):
    app = create_app({"INSTANCE_DIR": str(tmp_path)})
    endpoints = {(method, rule.rule) for rule in app.url_map.iter_rules()
                 for method in rule.methods - {"HEAD", "OPTIONS"}}
    rows = {(row.method, row.rule) for row in HTTP}
    assert endpoints - rows == set(), "endpoints without a row in HTTP (add one line each)"
    assert rows - endpoints == set(), "rows for endpoints that do not exist"
    assert {event.name for event in EVENTS} == set(protocol.CLIENT_EVENTS), "events without a row in EVENTS"
    for row in [*HTTP, *EVENTS]:
        assert len(row.expect.split()) == len(WHO), row


# ---- HTTP ---------------------------------------------------------------------------------------

def _fill(value, values: dict):
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def _http_status(world: World, row: Http, who: str) -> int:
    caller = world.callers[who]
    workspace_id, session_id, spare = world.new_workspace() if row.fresh else (
        world.workspace_id, world.session_id, world.spare)
    token = caller.access
    if row.token == "refresh":
        token = caller.refresh
    elif row.token == "new" and who in USERS and who != "disabled":
        fresh = Caller(who, caller.username, caller.password)
        world.log_in(fresh)
        token = fresh.access
    path = (row.rule.replace("<workspace_id>", workspace_id).replace("<session_id>", session_id)
            .replace("<username>", spare).replace("<path:filename>", "css/app.css")
            .replace("<viewer_id>", "no-such-viewer"))
    if "<user_id>" in path:
        path = path.replace("<user_id>", world.user_id(spare))
    values = {"username": caller.username or "nobody", "password": caller.password or "wrong-password",
              "unique": f"n{secrets.token_hex(4)}",
              "spare": new_user(world.server)[0] if row.fresh and "{spare}" in str(row.body) else spare}
    body = _fill(row.body, values) if row.body is not None else None
    response = world.server.api(row.method, path, token, json=body, allow_redirects=False)
    if row.ends_logins and who in USERS:
        world.log_in_again()
    if response.status_code >= 500:
        raise AssertionError(f"{row.method} {path} as {who}: {response.status_code} {response.text[:300]}")
    return response.status_code


def _http_id(row: Http) -> str:
    return f"{row.method} {row.rule}" + (" ssh" if row.body is NEW_SSH else "")


@pytest.mark.parametrize("row", HTTP, ids=_http_id)
def test_http(world, row):
    got = [str(_http_status(world, row, who)) for who in WHO]
    assert " ".join(got) == row.expect, "\n".join(
        f"  {who:>9}: expected {want}, got {have}" for who, want, have in zip(WHO, row.expect.split(), got, strict=True)
        if want != have)


# ---- socket events ------------------------------------------------------------------------------

def _event_answer(world: World, row: Event, who: str) -> str:
    caller = world.callers[who]
    try:
        client = raw_socket(world.server.url, caller.access, auth={"token": caller.access} if caller.access else {})
    except Exception:  # connect_error: the server refused the token (or its absence)
        return "refused"
    try:
        session_id = world.owner_socket.create(world.workspace_id) if row.fresh else world.session_id
        payload = _fill(row.payload, {"workspace_id": world.workspace_id, "session_id": session_id,
                                      "token": caller.access})
        if row.attach_first:
            client.call("attach-terminal", {"sessionId": session_id}, timeout=15)
        answer = client.call(row.name, payload, timeout=15)
    finally:
        client.disconnect()
    if answer is None:
        return "none"
    if answer.get("ok"):
        return "ok"
    return answer["error"]["code"]


@pytest.mark.parametrize("row", EVENTS, ids=lambda row: row.name)
def test_socket_events(world, row):
    got = [_event_answer(world, row, who) for who in WHO]
    assert " ".join(got) == row.expect, "\n".join(
        f"  {who:>9}: expected {want}, got {have}" for who, want, have in zip(WHO, row.expect.split(), got, strict=True)
        if want != have)
