"""The audit log as an admin reviews it: pages, filters, exports, and a keyed chain that shows an
event altered, removed, slipped in or cut off the end, through the API and `flask aict audit-verify`."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import requests

from aict.audit.checkpoints import database_fingerprint
from tests.integration.contract import wait_until
from tests.server import RunningServer

AUDIT_KEY = "k" * 48


AUDITED = {"AICT_AUDIT_CHECKPOINT_SECONDS": "1", "AICT_LOGIN_RATE": "10000 per minute",
           "AICT_LOGIN_IP_FAILURES": "100000", "AICT_LOGIN_USER_FAILURES": "100000"}


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """A server of the module's, checkpointing its chain every second, for the tests that read its log
    (each its own events: failed logins under its own prefix, a user of its own) and leave it intact."""
    running = RunningServer(tmp_path_factory.mktemp("aict-audited"), AUDITED).start()
    yield running
    running.stop()


@pytest.fixture
def tampered(start_server):
    """A server of the test's own: the test rewrites its database, and the chain is broken after."""
    return start_server(AUDITED)


def failed_logins(server, count: int, prefix: str = "nobody") -> None:
    for n in range(count):
        response = server.api("POST", "/api/auth/login", json={"username": f"{prefix}{n}", "password": "wrong-pass"})
        assert response.status_code == 401, response.text


def verify(server) -> dict:
    response = server.api("GET", "/api/audit/verify", server.admin_token)
    assert response.status_code == 200, response.text
    return response.json()


def verify_cli(server) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "aict", "audit-verify"], cwd=server.root,
                          env=server.env, capture_output=True, text=True, timeout=120)


def rows(server, sql: str, *args):
    with sqlite3.connect(server.instance / "aict.db") as db:
        return db.execute(sql, args).fetchall()


def wait_for_checkpoint(server, event_id: int, database: str | None = None) -> None:
    """Until the chain's head (of `database`, a fingerprint, if given) is checkpointed at `event_id` or later."""
    path = server.instance / "audit-checkpoints.log"
    deadline = time.monotonic() + 20  # every second (AUDITED), on a web process of a loaded machine
    while time.monotonic() < deadline:
        if path.exists() and any(json.loads(line)["id"] >= event_id and database in (None, json.loads(line).get("db"))
                                 for line in path.read_text().splitlines()):
            return
        time.sleep(0.1)
    written = path.read_text() if path.exists() else "(no checkpoint file)"
    raise AssertionError(f"the chain's head (event {event_id}) was never checkpointed; the file:\n{written}\n"
                         f"the server's log:\n{server.log_path.read_text(errors='replace')[-6000:]}")


# ---- reading ----------------------------------------------------------------------------------
def test_pages_come_newest_first_and_the_cursor_walks_all_of_them_once(audited):
    failed_logins(audited, 7, prefix=f"p{secrets.token_hex(3)}-")
    token = audited.admin_token
    everything = audited.api("GET", "/api/audit?limit=1000", token).json()
    assert everything["next_cursor"] is None
    ids = [int(e["id"]) for e in everything["events"]]
    assert ids == sorted(ids, reverse=True) and len(ids) >= 8  # the admin's login and the 7 failures
    seen, cursor = [], None
    while True:
        page = audited.api("GET", "/api/audit", token, params={"limit": 3, "cursor": cursor}).json()
        assert len(page["events"]) <= 3
        seen += [int(e["id"]) for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    event = everything["events"][0]
    assert set(event) >= {"id", "at", "type", "detail", "hash"} and event["at"].endswith("Z")


def test_filters_by_type_user_and_time(audited):
    prefix = f"f{secrets.token_hex(3)}-"
    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    failed_logins(audited, 3, prefix=prefix)
    token = audited.admin_token
    failures = audited.api("GET", "/api/audit", token, params={"type": "login_failed", "since": before}).json()
    assert {e["username"] for e in failures["events"]} >= {f"{prefix}{n}" for n in range(3)}
    assert all(e["type"] == "login_failed" for e in failures["events"])
    one = audited.api("GET", "/api/audit", token, params={"user": f"{prefix}1"}).json()["events"]
    assert [e["username"] for e in one] == [f"{prefix}1"]
    later = audited.api("GET", "/api/audit", token, params={"user": f"{prefix}1", "until": before}).json()
    assert later["events"] == []
    for bad in ({"since": "yesterday"}, {"cursor": "abc"}, {"limit": "0"}, {"limit": "x"}):
        response = audited.api("GET", "/api/audit", token, params=bad)
        assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request", bad


def test_only_admins_read_the_audit_log(audited):
    _, user_token = audited.create_user()
    for path in ("/api/audit", "/api/audit/export", "/api/audit/verify"):
        assert audited.api("GET", path, user_token).status_code == 403
        assert audited.api("GET", path).status_code == 401


def test_exports_are_oldest_first_in_json_lines_and_csv_with_formulas_defused(audited):
    token = audited.admin_token
    failed_logins(audited, 2, prefix="=HYPERLINK(1)-")
    jsonl = audited.api("GET", "/api/audit/export?format=jsonl", token)
    assert jsonl.status_code == 200 and jsonl.headers["Content-Type"].startswith("application/x-ndjson")
    events = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [int(e["id"]) for e in events] == sorted(int(e["id"]) for e in events)
    assert events[-1]["username"] == "=HYPERLINK(1)-1"  # the data itself, unchanged
    listed = audited.api("GET", "/api/audit?limit=1000", token).json()["events"]
    assert events == list(reversed(listed))
    exported = audited.api("GET", "/api/audit/export?format=csv&type=login_failed", token)
    assert exported.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[0] == ["id", "at", "type", "username", "ip", "workspace_id", "session_id", "detail", "hash"]
    assert [row[3] for row in table[1:]][-2:] == ["'=HYPERLINK(1)-0", "'=HYPERLINK(1)-1"]  # never run as a formula
    assert all(row[2] == "login_failed" and row[5] == "" for row in table[1:])
    assert audited.api("GET", "/api/audit/export?format=xml", token).status_code == 400


def test_exports_never_carry_a_control_character_a_terminal_would_act_on(audited):
    """`cat audit.csv` in a terminal: a failed login's username with escape sequences in it must not
    retitle or recolour it. CSV shows them as the page does (\\x1b); JSON lines as JSON escapes,
    the value itself unchanged."""
    tag = secrets.token_hex(2)
    name = f"\x1b]0;pwn\x07\x1b[31mEVIL{tag}\u202e\x9b"
    failed_logins(audited, 1, prefix=name)
    token = audited.admin_token
    exported = audited.api("GET", "/api/audit/export?format=csv&type=login_failed", token).text
    jsonl = audited.api("GET", "/api/audit/export?format=jsonl&type=login_failed", token).text
    for text in (exported, jsonl):
        assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]", text), repr(text[-300:])
    shown = f"\\x1b]0;pwn\\x07\\x1b[31mEVIL{tag}\\u202e\\x9b0"
    assert shown in [row[3] for row in csv.reader(io.StringIO(exported))], shown
    assert name + "0" in [json.loads(line)["username"] for line in jsonl.splitlines()]


def test_every_attachment_is_audited_from_its_start_to_its_end_closed_tab_included(audited):
    """Who watched which terminal, and until when: the creator's attachment is an attach event too,
    and a socket that goes away (a tab closed, a network lost) ends each of its attachments with a
    detach event, as an explicit detach-terminal does."""
    username, token = audited.create_user(role="admin")
    workspace = audited.create_local_workspace(token)
    creator = audited.socket(token)
    session_id = creator.create(workspace["id"])
    watcher = audited.socket(token)
    assert watcher.call("attach-terminal", {"sessionId": session_id, "readOnly": True})["ok"]
    assert watcher.call("detach-terminal", {"sessionId": session_id}) == {"ok": True}
    assert watcher.call("attach-terminal", {"sessionId": session_id})["ok"]
    watcher.close()
    creator.close()

    def events():
        found = audited.api("GET", "/api/audit", audited.admin_token, params={"user": username}).json()["events"]
        return [(e["type"], e["session_id"], e["detail"]) for e in reversed(found) if e["type"] in ("attach", "detach")]

    wait_until(lambda: len(events()) == 6, timeout=10, message="three attachments, each begun and ended")
    kinds = [(kind, detail.get("created", False), detail.get("reason")) for kind, _, detail in events()]
    assert sorted(kinds[:1]) == [("attach", True, None)]  # the creator's, first
    assert kinds.count(("detach", False, "disconnected")) == 2  # the two sockets that went away
    assert kinds.count(("detach", False, None)) == 1  # the explicit one
    assert all(sid == session_id for _, sid, _ in events())


def test_terminals_ended_by_deleting_their_workspace_say_who_deleted_it(audited):
    """Their session_end names the one who deleted the workspace and why, not the terminal's owner
    as if they had ended it themselves (found by a newcomer reviewing the log)."""
    owner, owner_token = audited.create_user(role="admin")
    deleter, deleter_token = audited.create_user(role="admin")
    workspace = audited.create_local_workspace(owner_token)
    client = audited.socket(owner_token)
    session_id = client.create(workspace["id"])
    assert audited.api("DELETE", f"/api/workspaces/{workspace['id']}", deleter_token).status_code == 204
    client.wait_exit(session_id)
    client.close()

    def ends():
        found = audited.api("GET", "/api/audit", audited.admin_token, params={"type": "session_end"}).json()
        return [e for e in found["events"] if e["session_id"] == session_id]

    wait_until(lambda: ends(), timeout=10, message="the terminal's session_end")
    (end,) = ends()
    assert (end["username"], end["detail"].get("reason")) == (deleter, "workspace_deleted"), end


# ---- the chain ----------------------------------------------------------------------------
def test_an_untouched_log_verifies(audited):
    failed_logins(audited, 5)
    result = verify(audited)
    assert result["ok"] is True and result["checked"] >= 6
    cli = verify_cli(audited)
    assert cli.returncode == 0 and "intact" in cli.stdout, cli.stderr


def test_an_altered_event_is_named(tampered):
    failed_logins(tampered, 5)
    third_failure = "SELECT id FROM audit_events WHERE type = 'login_failed' ORDER BY id LIMIT 1 OFFSET 2"
    target = rows(tampered, third_failure)[0][0]
    rows(tampered, "UPDATE audit_events SET username = 'someone-else' WHERE id = ?", target)
    assert verify(tampered) | {"checked": 0} == {"ok": False, "checked": 0, "first_bad_id": str(target),
                                                  "reason": "altered"}
    cli = verify_cli(tampered)
    assert cli.returncode == 1 and f"event {target} altered" in cli.stderr


def test_a_deleted_event_is_named_even_when_the_rest_is_rechained_without_the_key(tampered):
    failed_logins(tampered, 5)
    ids = [r[0] for r in rows(tampered, "SELECT id FROM audit_events ORDER BY id")]
    gone, after = ids[3], ids[4]
    rows(tampered, "DELETE FROM audit_events WHERE id = ?", gone)
    assert verify(tampered)["first_bad_id"] == str(after) and verify(tampered)["reason"] == "missing"
    # Re-chaining the rest as the old unkeyed chain allowed: without the key the MACs cannot follow.
    import hashlib

    previous = rows(tampered, "SELECT hash FROM audit_events WHERE id = ?", ids[2])[0][0]
    for (event_id,) in rows(tampered, "SELECT id FROM audit_events WHERE id > ? ORDER BY id", ids[2]):
        forged = hashlib.sha256(f"{previous}{event_id}".encode()).hexdigest()
        rows(tampered, "UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?", previous, forged, event_id)
        previous = forged
    result = verify(tampered)
    assert result["ok"] is False and result["first_bad_id"] == str(after)


def test_an_inserted_event_is_named(tampered):
    failed_logins(tampered, 4)
    first, second = rows(tampered, "SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 2")[::-1]
    # A row slipped in between the newest two, linked to its predecessor, with a MAC made up.
    rows(tampered, "UPDATE audit_events SET id = id + 1000 WHERE id = ?", second[0])
    rows(tampered, "INSERT INTO audit_events (id, at, type, username, detail, hash, prev_hash) "
                  "VALUES (?, '2026-01-01 00:00:00', 'login', 'ghost', '{}', ?, ?)",
         first[0] + 500, "0" * 64, first[1])
    result = verify(tampered)
    assert (result["ok"], result["first_bad_id"], result["reason"]) == (False, str(first[0] + 500), "inserted")


def test_events_cut_off_the_end_are_found_by_the_checkpoint(tampered):
    token = tampered.admin_token  # logged in before: checking writes no event
    failed_logins(tampered, 5)
    newest = rows(tampered, "SELECT max(id) FROM audit_events")[0][0]
    wait_for_checkpoint(tampered, newest)
    rows(tampered, "DELETE FROM audit_events WHERE id > ?", newest - 3)
    result = tampered.api("GET", "/api/audit/verify", token).json()
    assert (result["ok"], result["reason"], result["first_bad_id"]) == (False, "truncated", str(newest - 2))
    cli = verify_cli(tampered)
    assert cli.returncode == 1 and "truncated" in cli.stderr
    assert f"audit checkpoint: event {newest}" in tampered.log_path.read_text()  # a copy in the log too
    # New events then take the cut ids (SQLite reuses them), chained as they should be: still found.
    failed_logins(tampered, 5, prefix="later")
    result = tampered.api("GET", "/api/audit/verify", token).json()
    assert (result["ok"], result["reason"], result["first_bad_id"]) == (False, "truncated", str(newest))


def test_one_instance_folder_used_with_two_databases_keeps_each_chain_intact(tmp_path, postgres_url):
    """Tried as a newcomer would: `make run` on SQLite, then the same folder on PostgreSQL. Both chains
    were checkpointed into one file, and each was then found "truncated" against the other's
    checkpoints; each database is checked against its own now, and a cut is still found."""
    instance = tmp_path / "instance"
    heads = {}
    for name, url in (("sqlite", None), ("postgresql", postgres_url)):
        server = RunningServer(instance, {**AUDITED, **({"AICT_DATABASE_URL": url} if url else {})},
                               log_name=f"{name}.log").start()
        try:
            failed_logins(server, 6, prefix=f"{name}-")
            heads[name] = server
            wait_for_checkpoint(server, verify(server)["checked"],
                                database_fingerprint(url or f"sqlite:///{instance / 'aict.db'}"))
        finally:
            server.stop()
    lines = (instance / "audit-checkpoints.log").read_text().splitlines()
    assert len({json.loads(line)["db"] for line in lines}) == 2  # two chains in one file
    for name, server in heads.items():
        cli = verify_cli(server)
        assert cli.returncode == 0 and "intact" in cli.stdout, (name, cli.stdout, cli.stderr)
    sqlite_events = rows(heads["sqlite"], "SELECT max(id) FROM audit_events")[0][0]
    rows(heads["sqlite"], "DELETE FROM audit_events WHERE id > ?", sqlite_events - 2)  # a cut is still found
    cli = verify_cli(heads["sqlite"])
    assert cli.returncode == 1 and f"event {sqlite_events - 1} truncated" in cli.stderr, cli.stderr
    assert verify_cli(heads["postgresql"]).returncode == 0


# ---- one line, whatever the number of writers ---------------------------------------------------
def two_servers_on_one_database(start_server, database_url: str | None):
    shared = {"AICT_AUDIT_KEY": AUDIT_KEY, "AICT_SECRET_KEY": "s" * 48, "AICT_LOGIN_RATE": "100000 per minute",
              "AICT_LOGIN_IP_FAILURES": "100000", "AICT_LOGIN_USER_FAILURES": "100000",
              # 100 writers at once queue for the chain's lock inside the database, each holding its
              # connection while it waits its turn: that is the serialisation, not a wait of ours.
              "AICT_DB_HOLD_WARN_SECONDS": "10"}
    first = start_server({**shared, **({"AICT_DATABASE_URL": database_url} if database_url else {})})
    url = database_url or f"sqlite:///{first.instance / 'aict.db'}"
    second = start_server({**shared, "AICT_DATABASE_URL": url})  # the first's admin, and its tokens
    return first, second


def fifty_writers_each(servers) -> None:
    errors = []

    def write(server, n):
        try:
            response = requests.post(server.url + "/api/auth/login", timeout=60,
                                     json={"username": f"w{n}-{secrets.token_hex(2)}", "password": "wrong-pass"})
            if response.status_code != 401:
                errors.append(response.text)
        except requests.RequestException as error:
            errors.append(repr(error))

    threads = [threading.Thread(target=write, args=(server, n)) for server in servers for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]


def assert_one_line(server) -> None:
    events = server.api("GET", "/api/audit/export", server.admin_token).text.splitlines()
    keyed = [json.loads(line) for line in events]
    failures = [e for e in keyed if e["type"] == "login_failed"]
    assert len(failures) == 100
    result = verify(server)
    assert result["ok"] is True, result


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_processes_with_fifty_writers_each_write_one_line(start_server, request, database):
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else None
    first, second = two_servers_on_one_database(start_server, url)
    fifty_writers_each([first, second])
    assert_one_line(first)
    assert second.api("GET", "/api/audit/verify", first.admin_token).json()["ok"] is True


# ---- denied: every 403 and every refused socket connection, rate-limited -----------------------
def denied_events(server, **filters) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in {"type": "denied", **filters}.items())
    response = server.api("GET", f"/api/audit?{query}", server.admin_token)
    assert response.status_code == 200, response.text
    return response.json()["events"]


def test_refusals_are_denied_events_one_a_minute_per_client_and_kind(audited):
    from tests.integration.test_socket_security import refusal

    username, token = audited.create_user()
    for _ in range(5):  # a user knocking on the audit log five times: one event, the rest counted
        assert audited.api("GET", "/api/audit", token).status_code == 403
    assert audited.api("GET", "/api/audit/verify", token).status_code == 403  # another door: its own event
    events = denied_events(audited, user=username)
    assert sorted(e["detail"]["rule"] for e in events) == ["GET /api/audit", "GET /api/audit/verify"]
    assert all(e["detail"]["what"] == "http" and e["detail"]["code"] == "forbidden" for e in events)
    assert audited.api("GET", "/api/audit", token).status_code == 403
    assert len(denied_events(audited, user=username)) == 2  # still within the minute

    error = refusal(audited.url, {"token": audited.admin_token}, {"Origin": "http://evil.example"})
    assert error["data"]["code"] == "forbidden_origin"
    refusal(audited.url, {"token": "not-a-jwt"})
    socket = {e["detail"]["code"]: e for e in denied_events(audited) if e["detail"]["what"] == "socket"}
    assert socket["forbidden_origin"]["detail"]["origin"] == "http://evil.example"
    assert socket["forbidden_origin"]["ip"] == "127.0.0.1"
    assert set(socket) == {"forbidden_origin", "invalid_token"}

    # A refused socket event is one too: a viewer of a workspace opening a terminal in it.
    workspace = audited.create_local_workspace()["id"]
    granted = audited.api("POST", f"/api/workspaces/{workspace}/members", audited.admin_token,
                          json={"username": username, "access": "viewer"})
    assert granted.status_code == 201, granted.text
    viewer = audited.socket(token)
    try:
        answer = viewer.call("create-terminal", {"workspaceId": workspace})
    finally:
        viewer.close()
    assert answer["ok"] is False and answer["error"]["code"] == "forbidden", answer
    refused = [e for e in denied_events(audited, user=username) if e["detail"]["what"] == "socket_event"]
    assert [(e["workspace_id"], e["detail"]["event"]) for e in refused] == [(workspace, "create-terminal")]
    assert verify(audited)["ok"] is True
