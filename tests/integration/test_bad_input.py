"""Malformed input over sockets and HTTP: a precise error, and the connection and session unharmed."""

from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.integration.contract import (
    assert_ack_error,
    assert_echoes,
    assert_error,
    login_tokens,
    new_user,
    raw_websocket,
    wait_until,
)
from tests.server import RunningServer, TerminalClient

MiB = 1024 * 1024
EVENTS = ["create-terminal", "attach-terminal", "detach-terminal", "terminal-input", "terminal-resize",
          "kill-terminal", "list-terminals"]


@pytest.fixture(scope="module")
def shell(server):
    """One socket with one running shell, shared by the tests that must leave both unharmed."""
    client = server.socket()
    workspace = server.create_local_workspace()
    session_id = client.create(workspace["id"])
    client.workspace_id = workspace["id"]
    yield client, session_id
    client.call("kill-terminal", {"sessionId": session_id})
    client.close()


def _unharmed(client: TerminalClient, session_id: str) -> None:
    assert client.sio.connected
    assert_echoes(client, session_id)


# ---- socket payload shapes ---------------------------------------------------------------------

def test_unknown_events_are_ignored(shell):
    client, session_id = shell
    client.sio.emit("no-such-event", {"sessionId": session_id})
    client.sio.emit("no-such-event")
    client.sio.emit("terminal-input-typo", {"sessionId": session_id, "data": "echo nope\n"})
    _unharmed(client, session_id)


def test_unknown_events_sent_with_a_callback_are_bad_request(shell):
    client, session_id = shell
    for event in ("no-such-event", "terminal-input-typo", "message"):
        error = assert_ack_error(client.call(event, {"sessionId": session_id}), "bad_request")
        assert event in error["message"]
    _unharmed(client, session_id)


@pytest.mark.parametrize("event", ["connect", "disconnect", "connect_error"])
def test_the_servers_own_event_names_sent_as_events_are_refused(server, event):
    # Sent as an ordinary event, "disconnect" ran the socket's disconnect handler while the socket
    # stayed open (its attachments and identity dropped), and "connect" re-ran the login check
    # with whatever token came along.
    client = server.socket()
    session_id = client.create(server.create_local_workspace()["id"])
    other_token = new_user(server)[1]
    try:
        for payload in ({"token": other_token}, None):
            assert_ack_error(client.call(event, payload), "bad_request")
        assert_echoes(client, session_id)  # still attached: output still arrives on this socket
        listed = client.call("list-terminals", {})
        assert session_id in [s["id"] for s in listed["sessions"]]  # still the admin, not the other user
    finally:
        client.call("kill-terminal", {"sessionId": session_id})
        client.close()


def _answer(ws, ack_id: int):
    """Read a raw socket until the answer to `ack_id`; its first argument."""
    while True:
        message = ws.recv()
        if isinstance(message, str) and message.startswith(f"43{ack_id}["):
            return json.loads(message[2 + len(str(ack_id)):])[0]


@pytest.mark.parametrize("body", ["[", '["list-terminals",', '["list-terminals"]]', "{}", "[]", "[1]", "[null]",
                                  '"list-terminals"', "null", "true", '[{"sessionId": "x"}]'])
def test_malformed_event_packets_with_an_ack_id_are_bad_request(server, shell, body):
    client, session_id = shell
    ws = raw_websocket(server)
    try:
        ws.send(f"4277{body}")
        assert_ack_error(_answer(ws, 77), "bad_request")
        ws.send("4278" + json.dumps(["list-terminals", {}]))  # and the connection goes on
        assert _answer(ws, 78)["ok"] is True
    finally:
        ws.close()
    _unharmed(client, session_id)


def test_binary_events_must_announce_exactly_one_attachment(server, shell):
    # Announced attachments are held until they all arrive: a count of a thousand let one
    # connection pin a thousand 4 MiB messages; a count of none left it waiting forever.
    client, session_id = shell
    ws = raw_websocket(server)
    try:
        for count in (0, 2, 1000):
            ws.send(f'45{count}-79["terminal-input",{{"sessionId":"x","data":{{"_placeholder":true,"num":0}}}}]')
            error = assert_ack_error(_answer(ws, 79), "bad_request")
            assert "attachment" in error["message"]
            for _ in range(3):  # what such a client sends next is not held for it
                ws.send_binary(b"z" * 65536)
        ws.send_binary(b"an attachment nobody announced")
        ws.send("4280" + json.dumps(["list-terminals", {}]))
        assert _answer(ws, 80)["ok"] is True  # taken as an event, not as anyone's attachment
    finally:
        ws.close()
    _unharmed(client, session_id)


@pytest.mark.parametrize("placeholder", ['{"_placeholder":true,"num":5}', '{"_placeholder":true,"num":"x"}',
                                         '{"_placeholder":true}', '{"_placeholder":true,"num":-9}'])
def test_a_binary_event_whose_placeholder_names_no_attachment_is_bad_request(server, shell, placeholder):
    """Its one attachment arrives, but the placeholder points elsewhere: answered bad_request, and
    the next event is the next event (it was taken as that event's attachment, unanswered)."""
    client, session_id = shell
    _refused_then_the_next_event_answered(
        server, f'451-81["terminal-input",{{"sessionId":"{session_id}","data":{placeholder}}}]', b"the attachment")
    _unharmed(client, session_id)
    assert b"the attachment" not in client.streams[session_id]


def _refused_then_the_next_event_answered(server, *frames: str | bytes) -> None:
    """Send `frames` (text or binary) on a raw socket: event 81 among them is answered bad_request,
    and the event after them (82) is answered as usual."""
    ws = raw_websocket(server)
    try:
        for frame in frames:
            ws.send(frame) if isinstance(frame, str) else ws.send_binary(frame)
        assert_ack_error(_answer(ws, 81), "bad_request")
        ws.send("4282" + json.dumps(["list-terminals", {}]))
        assert _answer(ws, 82)["ok"] is True
    finally:
        ws.close()


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("payload", [None, "a string", 42, [1, 2], b"bytes", True], ids=repr)
def test_non_object_payloads_are_bad_request(shell, event, payload):
    client, session_id = shell
    assert_ack_error(client.call(event, payload), "bad_request")
    _unharmed(client, session_id)


@pytest.mark.parametrize("payload", [
    {},
    {"workspaceId": 5},
    {"workspaceId": ""},
    {"workspaceId": "{ws}", "cols": "80"},
    {"workspaceId": "{ws}", "cols": 0},
    {"workspaceId": "{ws}", "rows": 1001},
    {"workspaceId": "{ws}", "cols": True},
    {"workspaceId": "{ws}", "cols": 80.5},
    {"workspaceId": "{ws}", "name": 5},
], ids=repr)
def test_create_terminal_with_bad_fields_is_bad_request(shell, payload):
    client, session_id = shell
    payload = {k: client.workspace_id if v == "{ws}" else v for k, v in payload.items()}
    assert_ack_error(client.call("create-terminal", payload), "bad_request")
    _unharmed(client, session_id)


@pytest.mark.parametrize("event", ["attach-terminal", "detach-terminal", "terminal-input", "terminal-resize",
                                   "kill-terminal"])
@pytest.mark.parametrize("session_id", [None, 5, "", ["id"], {"id": 1}, "x" * 10_000, "\ud800", "id\ud800"], ids=repr)
def test_missing_or_wrong_typed_session_ids_are_bad_request(shell, event, session_id):
    client, good_id = shell
    payload = {"data": "x", "cols": 80, "rows": 24}
    if session_id is not None:
        payload["sessionId"] = session_id
    assert_ack_error(client.call(event, payload), "bad_request")
    _unharmed(client, good_id)


@pytest.mark.parametrize("data", [None, 5, ["echo"], {"text": "echo"}, True], ids=repr)
def test_terminal_input_with_wrong_typed_data_is_bad_request(shell, data):
    client, session_id = shell
    payload = {"sessionId": session_id} if data is None else {"sessionId": session_id, "data": data}
    assert_ack_error(client.call("terminal-input", payload), "bad_request")
    _unharmed(client, session_id)


@pytest.mark.parametrize("size", [
    {"cols": 0, "rows": 24}, {"cols": 80, "rows": 0}, {"cols": 1001, "rows": 24}, {"cols": 80, "rows": 1001},
    {"cols": -5, "rows": 24}, {"cols": 10**9, "rows": 24}, {"cols": 1e9, "rows": 24}, {"cols": 80.0, "rows": 24},
    {"cols": "80", "rows": "24"}, {"cols": None, "rows": 24}, {"cols": True, "rows": 24}, {"cols": 80},
    {"rows": 24}, {},
], ids=repr)
def test_terminal_resize_out_of_range_or_wrong_type_is_bad_request(shell, size):
    client, session_id = shell
    assert_ack_error(client.call("terminal-resize", {"sessionId": session_id, **size}), "bad_request")
    _unharmed(client, session_id)


def test_terminal_resize_accepts_the_limits(shell):
    client, session_id = shell
    for cols, rows in ((1, 1), (1000, 1000), (80, 24)):
        assert client.call("terminal-resize", {"sessionId": session_id, "cols": cols, "rows": rows}) == {"ok": True}
    client.send(session_id, "stty size\n")
    client.wait_for(session_id, "24 80")


def test_list_terminals_with_a_wrong_typed_workspace_is_bad_request(shell):
    client, session_id = shell
    assert_ack_error(client.call("list-terminals", {"workspaceId": 5}), "bad_request")
    _unharmed(client, session_id)


@pytest.mark.parametrize("event", ["list-terminals", "watch-workspace", "watch-terminals", "create-terminal"])
def test_a_workspace_id_no_database_can_hold_is_refused_without_a_server_error(shell, event):
    """A lone surrogate (JSON may carry it, UTF-8 cannot) in a workspace id: refused as bad or
    unknown like any other id, never an internal error with a traceback for each."""
    client, session_id = shell
    answer = client.call(event, {"workspaceId": "\ud800"})
    assert answer["ok"] is False and answer["error"]["code"] in ("bad_request", "not_found"), answer
    _unharmed(client, session_id)


# ---- unknown and invisible ids -----------------------------------------------------------------

@pytest.mark.parametrize("event", ["attach-terminal", "terminal-input", "terminal-resize", "kill-terminal",
                                   "detach-terminal"])
def test_unknown_and_other_users_session_ids_get_the_same_not_found(server, client, shell, event):
    owner, session_id = shell
    stranger = client(login_tokens(server, *new_user(server))["access_token"])
    payload = {"data": "echo intruder\n", "cols": 50, "rows": 10}
    foreign = stranger.call(event, {"sessionId": session_id, **payload})
    unknown = stranger.call(event, {"sessionId": secrets.token_hex(16), **payload})
    assert_ack_error(foreign, "not_found")
    assert_ack_error(unknown, "not_found")
    assert foreign == unknown
    assert owner.call("list-terminals", {"workspaceId": owner.workspace_id})["ok"] is True
    _unharmed(owner, session_id)
    assert b"intruder" not in owner.streams[session_id]


@pytest.mark.parametrize("event", ["create-terminal", "list-terminals"])
def test_unknown_and_other_users_workspace_ids_get_the_same_not_found(server, client, shell, event):
    owner, _ = shell
    stranger = client(login_tokens(server, *new_user(server))["access_token"])
    foreign = stranger.call(event, {"workspaceId": owner.workspace_id})
    unknown = stranger.call(event, {"workspaceId": secrets.token_hex(16)})
    assert_ack_error(foreign, "not_found")
    assert foreign == unknown


# ---- input size and bytes ----------------------------------------------------------------------

def _swallow_input(client: TerminalClient, session_id: str) -> None:
    """Run a reader that discards input without echo, so a big paste costs no output."""
    client.send(session_id, "stty -echo; echo swallow-$((2*2)); cat > /dev/null; stty echo; echo swallowed-$((3*3))\n")
    client.wait_for(session_id, "swallow-4")  # the terminal no longer echoes: input now goes to cat


def _finish_swallow(client: TerminalClient, session_id: str) -> None:
    assert client.send(session_id, "\n\x04") == {"ok": True}
    client.wait_for(session_id, "swallowed-9")


def test_input_of_exactly_1_mib_is_accepted(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    _swallow_input(c, session_id)
    assert c.send(session_id, ("x" * 1023 + "\n") * 1024) == {"ok": True}
    assert c.send(session_id, "é" * (MiB // 2)) == {"ok": True}  # 1 MiB of UTF-8 in half as many characters
    assert c.send(session_id, b"\n" * MiB) == {"ok": True}
    _finish_swallow(c, session_id)
    _unharmed(c, session_id)


def test_input_past_the_backlog_is_refused_throttled_and_none_accepted_is_lost(server, client, workspace):
    """A process that does not read its input: the host queues 8 MiB of it, then answers `throttled`.
    Every piece answered ok reaches the process once it reads, byte for byte; none answered
    throttled does. (Answered ok before the host had decided, input past 8 MiB was dropped.)"""
    target = Path(f"/tmp/aict-test-taken-{secrets.token_hex(4)}")  # where the shell's account may write
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, f"stty raw -echo; echo not-reading-$((6*7)); sleep 8; cat > {target}\n")
    c.wait_for(session_id, "not-reading-42")
    answers, accepted = [], bytearray()
    for n in range(12):  # 12 MiB, 1 MiB at a time, each piece's bytes its own
        piece = bytes([0x41 + n]) * MiB
        answer = c.send(session_id, piece)
        answers.append(answer)
        if answer.get("ok"):
            accepted += piece
        else:
            assert answer["error"]["code"] == "throttled", answer
    assert any(not a["ok"] for a in answers), answers  # 8 MiB at most are held for the process
    assert len(accepted) >= 6 * MiB, len(accepted)  # and what fits is taken
    try:
        wait_until(lambda: target.exists() and target.stat().st_size >= len(accepted), timeout=30,
                   message=f"{len(accepted)} bytes in {target}")
        assert target.read_bytes() == bytes(accepted)
    finally:
        c.call("kill-terminal", {"sessionId": session_id})  # raw mode: no ^D ends cat
        target.unlink(missing_ok=True)


@pytest.mark.parametrize("data", [
    "x" * (MiB + 1),
    "é" * (MiB // 2) + "x",  # 524289 characters, 1 MiB + 1 bytes
    b"\n" * (MiB + 1),
    "y" * (3 * MiB + MiB // 2),  # big, but under what the transport must accept
], ids=["str", "utf8-bytes-counted", "bytes", "3.5MiB"])
def test_input_over_1_mib_is_too_large(shell, data):
    client, session_id = shell
    assert_ack_error(client.send(session_id, data), "too_large")
    _unharmed(client, session_id)


def test_invalid_utf8_input_reaches_the_process_byte_exact(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "stty -echo; echo od-$((5*5)); od -An -tx1; stty echo\n")
    c.wait_for(session_id, "od-25")
    assert c.send(session_id, b"\xff\xfe\xc3(\xe2\x82\n") == {"ok": True}
    assert c.send(session_id, "\x04") == {"ok": True}
    c.wait_for(session_id, "ff fe c3 28 e2 82 0a")
    _unharmed(c, session_id)


# ---- attach offsets and flow-control acks ------------------------------------------------------

def test_attach_since_outside_the_stream_is_bad_request(shell):
    client, session_id = shell
    end = client.call("attach-terminal", {"sessionId": session_id})["offset"]
    for since in (-1, -(10**9), end + 1, 10**18):
        assert_ack_error(client.call("attach-terminal", {"sessionId": session_id, "since": since}), "bad_request")
    for since in ("0", 1.5, True, [0]):
        assert_ack_error(client.call("attach-terminal", {"sessionId": session_id, "since": since}), "bad_request")
    _unharmed(client, session_id)


def test_attach_since_the_end_replays_nothing_old(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "echo before-$((5*5))\n")
    c.wait_for(session_id, "before-25")
    end = c.call("attach-terminal", {"sessionId": session_id})["offset"]
    watcher = client()
    answer = watcher.call("attach-terminal", {"sessionId": session_id, "since": end})
    assert answer["ok"] is True and answer["replayFrom"] == end and answer["offset"] >= end
    watcher.send(session_id, "echo after-$((6*6))\n")
    watcher.wait_for(session_id, "after-36")
    assert b"before-25" not in watcher.streams[session_id]


@pytest.mark.parametrize("ack", [None, "x", 7, [1], {"offset": 5}, {"sessionId": "{sid}"},
                                 {"sessionId": "{sid}", "offset": "10"}, {"sessionId": "{sid}", "offset": -100},
                                 {"sessionId": "{sid}", "offset": 10**30}, {"sessionId": "{sid}", "offset": 1.5},
                                 {"sessionId": 5, "offset": 5}, {"sessionId": "unknown", "offset": 5}], ids=repr)
def test_malformed_terminal_ack_is_ignored(shell, ack):
    client, session_id = shell
    if isinstance(ack, dict):
        ack = {k: session_id if v == "{sid}" else v for k, v in ack.items()}
    client.sio.emit("terminal-ack", ack)
    _unharmed(client, session_id)


def test_terminal_ack_sent_with_a_callback_gets_an_empty_answer(shell):
    client, session_id = shell
    offset = len(client.streams.get(session_id, b""))
    assert client.sio.call("terminal-ack", {"sessionId": session_id, "offset": offset}, timeout=5) is None
    _unharmed(client, session_id)


# ---- event flood -------------------------------------------------------------------------------

def test_event_flood_is_throttled_and_the_connection_survives(start_server):
    server: RunningServer = start_server({"AICT_SOCKET_EVENT_RATE": "20 per second"})
    client = server.socket()
    try:
        session_id = client.create(server.create_local_workspace()["id"])
        time.sleep(1.1)
        answers = _burst(client, 100)
        throttled = [a for a in answers if not a["ok"]]
        assert throttled and all(a["error"]["code"] == "throttled" for a in throttled)
        assert 20 <= len(answers) - len(throttled) < 100
        time.sleep(1.1)
        # Events that name nothing are answered, and count against the same rate.
        unknown = [client.call("no-such-event", {}) for _ in range(30)]
        codes = [a["error"]["code"] for a in unknown]
        assert codes[:20] == ["bad_request"] * 20 and "throttled" in codes[20:], codes
        time.sleep(1.1)
        _unharmed(client, session_id)
    finally:
        client.close()


# ---- HTTP ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/audit?since=9999-12-31T23:59:59-05:00",  # past year 9999 in UTC
    "/api/audit?until=0001-01-01T00:00:00%2B05:00",  # before year 1 in UTC
    "/api/audit/export?until=9999-12-31T23:59:59-05:00",
    "/api/audit?limit=1" + "0" * 5000,  # more digits than Python turns into an int
    "/api/audit?cursor=%C2%B2",  # '²' is a digit to str.isdigit, not to int()
    "/api/audit?limit=%C2%B2",
    "/api/sessions?limit=1" + "0" * 5000,
    "/api/sessions?limit=%C2%B2",
    "/api/sessions?limit=0",
    "/api/workspaces/{ws}/history?limit=1" + "0" * 5000,
    "/api/workspaces/{ws}/history?limit=%C2%B2",
])
def test_out_of_range_query_arguments_are_bad_request_not_a_server_error(server, workspace, path):
    response = server.api("GET", path.replace("{ws}", workspace["id"]), server.admin_token)
    assert_error(response, 400, "bad_request")


def test_non_json_bodies_are_bad_request(server):
    url = f"{server.url}/api/auth/login"
    for data, content_type in (("username=admin&password=x", "application/x-www-form-urlencoded"),
                               ("{not json", "application/json"), ("", "application/json"),
                               ("plain words", "text/plain")):
        response = requests.post(url, data=data, headers={"Content-Type": content_type}, timeout=10)
        assert_error(response, 400, "bad_request")


@pytest.mark.parametrize("body", [[], ["admin", "pw"], "admin", 5, None], ids=repr)
def test_json_that_is_not_an_object_is_bad_request(server, body):
    response = server.api("POST", "/api/workspaces", server.admin_token, json=body,
                          headers={"Content-Type": "application/json"}) if body is not None else \
        server.api("POST", "/api/workspaces", server.admin_token, data="null",
                   headers={"Content-Type": "application/json"})
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize("body", [
    {"username": 5, "password": "x"}, {"username": "admin", "password": ["x"]}, {"username": None, "password": "x"},
    {"username": {"$ne": ""}, "password": {"$ne": ""}},
], ids=repr)
def test_wrong_typed_login_fields_are_bad_request(server, body):
    assert_error(server.api("POST", "/api/auth/login", json=body), 400, "bad_request")


DEEP = "[" * 50_000 + "]" * 50_000


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/auth/login", '{"username": ' + DEEP + ', "password": "x"}'),
    ("POST", "/api/workspaces", '{"name": ' + DEEP + ', "kind": "local"}'),
    ("POST", "/api/auth/login", '{"username": "\\ud800", "password": "x"}'),
    ("POST", "/api/auth/login", '{"username": "admin", "password": "\\ud800"}'),
    ("POST", "/api/workspaces", '{"name": "\\udc00", "kind": "local"}'),
    ("POST", "/api/workspaces", '{"name": "n", "kind": "local", "path": "/tmp/\\u0000x"}'),
    ("POST", "/api/users", '{"username": "\\ud800", "password": "password-123", "role": "user"}'),
    ("POST", "/api/workspaces", '{"name": "n", "kind": "ssh", "host": "example.com", "username": "u", '
                                '"password": "pw\\ud800"}'),
    ("POST", "/api/workspaces", '{"name": "n", "kind": "ssh", "host": "example.com", "username": "u", '
                                '"password": "p", "host_key": "ssh-ed25519 \\ud800"}'),
], ids=["deep login", "deep workspace", "surrogate username", "surrogate password", "surrogate name",
        "NUL in path", "surrogate new user", "surrogate ssh password", "surrogate host key"])
def test_unstorable_json_is_bad_request_not_a_server_error(server, method, path, body):
    """Valid JSON that no database, path or SSH password can take: nesting past the parser's
    recursion, lone surrogates from \\u escapes, NUL."""
    response = server.api(method, path, server.admin_token, data=body.encode(),
                          headers={"Content-Type": "application/json"})
    assert_error(response, 400, "bad_request")
    assert server.api("GET", "/healthz").status_code == 200


def test_workspace_edits_with_unstorable_text_are_bad_request(server, workspace):
    for body in ('{"name": "\\udc00"}', '{"path": "/tmp/\\u0000x"}'):
        response = server.api("PATCH", f"/api/workspaces/{workspace['id']}", server.admin_token,
                              data=body.encode(), headers={"Content-Type": "application/json"})
        assert_error(response, 400, "bad_request")
    stored = server.api("GET", f"/api/workspaces/{workspace['id']}", server.admin_token).json()
    assert (stored["name"], stored["path"]) == (workspace["name"], workspace["path"])


def test_huge_body_is_too_large(server):
    body = '{"name": "' + "x" * (2 * MiB) + '", "kind": "local"}'
    response = server.api("POST", "/api/workspaces", server.admin_token, data=body,
                          headers={"Content-Type": "application/json"})
    assert_error(response, 413, "too_large")
    assert server.api("GET", "/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/api/no-such-thing", "/api/workspaces/x/nothing-here", "/api/", "/no/such/page"])
def test_unknown_urls_are_404_json(server, path):
    assert_error(server.api("GET", path, server.admin_token), 404, "not_found")


def test_wrong_method_is_a_json_error(server):
    response = server.api("PUT", "/api/me", server.admin_token)
    assert_error(response, 405, "method_not_allowed")


# ---- bad input that must not reach the log -----------------------------------------------------

def _log_since(server: RunningServer, offset: int) -> str:
    return server.log_path.read_bytes()[offset:].decode(errors="replace")


@pytest.mark.parametrize("body", [
    "[" * 100_000 + "]" * 100_000,
    '["list-terminals", ' + "[" * 5000 + "]" * 5000 + "]",
    '["terminal-input", {"sessionId": "x", "data": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}]",
], ids=["deep array", "deep payload", "deep object"])
def test_deeply_nested_events_are_bad_request_and_leave_no_traceback(server, shell, body):
    client, session_id = shell
    offset = server.log_path.stat().st_size
    _refused_then_the_next_event_answered(server, f"4281{body}")
    _unharmed(client, session_id)
    written = _log_since(server, offset)
    assert "Traceback" not in written and "RecursionError" not in written, written[-3000:]


def _engineio_websocket(server: RunningServer):
    """An Engine.IO connection that has not logged in (no Socket.IO connect sent)."""
    import websocket

    ws = websocket.create_connection(server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
                                     timeout=10)
    assert ws.recv().startswith("0")
    return ws


def _closed_by_server(ws, seconds: float = 5) -> bool:
    import websocket

    deadline = time.monotonic() + seconds
    ws.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            message = ws.recv()
        except websocket.WebSocketTimeoutException:
            continue
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            return True
        if message in ("", "1") or message is None:  # Engine.IO close, or the end of the stream
            return True
        if message == "2":
            ws.send("3")
    return False


def _send_until_closed(ws, message: str, count: int) -> bool:
    """Send `message` up to `count` times; True when the server closed the connection meanwhile."""
    import websocket

    try:
        for _ in range(count):
            ws.send(message)
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        return True
    return False


def test_a_socket_that_never_logs_in_is_disconnected_after_a_few_bad_messages(server):
    ws = _engineio_websocket(server)
    try:
        assert _send_until_closed(ws, '42["list-terminals",{}]', 20) or _closed_by_server(ws)
    finally:
        ws.close()


def test_a_failed_login_then_messages_is_disconnected_too(server):
    ws = _engineio_websocket(server)
    try:
        ws.send("40" + json.dumps({"token": "forged"}))
        assert ws.recv().startswith("44")  # connect_error
        assert _send_until_closed(ws, "421" + "[" * 5000 + "]" * 5000, 20) or _closed_by_server(ws)
    finally:
        ws.close()


def test_a_socket_may_log_in_after_its_first_message(server):
    ws = _engineio_websocket(server)
    try:
        ws.send('42["list-terminals",{}]')  # dropped unread: not logged in
        ws.send("40" + json.dumps({"token": server.admin_token}))
        assert ws.recv().startswith("40")
        ws.send("4283" + json.dumps(["list-terminals", {}]))
        assert _answer(ws, 83)["ok"] is True
    finally:
        ws.close()


def test_a_thousand_bad_messages_write_a_handful_of_log_lines(start_server):
    server = start_server({"AICT_SOCKET_EVENT_RATE": "100000 per second"})
    offset = server.log_path.stat().st_size
    import websocket

    sent = 0
    while sent < 600:  # before login, on connections that are closed after a few each
        ws = _engineio_websocket(server)
        try:
            for _ in range(12):
                ws.send('42["list-terminals",{}]' if sent % 2 else "421" + "[" * 3000 + "]" * 3000)
                sent += 1
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            pass
        finally:
            ws.close()
    ws = raw_websocket(server)  # and after login: garbage with no ack id to answer
    try:
        for number in range(400):
            ws.send(("4garbage " if number % 2 else "4" + "[" * 3000) + str(number))
        ws.send("4284" + json.dumps(["list-terminals", {}]))
        assert _answer(ws, 84)["ok"] is True
    finally:
        ws.close()
    time.sleep(0.5)
    written = [line for line in _log_since(server, offset).splitlines()
               if line.strip() and " INFO " not in line]
    assert len(written) <= 12, "\n".join(written)
    assert "Traceback" not in "\n".join(written)
    assert server.api("GET", "/healthz").status_code == 200


def test_a_burst_of_events_over_long_polling_is_answered_every_one(server):
    """A polling client sends what gathered while its last request was out as one body: engineio
    refused a body of more than 16 packets (a 500, and every event in it lost)."""
    client = server.socket(transports=("polling",))
    try:
        answers = _burst(client, 60)
        assert all(a["ok"] for a in answers)
    finally:
        client.close()


def _burst(client, count: int) -> list[dict]:
    """`count` list-terminals events sent at once (no waiting between them); their answers, all of them."""
    answers: list[dict] = []
    done = threading.Event()

    def collect(answer):
        answers.append(answer)
        if len(answers) == count:
            done.set()

    for _ in range(count):
        client.sio.emit("list-terminals", {}, callback=collect)
    assert done.wait(20), f"only {len(answers)} of {count} answered"
    return answers


def _polling_session(server) -> tuple[requests.Session, str]:
    """A logged-in Engine.IO long-polling session spoken by hand: the HTTP session that keeps its
    cookies (behind the cluster's nginx, the routing cookie that keeps it on one web process), and
    its sid."""
    http = requests.Session()
    http.headers["Origin"] = server.url
    opened = http.get(f"{server.url}/socket.io/?EIO=4&transport=polling", timeout=10)
    sid = json.loads(opened.text[1:])["sid"]
    login = http.post(f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}",
                      data="40" + json.dumps({"token": server.admin_token}), timeout=10)
    assert login.status_code == 200, login.text
    return http, sid


def _polling_session_closed(server, http: requests.Session, sid: str) -> bool:
    poll = http.get(f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}", timeout=10)
    return poll.status_code == 400 or "1" in poll.text[:2]  # unknown session, or its CLOSE packet


def test_a_long_polling_body_over_the_limit_is_refused_at_once_not_left_hanging(server):
    """Over MAX_MESSAGE_BYTES (8 MiB): refused and the connection closed, as a WebSocket is (1009);
    the client hung until its own timeout while the server sat on the unread rest of the body."""
    http, sid = _polling_session(server)
    started = time.monotonic()
    try:
        answer = http.post(f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}",
                           headers={"Content-Type": "text/plain"}, data=b"4" + b"x" * (9 * MiB), timeout=30)
        assert_error(answer, 413, "too_large")
    except requests.ConnectionError:
        pass  # the server closed the connection while the body was still being sent: refused too
    assert time.monotonic() - started < 10
    wait_until(lambda: _polling_session_closed(server, http, sid), timeout=10, message="the session closed")


def test_a_long_polling_body_of_too_many_packets_is_refused_not_dropped_in_silence(server):
    """More packets in one body than the server decodes: refused and the session closed; they were
    answered 200 and every one of them dropped."""
    http, sid = _polling_session(server)
    body = "\x1e".join(["42" + json.dumps(["list-terminals", {}])] * 5000)
    answer = http.post(f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}",
                       headers={"Content-Type": "text/plain"}, data=body, timeout=30)
    assert_error(answer, 400, "bad_request")
    wait_until(lambda: _polling_session_closed(server, http, sid), timeout=10, message="the session closed")
