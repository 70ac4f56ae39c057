"""Workspaces over HTTP: who may create, see, change and delete them."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from tests.integration.contract import assert_error, login_tokens, new_user

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _user_token(server) -> tuple[str, str]:
    username, password = new_user(server)
    return username, login_tokens(server, username, password)["access_token"]


def _create(server, token, **body):
    return server.api("POST", "/api/workspaces", token, json={"kind": "local", **body})


def test_admin_creates_a_local_workspace(server):
    name = f"ws-{secrets.token_hex(4)}"
    response = _create(server, server.admin_token, name=name)
    assert response.status_code == 201, response.text
    workspace = response.json()
    assert workspace["name"] == name and workspace["kind"] == "local"
    assert isinstance(workspace["id"], str) and workspace["id"]
    assert isinstance(workspace["path"], str) and workspace["path"].startswith("/")
    assert ISO_Z.match(workspace["created_at"]), workspace["created_at"]
    for absent in ("host", "password", "private_key", "host_key_fingerprint"):
        assert absent not in workspace
    assert server.api("GET", f"/api/workspaces/{workspace['id']}", server.admin_token).json() == workspace


def test_workspace_listing_includes_created_workspace(server, workspace):
    listed = server.api("GET", "/api/workspaces", server.admin_token)
    assert listed.status_code == 200
    assert workspace in listed.json()


def test_patch_renames_a_workspace(server, workspace):
    response = server.api("PATCH", f"/api/workspaces/{workspace['id']}", server.admin_token,
                          json={"name": "renamed"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "renamed"
    assert response.json()["id"] == workspace["id"]
    assert server.api("GET", f"/api/workspaces/{workspace['id']}", server.admin_token).json()["name"] == "renamed"


@pytest.mark.parametrize("body", [{"name": ""}, {"name": 5}, {"name": "bad\x07name"}, {"name": "x" * 200}])
def test_patch_with_an_invalid_name_is_bad_request(server, workspace, body):
    response = server.api("PATCH", f"/api/workspaces/{workspace['id']}", server.admin_token, json=body)
    assert_error(response, 400, "bad_request")
    assert server.api("GET", f"/api/workspaces/{workspace['id']}", server.admin_token).json()["name"] == \
        workspace["name"]


@pytest.mark.parametrize("body", [
    {"kind": "local"},
    {"kind": "local", "name": ""},
    {"kind": "local", "name": "ctl\x1bchars"},
    {"kind": "docker", "name": "x"},
    {"kind": "local", "name": ["x"]},
])
def test_invalid_workspace_fields_are_bad_request(server, body):
    response = server.api("POST", "/api/workspaces", server.admin_token, json=body)
    assert_error(response, 400, "bad_request")


def test_admin_path_outside_the_root_must_exist(server):
    response = _create(server, server.admin_token, name="nowhere", path=f"/nonexistent-{secrets.token_hex(4)}/dir")
    assert_error(response, 400, "bad_request")
    existing = _create(server, server.admin_token, name="tmp", path="/tmp")
    assert existing.status_code == 201 and existing.json()["path"] == "/tmp"


def test_delete_removes_the_workspace(server, workspace):
    path = f"/api/workspaces/{workspace['id']}"
    assert server.api("DELETE", path, server.admin_token).status_code == 204
    assert_error(server.api("GET", path, server.admin_token), 404, "not_found")
    assert workspace["id"] not in [w["id"] for w in server.api("GET", "/api/workspaces", server.admin_token).json()]
    assert_error(server.api("DELETE", path, server.admin_token), 404, "not_found")


def test_delete_ends_the_workspace_running_terminals(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "echo ready\n")
    c.wait_for(session_id, "ready")
    assert server.api("DELETE", f"/api/workspaces/{workspace['id']}", server.admin_token).status_code == 204
    exit_message = c.wait_exit(session_id, timeout=10)
    assert exit_message["sessionId"] == session_id
    assert_error(server.api("GET", f"/api/workspaces/{workspace['id']}", server.admin_token), 404, "not_found")
    assert c.call("list-terminals", {})["ok"] is True


def test_non_admin_cannot_create_local_workspaces_by_default(server):
    _, token = _user_token(server)
    assert_error(_create(server, token, name="mine"), 403, "forbidden")
    assert_error(_create(server, token, name="mine", path="/tmp"), 403, "forbidden")


def test_workspace_needs_a_token(server):
    assert_error(server.api("GET", "/api/workspaces"), 401, "unauthorized")
    assert_error(_create(server, None, name="x"), 401, "unauthorized")


# ---- visibility --------------------------------------------------------------------------------

def test_users_see_only_workspaces_they_own_or_are_members_of(server):
    _, token = _user_token(server)
    member_of = server.create_local_workspace()
    hidden = server.create_local_workspace()
    me = server.api("GET", "/api/me", token).json()["username"]
    grant = server.api("POST", f"/api/workspaces/{member_of['id']}/members", server.admin_token,
                       json={"username": me, "access": "viewer"})
    assert grant.status_code == 201, grant.text
    listed = server.api("GET", "/api/workspaces", token)
    assert listed.status_code == 200
    assert [w["id"] for w in listed.json()] == [member_of["id"]]
    admin_ids = [w["id"] for w in server.api("GET", "/api/workspaces", server.admin_token).json()]
    assert {member_of["id"], hidden["id"]} <= set(admin_ids)


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_other_users_workspace_is_indistinguishable_from_an_unknown_id(server, workspace, method):
    _, token = _user_token(server)
    body = {"name": "taken-over"} if method == "PATCH" else None
    foreign = server.api(method, f"/api/workspaces/{workspace['id']}", token, json=body)
    unknown = server.api(method, f"/api/workspaces/{secrets.token_hex(16)}", token, json=body)
    assert_error(foreign, 404, "not_found")
    assert_error(unknown, 404, "not_found")
    assert foreign.json() == unknown.json()
    assert server.api("GET", f"/api/workspaces/{workspace['id']}", server.admin_token).json() == workspace


def test_members_of_a_workspace_cannot_change_or_delete_it(server, workspace):
    username, token = _user_token(server)
    server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
               json={"username": username, "access": "operator"})
    path = f"/api/workspaces/{workspace['id']}"
    assert server.api("GET", path, token).status_code == 200
    assert_error(server.api("PATCH", path, token, json={"name": "mine now"}), 403, "forbidden")
    assert_error(server.api("DELETE", path, token), 403, "forbidden")
    assert server.api("GET", path, server.admin_token).json()["name"] == workspace["name"]


# ---- users' own local workspaces (AICT_USER_LOCAL_WORKSPACES) ---------------------------------

def test_users_may_create_local_workspaces_under_the_root_when_allowed(permissive_server):
    server = permissive_server
    username, token = _user_token(server)
    default = _create(server, token, name="default-place")
    assert default.status_code == 201, default.text
    root = str(server.workspace_root)
    assert default.json()["path"].startswith(root)
    nested = _create(server, token, name="nested", path=f"{username}/project")
    assert nested.status_code == 201, nested.text
    assert nested.json()["path"] == f"{root}/{username}/project"
    assert {w["id"] for w in server.api("GET", "/api/workspaces", token).json()} == \
        {default.json()["id"], nested.json()["id"]}


@pytest.mark.parametrize("path", ["/tmp", "/", "../escape", "sub/../../escape", "/etc/ssh"])
def test_users_may_not_place_local_workspaces_outside_the_root(permissive_server, path):
    server = permissive_server
    _, token = _user_token(server)
    assert_error(_create(server, token, name="outside", path=path), 403, "forbidden")
    assert server.api("GET", "/api/workspaces", token).json() == []


def test_users_may_not_move_their_workspace_outside_the_root(permissive_server):
    server = permissive_server
    _, token = _user_token(server)
    workspace = _create(server, token, name="mine").json()
    response = server.api("PATCH", f"/api/workspaces/{workspace['id']}", token, json={"path": "/etc"})
    assert_error(response, 403, "forbidden")
    assert server.api("GET", f"/api/workspaces/{workspace['id']}", token).json()["path"] == workspace["path"]


def test_owner_renames_and_deletes_their_own_workspace(permissive_server):
    server = permissive_server
    _, token = _user_token(server)
    workspace = _create(server, token, name="mine").json()
    path = f"/api/workspaces/{workspace['id']}"
    assert server.api("PATCH", path, token, json={"name": "still mine"}).json()["name"] == "still mine"
    assert server.api("DELETE", path, token).status_code == 204
    assert_error(server.api("GET", path, token), 404, "not_found")


def test_workspaces_of_the_same_name_get_directories_of_their_own(permissive_server, connect):
    """Two users each create "proj": a file one of them writes in a terminal is not in the other's."""
    server = permissive_server
    tokens = [_user_token(server)[1] for _ in range(2)]
    workspaces = [_create(server, token, name="proj").json() for token in tokens]
    terminals = []
    for token, workspace in zip(tokens, workspaces, strict=True):
        c = connect(server, token)
        terminals.append((c, c.create(workspace["id"])))
    (alice, alices), (bob, bobs) = terminals
    alice.send(alices, "echo alice > notes.txt && echo written-$((6*7))\n")
    alice.wait_for(alices, "written-42")
    bob.send(bobs, "cat notes.txt 2>/dev/null || echo absent-$((6*7))\n")
    bob.wait_for(bobs, "absent-42")
    assert "alice" not in bob.text(bobs)
    assert workspaces[0]["path"] != workspaces[1]["path"]
    # The same user's second "proj" starts empty too.
    third = _create(server, tokens[0], name="proj").json()
    assert third["path"] not in {w["path"] for w in workspaces}
    assert not any(Path(third["path"]).iterdir())
    assert (Path(workspaces[0]["path"]) / "notes.txt").read_text() == "alice\n"


def test_users_do_not_see_each_others_own_workspaces(permissive_server):
    server = permissive_server
    _, alice = _user_token(server)
    _, bob = _user_token(server)
    alices = _create(server, alice, name="alice's").json()
    assert server.api("GET", "/api/workspaces", bob).json() == []
    assert_error(server.api("GET", f"/api/workspaces/{alices['id']}", bob), 404, "not_found")
    assert alices["id"] in [w["id"] for w in server.api("GET", "/api/workspaces", server.admin_token).json()]


def test_users_may_not_take_another_workspaces_directory_or_the_root(permissive_server):
    """A plain user could name another user's workspace directory (or the root holding them all) as
    theirs: their shells then took it over, or read it through a shared shell account."""
    server = permissive_server
    owner, owner_token = _user_token(server)
    theirs = _create(server, owner_token, name="theirs", path=f"{owner}/teamproj").json()
    _, token = _user_token(server)
    for path in (theirs["path"], f"{owner}/teamproj/inner", owner, str(server.workspace_root), ""):
        response = _create(server, token, name="grab", path=path)
        assert response.status_code in (403, 409), (path, response.text)
    mine = _create(server, token, name="mine").json()
    response = server.api("PATCH", f"/api/workspaces/{mine['id']}", token, json={"path": theirs["path"]})
    assert_error(response, 409, "conflict")
    assert server.api("GET", f"/api/workspaces/{mine['id']}", token).json()["path"] == mine["path"]
    # their own second workspace may share their own directory
    again = _create(server, owner_token, name="theirs-too", path=f"{owner}/teamproj")
    assert again.status_code == 201, again.text
