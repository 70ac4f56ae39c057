"""Names people read (workspaces, terminal sessions) never carry control characters: an ESC, BEL,
CR or LF in a name would repaint or split the terminal, log line or page that shows it."""

from __future__ import annotations

import secrets

import pytest

from tests.integration.contract import assert_ack_error, assert_error

CONTROLS = ["\x1b[2J", "bell\x07", "cr\rhere", "lf\nhere", "tab\there", "del\x7f", "nel\x85", "csi\x9b31m", "\x00"]


@pytest.mark.parametrize("bad", CONTROLS, ids=repr)
def test_workspace_names_with_control_characters_are_refused(server, workspace, bad):
    created = server.api("POST", "/api/workspaces", server.admin_token, json={"name": f"ws {bad}", "kind": "local"})
    assert_error(created, 400, "bad_request")
    renamed = server.api("PATCH", f"/api/workspaces/{workspace['id']}", server.admin_token, json={"name": bad})
    assert_error(renamed, 400, "bad_request")
    stored = server.api("GET", f"/api/workspaces/{workspace['id']}", server.admin_token).json()
    assert stored["name"] == workspace["name"]


@pytest.mark.parametrize("bad", CONTROLS, ids=repr)
def test_session_names_with_control_characters_are_refused(server, client, workspace, bad):
    c = client()
    answer = c.call("create-terminal", {"workspaceId": workspace["id"], "name": f"build {bad}"})
    assert "control" in assert_ack_error(answer, "bad_request")["message"] or bad == "\x00"
    names = [s["name"] for s in c.call("list-terminals", {"workspaceId": workspace["id"]})["sessions"]]
    assert not any(bad in name for name in names)


def test_printable_names_in_any_script_are_kept(server, client, workspace):
    name = f"Überprüfung 検証 {secrets.token_hex(2)}"
    created = server.api("POST", "/api/workspaces", server.admin_token, json={"name": name, "kind": "local"})
    assert created.status_code == 201 and created.json()["name"] == name
    c = client()
    answer = c.call("create-terminal", {"workspaceId": workspace["id"], "name": f"  {name}  "})
    assert answer["ok"] is True
    session = server.api("GET", f"/api/sessions/{answer['sessionId']}", server.admin_token).json()
    assert session["name"] == name
    c.call("kill-terminal", {"sessionId": answer["sessionId"]})
