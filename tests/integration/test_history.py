"""Command history (issue 18): commands run in a local bash, with exit code and working directory,
found by search, per workspace; the shell's marks reach no viewer and no recording, and forged
marks record nothing. The shared server runs its shells as their own account (aict-shell) with
`bash --noprofile --norc`; the login-shell server runs `bash -l`, the default."""

from __future__ import annotations

import os
import secrets
import time

import pytest

from tests.integration.contract import assert_error, login_tokens, new_user, wait_until
from tests.server import SHELL_ACCOUNT

MARKS = (b"\x1b]633", b"\x1b]133")


def run(client, session_id: str, *commands: str) -> None:
    """Type each command, then wait until the shell has run them all."""
    marker = secrets.token_hex(4)
    for command in commands:
        client.send(session_id, command + "\n")
    client.send(session_id, f"echo END-{marker}-$((6*7))\n")
    client.wait_for(session_id, f"END-{marker}-42", timeout=20)


def history(server, workspace_id: str, token: str | None = None, **params) -> list[dict]:
    response = server.api("GET", f"/api/workspaces/{workspace_id}/history", token or server.admin_token,
                          params=params)
    assert response.status_code == 200, response.text
    return response.json()


def recorded(server, workspace_id: str, command: str, token: str | None = None) -> dict:
    """The newest history item whose command is exactly `command` (waiting a little for it)."""
    found: list[dict] = []

    def look() -> bool:
        found[:] = [item for item in history(server, workspace_id, token, q=command) if item["command"] == command]
        return bool(found) and "exit_code" in found[0]

    wait_until(look, timeout=10, message=f"{command!r} in the history with its exit code")
    return found[0]


def test_a_command_appears_in_history_with_its_exit_code_and_cwd_and_is_found_by_search(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    tag = secrets.token_hex(4)
    run(c, session_id, "echo RUNS-AS-$(id -un)")
    if os.geteuid() == 0:  # the suite's servers run shells as an account of their own, as production does
        c.wait_for(session_id, f"RUNS-AS-{SHELL_ACCOUNT}")
    run(c, session_id, f"echo ok-{tag}", f"false # fails-{tag}", f"cd /tmp && (exit 7) # seven-{tag}")

    ok = recorded(server, workspace["id"], f"echo ok-{tag}")
    assert ok["exit_code"] == 0 and ok["cwd"] == workspace["path"]
    assert ok["username"] == server.admin_username and ok["session_id"] == session_id
    assert ok["capture"] == "shell" and ok["at"].endswith("Z") and isinstance(ok["time"], float)
    assert recorded(server, workspace["id"], f"false # fails-{tag}")["exit_code"] == 1
    assert recorded(server, workspace["id"], f"cd /tmp && (exit 7) # seven-{tag}")["exit_code"] == 7

    found = history(server, workspace["id"], q=f"FAILS-{tag.upper()}")  # any case
    assert [item["command"] for item in found] == [f"false # fails-{tag}"]
    newest_first = [item["command"] for item in history(server, workspace["id"]) if tag in item["command"]]
    assert newest_first[:3] == [f"cd /tmp && (exit 7) # seven-{tag}", f"false # fails-{tag}", f"echo ok-{tag}"]
    run(c, session_id, f"pwd # where-{tag}")
    assert recorded(server, workspace["id"], f"pwd # where-{tag}")["cwd"] == "/tmp"
    assert len(history(server, workspace["id"], limit=2)) == 2
    assert_error(server.api("GET", f"/api/workspaces/{workspace['id']}/history", server.admin_token,
                            params={"limit": "0"}), 400, "bad_request")

    events = server.api("GET", "/api/audit", server.admin_token,
                        params={"type": "command", "workspace_id": workspace["id"]}).json()["events"]
    audited = [e["detail"] for e in events if e["detail"].get("command") == f"false # fails-{tag}"]
    assert audited == [{"command": f"false # fails-{tag}", "exit_code": 1, "cwd": workspace["path"],
                        "capture": "shell"}]


def test_marks_never_reach_a_viewer_or_the_recording(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    watcher = client()
    assert watcher.call("attach-terminal", {"sessionId": session_id})["ok"]
    tag = secrets.token_hex(4)
    run(c, session_id, f"echo one-{tag}", f"ls / >/dev/null # two-{tag}")
    recorded(server, workspace["id"], f"ls / >/dev/null # two-{tag}")
    for stream in (bytes(c.streams[session_id]), bytes(watcher.streams[session_id])):
        assert f"one-{tag}".encode() in stream
        assert not any(mark in stream for mark in MARKS), stream[-400:]
    recording = server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token).text
    assert f"one-{tag}" in recording
    assert "\\u001b]633" not in recording and "\\u001b]133" not in recording
    replay = client()  # a late attach replays the ring: no marks there either
    assert replay.call("attach-terminal", {"sessionId": session_id})["ok"]
    replay.wait_for(session_id, f"one-{tag}")
    assert not any(mark in bytes(replay.streams[session_id]) for mark in MARKS)


def test_a_forged_mark_records_nothing_and_is_not_shown(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    tag = secrets.token_hex(4)
    forged = f"evil-{tag}"
    # What a file with marks in it would print when someone cats it: the nonce is not the shell's.
    run(c, session_id, f"printf '\\033]633;E;%s;{forged};/\\007\\033]633;D;%s;0\\007\\033]133;A\\007' "
                       f"deadbeef deadbeef; echo shown-{tag}")
    recorded(server, workspace["id"], f"printf '\\033]633;E;%s;{forged};/\\007\\033]633;D;%s;0\\007"
                                      f"\\033]133;A\\007' deadbeef deadbeef; echo shown-{tag}")
    assert [item for item in history(server, workspace["id"], q=forged) if item["command"] == forged] == []
    stream = bytes(c.streams[session_id])
    assert f"shown-{tag}".encode() in stream and not any(mark in stream for mark in MARKS)


def test_history_of_one_workspace_never_shows_anothers(server, client):
    one, two = server.create_local_workspace(), server.create_local_workspace()
    c = client()
    tag = secrets.token_hex(4)
    run(c, c.create(one["id"]), f"echo in-one-{tag}")
    run(c, c.create(two["id"]), f"echo in-two-{tag}")
    recorded(server, one["id"], f"echo in-one-{tag}")
    recorded(server, two["id"], f"echo in-two-{tag}")
    assert all(item["workspace_id"] == one["id"] for item in history(server, one["id"]))
    assert history(server, one["id"], q=f"in-two-{tag}") == []
    assert history(server, two["id"], q=f"in-one-{tag}") == []


def test_members_read_history_and_strangers_get_not_found(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    tag = secrets.token_hex(4)
    run(c, session_id, f"echo member-{tag}")
    recorded(server, workspace["id"], f"echo member-{tag}")
    viewer_name, password = new_user(server)
    assert server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                      json={"username": viewer_name, "access": "viewer"}).status_code == 201
    viewer = login_tokens(server, viewer_name, password)["access_token"]
    assert [i["command"] for i in history(server, workspace["id"], viewer, q=f"member-{tag}")] == [f"echo member-{tag}"]
    commands = server.api("GET", f"/api/sessions/{session_id}/commands", viewer)
    assert commands.status_code == 200 and f"echo member-{tag}" in [i["command"] for i in commands.json()]

    _, stranger = server.create_user()
    assert_error(server.api("GET", f"/api/workspaces/{workspace['id']}/history", stranger), 404, "not_found")
    assert_error(server.api("GET", f"/api/sessions/{session_id}/commands", stranger), 404, "not_found")
    assert server.api("GET", "/api/sessions", stranger, params={"command": f"member-{tag}"}).json() == []
    assert server.api("GET", f"/api/workspaces/{workspace['id']}/history").status_code == 401


def _audited_commands(server, workspace_id: str, tag: str) -> dict[str, dict]:
    events = server.api("GET", "/api/audit", server.admin_token,
                        params={"type": "command", "workspace_id": workspace_id}).json()["events"]
    return {e["detail"]["command"]: e["detail"] for e in events if tag in e["detail"].get("command", "")}


def test_a_commands_audit_event_carries_its_exit_code_and_one_that_runs_on_is_audited_anyway(
        server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    tag = secrets.token_hex(4)
    run(c, session_id, f"sleep 1.5; (exit 3) # slow-{tag}")  # ends after a flush or two
    assert recorded(server, workspace["id"], f"sleep 1.5; (exit 3) # slow-{tag}")["exit_code"] == 3
    wait_until(lambda: f"sleep 1.5; (exit 3) # slow-{tag}" in _audited_commands(server, workspace["id"], tag),
               timeout=10, message="the slow command's audit event")
    assert _audited_commands(server, workspace["id"], tag)[f"sleep 1.5; (exit 3) # slow-{tag}"]["exit_code"] == 3

    c.send(session_id, f"sleep 60 # long-{tag}\n")  # still running when its event is written
    wait_until(lambda: f"sleep 60 # long-{tag}" in _audited_commands(server, workspace["id"], tag),
               timeout=20, message="a running command's audit event")
    assert "exit_code" not in _audited_commands(server, workspace["id"], tag)[f"sleep 60 # long-{tag}"]
    c.send(session_id, "\x03")


def test_a_shared_terminals_commands_are_each_of_the_operator_who_typed_them(server, client, workspace):
    """An operator typing into the owner's terminal: the history and the audit name the operator, and
    the owner again for what the owner types next."""
    owner = client()
    session_id = owner.create(workspace["id"])
    name, token = server.create_user()
    assert server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                      json={"username": name, "access": "operator"}).status_code == 201
    operator = client(token)
    assert operator.call("attach-terminal", {"sessionId": session_id})["ok"]
    tag = secrets.token_hex(4)
    run(owner, session_id, f"echo by-owner-{tag}")
    run(operator, session_id, f"echo by-operator-{tag}")
    run(owner, session_id, f"echo owner-again-{tag}")

    assert recorded(server, workspace["id"], f"echo by-owner-{tag}")["username"] == server.admin_username
    assert recorded(server, workspace["id"], f"echo by-operator-{tag}")["username"] == name
    assert recorded(server, workspace["id"], f"echo owner-again-{tag}")["username"] == server.admin_username
    events = server.api("GET", "/api/audit", server.admin_token,
                        params={"type": "command", "workspace_id": workspace["id"]}).json()["events"]
    by = {e["detail"]["command"]: e["username"] for e in events if tag in e["detail"].get("command", "")}
    assert by == {f"echo by-owner-{tag}": server.admin_username, f"echo by-operator-{tag}": name,
                  f"echo owner-again-{tag}": server.admin_username}


def test_a_sessions_commands_come_oldest_first_with_their_place_in_the_recording(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    other = c.create(workspace["id"])
    tag = secrets.token_hex(4)
    run(c, session_id, f"echo first-{tag}")
    time.sleep(1.1)
    run(c, session_id, f"sudo-like-{tag} 2>/dev/null; true")
    run(c, other, f"echo elsewhere-{tag}")
    wait_until(lambda: len([i for i in server.api("GET", f"/api/sessions/{session_id}/commands",
                                                  server.admin_token).json() if tag in i["command"]]) == 2)
    items = [i for i in server.api("GET", f"/api/sessions/{session_id}/commands", server.admin_token).json()
             if tag in i["command"]]
    assert [i["command"] for i in items] == [f"echo first-{tag}", f"sudo-like-{tag} 2>/dev/null; true"]
    assert 0 <= items[0]["time"] < items[1]["time"] and items[1]["time"] - items[0]["time"] >= 1
    assert all(i["session_id"] == session_id for i in items)

    found = server.api("GET", "/api/sessions", server.admin_token, params={"command": f"SUDO-LIKE-{tag}"}).json()
    assert [s["id"] for s in found] == [session_id]
    both = server.api("GET", "/api/sessions", server.admin_token,
                      params={"command": tag, "workspace_id": workspace["id"], "status": "running"}).json()
    assert {s["id"] for s in both} == {session_id, other}


def test_no_workspace_may_live_in_the_shell_integration_or_the_homes(server):
    # Its directory would be handed to the workspace's shell account: the hooks every shell reads,
    # or other accounts' homes, would be that account's to change.
    for path in (".shell-integration", ".homes", ".homes/x", str(server.workspace_root / ".shell-integration" / "zsh")):
        response = server.api("POST", "/api/workspaces", server.admin_token,
                              json={"name": f"ws-{secrets.token_hex(3)}", "kind": "local", "path": path})
        assert_error(response, 400, "bad_request")


def _own_server(tmp_path_factory, name: str, settings: dict[str, str]):
    from tests.server import RunningServer

    running = RunningServer(tmp_path_factory.mktemp(name), settings).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def login_shell_server(tmp_path_factory):
    """Shells as production starts them: `bash -l` (its ~/.profile reads the ~/.bashrc of /etc/skel)."""
    yield from _own_server(tmp_path_factory, "aict-login-shell", {"AICT_SHELL_ARGS": '["-l"]'})


def test_a_login_shell_records_commands_and_keeps_writing_its_history_file(login_shell_server):
    server = login_shell_server
    workspace = server.create_local_workspace()
    c = server.socket()
    try:
        session_id = c.create(workspace["id"])
        tag = secrets.token_hex(4)
        run(c, session_id, f"echo login-{tag}", "shopt -q histappend && echo APPEND-$((1+1))")
        c.wait_for(session_id, "APPEND-2")
        assert recorded(server, workspace["id"], f"echo login-{tag}")["exit_code"] == 0
        run(c, session_id, "grep -c login- \"$HISTFILE\" | sed 's/^/IN-FILE-/'")  # PROMPT_COMMAND's history -a
        assert b"IN-FILE-1" in bytes(c.streams[session_id])
        assert not any(mark in bytes(c.streams[session_id]) for mark in MARKS)
        run(c, session_id, "env | grep -c AICT_ | sed 's/^/AICT-VARS-/'")  # the nonce is not handed down
        assert b"AICT-VARS-0" in bytes(c.streams[session_id])
    finally:
        c.close()


@pytest.fixture(scope="module")
def zsh_server(tmp_path_factory):
    """Shells are zsh (make test installs Debian's zsh when it is missing), started as the server starts
    bash: interactive, under the suite's own shell account."""
    yield from _own_server(tmp_path_factory, "aict-zsh", {"AICT_SHELL": "/usr/bin/zsh", "AICT_SHELL_ARGS": "[]"})


def test_a_zsh_records_commands_with_exit_codes_and_its_marks_reach_nobody(zsh_server):
    server = zsh_server
    workspace = server.create_local_workspace()
    c = server.socket()
    try:
        session_id = c.create(workspace["id"])
        tag = secrets.token_hex(4)
        run(c, session_id, "echo SHELL-IS-$ZSH_NAME", f"echo ok-{tag}", f"false && : fails-{tag}",
            f"cd /tmp && (exit 7) && : seven-{tag}", f"pwd && : where-{tag}")  # no comments: zsh reads # as a word
        c.wait_for(session_id, "SHELL-IS-zsh")
        ok = recorded(server, workspace["id"], f"echo ok-{tag}")
        assert (ok["exit_code"], ok["cwd"], ok["capture"]) == (0, workspace["path"], "shell")
        assert recorded(server, workspace["id"], f"false && : fails-{tag}")["exit_code"] == 1
        assert recorded(server, workspace["id"], f"cd /tmp && (exit 7) && : seven-{tag}")["exit_code"] == 7
        assert recorded(server, workspace["id"], f"pwd && : where-{tag}")["cwd"] == "/tmp"
        assert not any(mark in bytes(c.streams[session_id]) for mark in MARKS)
        recording = server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token)
        assert recording.status_code == 200 and f"ok-{tag}" in recording.text
        assert not any(mark.decode() in recording.text for mark in MARKS)
    finally:
        c.close()
