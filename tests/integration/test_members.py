"""Workspace members: who manages them, and what operators and viewers may do with terminals."""

from __future__ import annotations

import secrets
import time

import pytest

from tests.integration.contract import assert_ack_error, assert_echoes, assert_error, login_tokens, new_user


def _user(server) -> tuple[str, str]:
    username, password = new_user(server)
    return username, login_tokens(server, username, password)["access_token"]


def _grant(server, workspace_id: str, username: str, access: str, token: str | None = None):
    return server.api("POST", f"/api/workspaces/{workspace_id}/members", token or server.admin_token,
                      json={"username": username, "access": access})


def _members(server, workspace_id: str, token: str | None = None):
    return server.api("GET", f"/api/workspaces/{workspace_id}/members", token or server.admin_token)


# ---- managing members --------------------------------------------------------------------------

def test_admin_adds_operators_and_viewers(server, workspace):
    operator, _ = _user(server)
    viewer, _ = _user(server)
    first = _grant(server, workspace["id"], operator, "operator")
    assert first.status_code == 201, first.text
    assert first.json() == {"username": operator, "access": "operator"}
    assert _grant(server, workspace["id"], viewer, "viewer").status_code == 201
    listed = _members(server, workspace["id"])
    assert listed.status_code == 200
    assert sorted(listed.json(), key=lambda m: m["username"]) == sorted(
        [{"username": operator, "access": "operator"}, {"username": viewer, "access": "viewer"}],
        key=lambda m: m["username"])


def test_owner_manages_the_members_of_their_workspace(permissive_server):
    server = permissive_server
    _, owner = _user(server)
    member, _ = _user(server)
    workspace = server.create_local_workspace(owner)
    assert _grant(server, workspace["id"], member, "viewer", owner).status_code == 201
    assert _members(server, workspace["id"], owner).json() == [{"username": member, "access": "viewer"}]
    removed = server.api("DELETE", f"/api/workspaces/{workspace['id']}/members/{member}", owner)
    assert removed.status_code == 204
    assert _members(server, workspace["id"], owner).json() == []
    owner_name = server.api("GET", "/api/me", owner).json()["username"]
    assert_error(_grant(server, workspace["id"], owner_name, "viewer", owner), 409, "conflict")


@pytest.mark.parametrize("access", ["operator", "viewer"])
def test_members_who_are_not_owners_cannot_manage_members(server, workspace, access):
    member, token = _user(server)
    other, _ = _user(server)
    _grant(server, workspace["id"], member, access)
    assert _members(server, workspace["id"], token).status_code == 200
    assert_error(_grant(server, workspace["id"], other, "viewer", token), 403, "forbidden")
    assert_error(_grant(server, workspace["id"], member, "operator", token), 403, "forbidden")
    removal = server.api("DELETE", f"/api/workspaces/{workspace['id']}/members/{member}", token)
    assert_error(removal, 403, "forbidden")
    assert {"username": member, "access": access} in _members(server, workspace["id"]).json()


def test_strangers_cannot_see_or_manage_members(server, workspace):
    _, token = _user(server)
    assert_error(_members(server, workspace["id"], token), 404, "not_found")
    assert_error(_grant(server, workspace["id"], "anyone", "viewer", token), 404, "not_found")


@pytest.mark.parametrize("access", ["owner", "admin", "", None, 3])
def test_granting_an_unknown_access_level_is_bad_request(server, workspace, access):
    member, _ = _user(server)
    assert_error(_grant(server, workspace["id"], member, access), 400, "bad_request")


def test_granting_an_unknown_user_is_not_found(server, workspace):
    assert_error(_grant(server, workspace["id"], f"ghost{secrets.token_hex(4)}", "viewer"), 404, "not_found")


def test_removing_someone_who_is_not_a_member_is_not_found(server, workspace):
    stranger, _ = _user(server)
    removal = server.api("DELETE", f"/api/workspaces/{workspace['id']}/members/{stranger}", server.admin_token)
    assert_error(removal, 404, "not_found")


# ---- operators and viewers on terminals --------------------------------------------------------

def test_operator_creates_and_types_in_terminals(server, client, workspace):
    username, token = _user(server)
    _grant(server, workspace["id"], username, "operator")
    c = client(token)
    session_id = c.create(workspace["id"])
    assert_echoes(c, session_id)
    resized = c.call("terminal-resize", {"sessionId": session_id, "cols": 100, "rows": 40})
    assert resized == {"ok": True}


def test_operator_types_in_a_terminal_the_owner_started(server, client, workspace):
    username, token = _user(server)
    _grant(server, workspace["id"], username, "operator")
    owner = client()
    session_id = owner.create(workspace["id"])
    operator = client(token)
    attached = operator.call("attach-terminal", {"sessionId": session_id})
    assert attached["ok"] is True and attached["access"] == "operator"
    operator.send(session_id, "echo from-$((40+2))-operator\n")
    owner.wait_for(session_id, "from-42-operator")


def test_viewer_watches_but_cannot_change_anything(server, client, workspace):
    username, token = _user(server)
    _grant(server, workspace["id"], username, "viewer")
    owner = client()
    session_id = owner.create(workspace["id"], cols=90, rows=30)
    owner.send(session_id, "echo before-$((1+1))\n")
    owner.wait_for(session_id, "before-2")

    viewer = client(token)
    listed = viewer.call("list-terminals", {"workspaceId": workspace["id"]})
    assert listed["ok"] is True and session_id in [s["id"] for s in listed["sessions"]]
    attached = viewer.call("attach-terminal", {"sessionId": session_id})
    assert attached["ok"] is True, attached
    assert attached["access"] == "viewer" and attached["status"] == "running"
    assert (attached["cols"], attached["rows"]) == (90, 30)
    viewer.wait_for(session_id, "before-2")

    assert_ack_error(viewer.send(session_id, "echo viewer-typed\n"), "forbidden")
    assert_ack_error(viewer.call("terminal-resize", {"sessionId": session_id, "cols": 50, "rows": 10}),
                     "forbidden")
    assert_ack_error(viewer.call("kill-terminal", {"sessionId": session_id}), "forbidden")
    assert_ack_error(viewer.call("create-terminal", {"workspaceId": workspace["id"]}), "forbidden")
    assert_error(server.api("DELETE", f"/api/sessions/{session_id}", token), 403, "forbidden")

    owner.send(session_id, "echo after-$((2+2))\n")
    viewer.wait_for(session_id, "after-4")
    assert b"viewer-typed" not in owner.streams[session_id]
    assert server.api("GET", f"/api/sessions/{session_id}", server.admin_token).json()["status"] == "running"


def test_viewer_who_never_attached_still_cannot_type(server, client, workspace):
    username, token = _user(server)
    _grant(server, workspace["id"], username, "viewer")
    session_id = client().create(workspace["id"])
    viewer = client(token)
    assert_ack_error(viewer.send(session_id, "echo sneaky\n"), "forbidden")
    assert_ack_error(viewer.call("terminal-resize", {"sessionId": session_id, "cols": 50, "rows": 10}),
                     "forbidden")


def test_downgrading_an_attached_operator_to_viewer_stops_their_typing(server, client, workspace):
    username, token = _user(server)
    _grant(server, workspace["id"], username, "operator")
    session_id = client().create(workspace["id"])
    member = client(token)
    assert member.call("attach-terminal", {"sessionId": session_id})["access"] == "operator"
    assert_echoes(member, session_id)
    assert _grant(server, workspace["id"], username, "viewer").status_code == 201
    assert_ack_error(member.send(session_id, "echo still-typing\n"), "forbidden")


def _attached_operator(server, client, workspace):
    """A new operator member attached to the owner's terminal: (username, token, owner, member, session id)."""
    username, token = _user(server)
    _grant(server, workspace["id"], username, "operator")
    owner = client()
    session_id = owner.create(workspace["id"])
    member = client(token)
    assert member.call("attach-terminal", {"sessionId": session_id})["ok"] is True
    return username, token, owner, member, session_id


def test_removed_member_is_detached_and_cannot_attach_again(server, client, workspace):
    username, token, owner, member, session_id = _attached_operator(server, client, workspace)
    assert_echoes(member, session_id)

    removal = server.api("DELETE", f"/api/workspaces/{workspace['id']}/members/{username}", server.admin_token)
    assert removal.status_code == 204

    owner.send(session_id, "echo after-removal-$((6*7))\n")
    owner.wait_for(session_id, "after-removal-42")
    time.sleep(0.5)
    assert b"after-removal-42" not in member.streams.get(session_id, b"")
    assert member.sio.connected
    assert_ack_error(member.call("attach-terminal", {"sessionId": session_id}), "not_found")
    assert_ack_error(member.send(session_id, "echo intruder\n"), "not_found")
    assert_ack_error(member.call("list-terminals", {"workspaceId": workspace["id"]}), "not_found")
    assert_error(server.api("GET", f"/api/workspaces/{workspace['id']}", token), 404, "not_found")
    assert_error(server.api("GET", f"/api/sessions/{session_id}", token), 404, "not_found")


def test_a_removed_members_attachment_ends_in_the_audit_log(server, client, workspace):
    """Who stopped watching what, and why: a removal wrote `member_revoke` and no `detach`."""
    username, token, owner, member, session_id = _attached_operator(server, client, workspace)
    removal = server.api("DELETE", f"/api/workspaces/{workspace['id']}/members/{username}", server.admin_token)
    assert removal.status_code == 204
    member.close()  # and its socket's disconnect writes no second detach

    def detaches():
        events = server.api("GET", "/api/audit", server.admin_token,
                            params={"type": "detach", "user": username}).json()["events"]
        return [(e["session_id"], e["detail"]) for e in events]
    deadline = time.monotonic() + 5
    while not detaches() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    assert detaches() == [(session_id, {"reason": "access_revoked"})]


def test_a_read_only_watch_stays_read_only_when_its_user_is_made_operator(server, client, workspace):
    """The host made every attachment of a promoted member an operator's, a read-only watch too:
    the viewers list said `operator` of someone watching read-only."""
    username, token = _user(server)
    _grant(server, workspace["id"], username, "viewer")
    owner = client()
    session_id = owner.create(workspace["id"])
    watcher = client(token)
    assert watcher.call("attach-terminal", {"sessionId": session_id, "readOnly": True})["access"] == "viewer"
    assert _grant(server, workspace["id"], username, "operator").status_code == 201
    time.sleep(0.3)
    listed = server.api("GET", f"/api/sessions/{session_id}/viewers", server.admin_token).json()
    assert [v["access"] for v in listed if v["username"] == username] == ["viewer"], listed
    assert_ack_error(watcher.send(session_id, "echo sneaked\n"), "forbidden")
