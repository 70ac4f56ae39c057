"""terminal-command: a command that finishes in a terminal (its shell's integration marks say so) is
told to the sockets attached to the terminal and those watching its workspace, with its exit code
and how long it ran."""

from __future__ import annotations

import time

from tests.integration.contract import login_tokens, new_user, wait_until


def _commands(client) -> list[dict]:
    heard: list[dict] = []
    client.sio.on("terminal-command", heard.append)
    return heard


def test_a_finished_command_reaches_attached_and_watching_sockets(server, client, workspace):
    attached, watching, elsewhere = client(), client(), client()
    heard = {name: _commands(c) for name, c in (("attached", attached), ("watching", watching),
                                               ("elsewhere", elsewhere))}
    session_id = attached.create(workspace["id"])
    assert watching.call("watch-terminals", {"workspaceId": workspace["id"]})["ok"]
    other = server.create_local_workspace()
    assert elsewhere.call("watch-terminals", {"workspaceId": other["id"]})["ok"]

    attached.send(session_id, "sleep 1; false\n")
    wait_until(lambda: heard["attached"] and heard["watching"], timeout=15, message="terminal-command on both")
    event = heard["attached"][-1]
    assert set(event) == {"sessionId", "command", "exit_code", "duration"}
    assert event["sessionId"] == session_id and event["command"] == "sleep 1; false"
    # By the shell's clock (the host, busy, read a `sleep 1`'s start mark 6 ms late: 0.994 s)
    assert event["exit_code"] == 1 and 1.0 <= event["duration"] < 10, event
    assert heard["watching"][-1] == event
    attached.send(session_id, "sleep 0.1\n")
    wait_until(lambda: len(heard["attached"]) == 2, timeout=15, message="the second command")
    assert heard["attached"][-1]["exit_code"] == 0 and heard["attached"][-1]["command"] == "sleep 0.1"
    time.sleep(0.5)
    assert heard["elsewhere"] == [], "a socket watching another workspace hears nothing of this one"


def test_a_member_removed_stops_hearing_of_the_workspaces_commands(server, client, workspace):
    username, password = new_user(server)
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": "viewer"})
    assert granted.status_code == 201, granted.text
    member = client(login_tokens(server, username, password)["access_token"])
    heard = _commands(member)
    assert member.call("watch-terminals", {"workspaceId": workspace["id"]})["ok"]
    operator = client()
    session_id = operator.create(workspace["id"])
    operator.send(session_id, "true\n")
    wait_until(lambda: heard, timeout=15, message="the member hears the first command")
    removed = server.api("DELETE", f"/api/workspaces/{workspace['id']}/members/{username}", server.admin_token)
    assert removed.status_code == 204
    time.sleep(0.5)
    count = len(heard)
    operator.send(session_id, "echo secret-$((6*7))\n")
    operator.wait_for(session_id, "secret-42")
    time.sleep(1)
    assert len(heard) == count, heard[count:]
