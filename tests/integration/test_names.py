"""Names people read (workspaces, terminal sessions) never carry control characters: an ESC, BEL,
CR or LF in a name would repaint or split the terminal, log line or page that shows it."""

from __future__ import annotations

import secrets

import pytest

from tests.integration.contract import assert_ack_error, assert_error

CONTROLS = ["\x1b[2J", "bell\x07", "cr\rhere", "lf\nhere", "tab\there", "del\x7f", "nel\x85", "csi\x9b31m", "\x00",
            # direction-changing or invisible: "x\u202egnp.exe" reads as "x.png exe" where it is shown
            "x\u202egnp.exe", "zero\u200bwidth", "line\u2028sep", "iso\u2066late\u2069", "bom\ufeff"]


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
    message = assert_ack_error(answer, "bad_request")["message"]
    assert "control" in message or "direction-changing" in message or bad == "\x00"
    names = [s["name"] for s in c.call("list-terminals", {"workspaceId": workspace["id"]})["sessions"]]
    assert not any(bad in name for name in names)


def test_printable_names_in_any_script_are_kept(server, client, workspace):
    name = f"Überprüfung 検証 می\u200cخواهم 👨\u200d💻 {secrets.token_hex(2)}"  # joiners are kept
    created = server.api("POST", "/api/workspaces", server.admin_token, json={"name": name, "kind": "local"})
    assert created.status_code == 201 and created.json()["name"] == name
    c = client()
    answer = c.call("create-terminal", {"workspaceId": workspace["id"], "name": f"  {name}  "})
    assert answer["ok"] is True
    session = server.api("GET", f"/api/sessions/{answer['sessionId']}", server.admin_token).json()
    assert session["name"] == name
    c.call("kill-terminal", {"sessionId": answer["sessionId"]})


def test_an_ssh_username_that_changes_the_text_direction_is_refused(server):
    body = {"name": "ssh-names", "kind": "ssh", "host": "127.0.0.1", "username": "root", "password": "x"}
    created = server.api("POST", "/api/workspaces", server.admin_token, json=body)
    assert created.status_code == 201, created.text
    renamed = server.api("PATCH", f"/api/workspaces/{created.json()['id']}", server.admin_token,
                         json={"username": "root\u202eevil"})
    assert "direction-changing" in assert_error(renamed, 400, "bad_request")["message"]
    assert server.api("GET", f"/api/workspaces/{created.json()['id']}", server.admin_token).json()["username"] == "root"
    # and a port of null is SSH's own, 22 (it was stored as null)
    reset = server.api("PATCH", f"/api/workspaces/{created.json()['id']}", server.admin_token, json={"port": None})
    assert reset.status_code == 200 and reset.json()["port"] == 22, reset.text
