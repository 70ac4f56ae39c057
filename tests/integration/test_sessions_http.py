"""Terminal sessions over HTTP: listing, filters, inspection, killing, and who may see them."""

from __future__ import annotations

import re
import secrets
import threading

import pytest

from tests.integration.contract import assert_error, login_tokens, new_user, wait_until

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _user(server) -> tuple[str, str]:
    username, password = new_user(server)
    return username, login_tokens(server, username, password)["access_token"]


def _session(server, session_id: str, token: str | None = None) -> dict:
    response = server.api("GET", f"/api/sessions/{session_id}", token or server.admin_token)
    assert response.status_code == 200, response.text
    return response.json()


def _listed(server, token: str | None = None, **query) -> list[str]:
    response = server.api("GET", "/api/sessions", token or server.admin_token, params=query)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


def _wait_exited(server, session_id: str) -> dict:
    wait_until(lambda: _session(server, session_id)["status"] == "exited", timeout=10,
               message=f"session {session_id} listed as exited")
    return _session(server, session_id)


def test_session_shape_while_running(server, client, workspace):
    session_id = client().create(workspace["id"], cols=101, rows=33)
    session = _session(server, session_id)
    assert session["id"] == session_id and session["workspace_id"] == workspace["id"]
    assert session["status"] == "running"
    assert (session["cols"], session["rows"]) == (101, 33)
    assert session["owner"] == server.admin_username
    assert isinstance(session["name"], str) and session["name"]
    assert ISO_Z.match(session["created_at"])
    assert "ended_at" not in session or session["ended_at"] is None


def test_the_record_shows_the_terminals_size_after_a_resize(server, client, workspace):
    terminal = client()
    session_id = terminal.create(workspace["id"], cols=80, rows=24)
    assert terminal.call("terminal-resize", {"sessionId": session_id, "cols": 132, "rows": 43})["ok"]
    assert (_session(server, session_id)["cols"], _session(server, session_id)["rows"]) == (132, 43)
    listed = terminal.call("list-terminals", {"workspaceId": workspace["id"]})["sessions"]
    assert [(s["cols"], s["rows"]) for s in listed if s["id"] == session_id] == [(132, 43)]
    terminal.send(session_id, "exit\n")
    ended = _wait_exited(server, session_id)
    assert (ended["cols"], ended["rows"]) == (132, 43)


def test_sessions_are_listed_with_workspace_and_status_filters(server, client, workspace):
    other = server.create_local_workspace()
    c = client()
    running = c.create(workspace["id"])
    finished = c.create(workspace["id"])
    elsewhere = c.create(other["id"])
    c.send(finished, "exit 0\n")
    c.wait_exit(finished)
    _wait_exited(server, finished)

    assert set(_listed(server, workspace_id=workspace["id"])) == {running, finished}
    assert _listed(server, workspace_id=workspace["id"], status="running") == [running]
    assert _listed(server, workspace_id=workspace["id"], status="exited") == [finished]
    assert {running, finished, elsewhere} <= set(_listed(server))
    assert elsewhere not in _listed(server, status="exited")


def test_sessions_are_narrowed_by_user_and_paged_newest_first(server, client, workspace):
    username, token = _user(server)
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": "operator"})
    assert granted.status_code == 201, granted.text
    theirs = [client(token).create(workspace["id"]) for _ in range(3)]
    mine = client().create(workspace["id"])

    assert _listed(server, user=username) == theirs[::-1]  # newest first
    assert mine not in _listed(server, user=username)
    assert _listed(server, user="nobody-" + secrets.token_hex(3)) == []
    first = server.api("GET", "/api/sessions", server.admin_token, params={"user": username, "limit": 2}).json()
    assert [s["id"] for s in first] == theirs[:0:-1]
    assert _listed(server, user=username, limit=2, after=first[-1]["id"]) == [theirs[0]]
    assert _listed(server, token, workspace_id=workspace["id"], user=username) == theirs[::-1]  # a member too
    for bad in ({"limit": "0"}, {"limit": "many"}, {"after": "no-such-session"}):
        assert_error(server.api("GET", "/api/sessions", server.admin_token, params=bad), 400, "bad_request")


def test_paging_after_another_users_session_is_refused_as_after_an_unknown_one(server, client, workspace):
    """`after` names a session of the previous page: one the caller may not see is unknown to them
    (answered as a made-up id is), not a way to learn that it exists or where it sits."""
    c = client()
    hidden = c.create(workspace["id"])  # the admin's
    user_token = login_tokens(server, *new_user(server))["access_token"]
    foreign = server.api("GET", "/api/sessions", user_token, params={"after": hidden})
    unknown = server.api("GET", "/api/sessions", user_token, params={"after": "f" * 32})
    assert_error(foreign, 400, "bad_request")
    assert foreign.json() == unknown.json()
    assert server.api("GET", "/api/sessions", server.admin_token, params={"after": hidden}).status_code == 200


def test_listing_with_a_bad_status_or_unknown_workspace_is_refused(server):
    response = server.api("GET", "/api/sessions", server.admin_token, params={"status": "zombie"})
    assert_error(response, 400, "bad_request")
    response = server.api("GET", "/api/sessions", server.admin_token, params={"workspace_id": "no-such-thing"})
    assert_error(response, 404, "not_found")


def test_exit_code_is_kept_after_the_shell_exits(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "exit 7\n")
    c.wait_exit(session_id)
    session = _wait_exited(server, session_id)
    assert session["exit_code"] == 7 and session["signal"] is None
    assert ISO_Z.match(session["ended_at"])


@pytest.mark.parametrize("how", ["exit", "delete"])
def test_a_terminal_is_not_listed_running_once_its_exit_arrives(server, client, workspace, how):
    """A page reloads its list of running terminals when terminal-exit arrives: before the host has
    stored the end (it stores exits in batches), and while another tab's DELETE is still being
    answered. The terminal is no longer listed running."""
    c = client()
    for _ in range(5):
        session_id = c.create(workspace["id"])
        if how == "exit":
            c.send(session_id, "exit 3\n")
            c.wait_exit(session_id)
        else:
            ending = threading.Thread(target=server.api, args=("DELETE", f"/api/sessions/{session_id}",
                                                               server.admin_token))
            ending.start()
            c.wait_exit(session_id)
        listed = _listed(server, workspace_id=workspace["id"], status="running")
        if how == "delete":
            ending.join()
        assert session_id not in listed


def test_a_terminal_reads_as_ended_with_its_exit_code_while_its_end_is_not_stored_yet(start_server, postgres_url):
    """A client that heard terminal-exit and asks at once, before the host has stored the end (it
    stores ends in batches, and here the database holds the write back: another transaction has the
    record's row locked): the record says exited, with the exit code the event gave, and the
    terminal is listed among the exited ones, not the running ones."""
    import psycopg

    from tests.integration.databases import postgres_dsn

    server = start_server({"AICT_DATABASE_URL": postgres_url})
    workspace = server.create_local_workspace()
    c = server.socket()
    try:
        session_id = c.create(workspace["id"])
        with psycopg.connect(postgres_dsn()) as lock:
            lock.execute("SELECT id FROM terminal_sessions WHERE id = %s FOR UPDATE", (session_id,))
            c.send(session_id, "exit 7\n")
            exit_message = c.wait_exit(session_id)
            session = _session(server, session_id)
            assert (session["status"], session["exit_code"], session["signal"]) == ("exited", 7, None), session
            assert exit_message["exitCode"] == 7
            assert ISO_Z.match(session["ended_at"]), session
            assert session_id in _listed(server, workspace_id=workspace["id"], status="exited")
            assert session_id not in _listed(server, workspace_id=workspace["id"], status="running")
            lock.rollback()  # the host's write goes through now

        def stored():  # the record itself, not what the server adds to it
            with psycopg.connect(postgres_dsn()) as check:
                return check.execute("SELECT status, exit_code FROM terminal_sessions WHERE id = %s",
                                     (session_id,)).fetchone()
        wait_until(lambda: stored() == ("exited", 7), timeout=15, message="the stored record says exited, code 7")
        assert (_session(server, session_id)["exit_code"], _session(server, session_id)["signal"]) == (7, None)
    finally:
        c.close()


def test_delete_hangs_up_the_terminal_and_keeps_the_record(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "echo alive\n")
    c.wait_for(session_id, "alive")
    assert server.api("DELETE", f"/api/sessions/{session_id}", server.admin_token).status_code == 204
    exit_message = c.wait_exit(session_id)
    assert exit_message["signal"] == "SIGHUP" or isinstance(exit_message["exitCode"], int), exit_message
    session = _wait_exited(server, session_id)
    assert session["signal"] == "SIGHUP" or isinstance(session["exit_code"], int), session
    assert (session["signal"], session["exit_code"]) == (exit_message["signal"], exit_message["exitCode"])
    assert session_id in _listed(server, workspace_id=workspace["id"], status="exited")


@pytest.mark.parametrize("how", ["http", "socket"])
def test_the_record_says_exited_as_soon_as_the_kill_is_answered(server, client, workspace, how):
    """Even for a shell that ignores SIGHUP (killed 3 s later): a reader right after the answer,
    such as the page's session list, never sees the terminal still running."""
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "trap '' HUP; echo ign''oring\n")
    c.wait_for(session_id, "ignoring")
    if how == "http":
        assert server.api("DELETE", f"/api/sessions/{session_id}", server.admin_token).status_code == 204
    else:
        assert c.call("kill-terminal", {"sessionId": session_id})["ok"]
    session = _session(server, session_id)
    assert (session["status"], session["signal"]) == ("exited", "SIGKILL"), session
    assert session_id not in _listed(server, workspace_id=workspace["id"], status="running")


def test_delete_kills_a_process_that_ignores_hangup(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "trap '' HUP; echo ignoring-$((2*3))\n")
    c.wait_for(session_id, "ignoring-6")
    assert server.api("DELETE", f"/api/sessions/{session_id}", server.admin_token).status_code == 204
    exit_message = c.wait_exit(session_id, timeout=15)
    assert exit_message["exitCode"] is None and exit_message["signal"] == "SIGKILL", exit_message
    assert _wait_exited(server, session_id)["signal"] == "SIGKILL"


def test_unknown_session_id_is_not_found(server):
    for method in ("GET", "DELETE"):
        assert_error(server.api(method, f"/api/sessions/{secrets.token_hex(16)}", server.admin_token),
                     404, "not_found")


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_other_users_sessions_are_indistinguishable_from_unknown_ones(server, client, workspace, method):
    session_id = client().create(workspace["id"])
    _, token = _user(server)
    foreign = server.api(method, f"/api/sessions/{session_id}", token)
    unknown = server.api(method, f"/api/sessions/{secrets.token_hex(16)}", token)
    assert_error(foreign, 404, "not_found")
    assert_error(unknown, 404, "not_found")
    assert foreign.json() == unknown.json()
    assert session_id not in _listed(server, token)
    assert_error(server.api("GET", "/api/sessions", token, params={"workspace_id": workspace["id"]}),
                 404, "not_found")
    assert _session(server, session_id)["status"] == "running"


def test_members_see_the_workspace_sessions_and_operators_may_kill_them(server, client, workspace):
    viewer, viewer_token = _user(server)
    operator, operator_token = _user(server)
    for username, access in ((viewer, "viewer"), (operator, "operator")):
        server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                   json={"username": username, "access": access})
    c = client()
    session_id = c.create(workspace["id"])
    assert session_id in _listed(server, viewer_token)
    assert session_id in _listed(server, operator_token, workspace_id=workspace["id"])
    assert _session(server, session_id, viewer_token)["id"] == session_id
    assert_error(server.api("DELETE", f"/api/sessions/{session_id}", viewer_token), 403, "forbidden")
    assert server.api("DELETE", f"/api/sessions/{session_id}", operator_token).status_code == 204
    c.wait_exit(session_id)


def test_an_admin_lists_the_kept_sessions_of_a_deleted_workspace_and_a_user_may_not(server, client):
    workspace = server.create_local_workspace()
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "exit\n")
    c.wait_exit(session_id)
    assert server.api("DELETE", f"/api/workspaces/{workspace['id']}", server.admin_token).status_code == 204
    listed = server.api("GET", "/api/sessions", server.admin_token, params={"workspace_id": workspace["id"]})
    assert [s["id"] for s in listed.json()] == [session_id], listed.text
    _, token = server.create_user()
    response = server.api("GET", "/api/sessions", token, params={"workspace_id": workspace["id"]})
    assert_error(response, 404, "not_found")
