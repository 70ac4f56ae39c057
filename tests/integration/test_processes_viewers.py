"""What runs in a terminal (terminal-process, GET .../processes) and who watches it (terminal-viewers,
GET and DELETE .../viewers), through a real server, its terminal host and real shells."""

from __future__ import annotations

import re
import time

from tests.integration.contract import assert_error, audit_events, login_tokens, new_user, wait_until
from tests.server import TerminalClient

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


class Listening:
    """A socket's terminal-process, terminal-viewers and terminal-command events, as they came."""

    def __init__(self, client: TerminalClient):
        self.client = client
        self.process: list[dict] = []
        self.viewers: list[dict] = []
        self.commands: list[dict] = []
        client.sio.on("terminal-process", self.process.append)
        client.sio.on("terminal-viewers", self.viewers.append)
        client.sio.on("terminal-command", self.commands.append)

    def foreground(self, session_id: str) -> str | None:
        mine = [e for e in self.process if e["sessionId"] == session_id]
        return mine[-1]["foreground"]["command"] if mine and mine[-1]["foreground"] else None

    def last_viewers(self, session_id: str) -> list[dict] | None:
        mine = [e for e in self.viewers if e["sessionId"] == session_id]
        return mine[-1]["viewers"] if mine else None


def _member(server, workspace_id: str, access: str) -> tuple[str, str]:
    username, password = new_user(server)
    granted = server.api("POST", f"/api/workspaces/{workspace_id}/members", server.admin_token,
                         json={"username": username, "access": access})
    assert granted.status_code == 201, granted.text
    return username, login_tokens(server, username, password)["access_token"]


# ---- processes -----------------------------------------------------------------------------------

def test_the_foreground_program_follows_what_runs(server, workspace, client):
    socket = client()
    events = Listening(socket)
    session_id = socket.create(workspace["id"])
    wait_until(lambda: events.foreground(session_id) is not None, timeout=10, message="a first terminal-process")
    assert events.foreground(session_id) == "bash"  # the shell at its prompt: its name, not how it was started

    socket.send(session_id, "sleep 30\n")
    wait_until(lambda: events.foreground(session_id) == "sleep 30", timeout=10, message="sleep 30 in the foreground")
    last = events.process[-1]
    assert set(last) == {"sessionId", "foreground", "processes", "cpu_percent", "rss_bytes"}
    assert last["processes"] >= 2  # the shell and the sleep
    assert isinstance(last["foreground"]["pid"], int) and last["foreground"]["pid"] > 1
    assert 1_000_000 < last["rss_bytes"] < 1_000_000_000, last  # a shell and a sleep: megabytes
    assert 0 <= last["cpu_percent"] < 50, last  # both wait

    socket.send(session_id, "\x03")  # Ctrl-C: the shell is in front again
    wait_until(lambda: "bash" in (events.foreground(session_id) or ""), timeout=10, message="bash again")


def test_terminal_process_comes_at_most_once_a_second_and_only_on_change(server, workspace, client):
    socket = client()
    events = Listening(socket)
    session_id = socket.create(workspace["id"])
    socket.send(session_id, "sh -c 'while :; do :; done' &\n")  # CPU use that changes from one second to the next
    wait_until(lambda: any(e["processes"] >= 2 for e in events.process), timeout=10, message="the busy child")
    began, count = time.monotonic(), len(events.process)
    time.sleep(4.2)
    arrived = events.process[count:]
    assert 1 <= len(arrived) <= 5, arrived  # one a second at most (~4.2 s)
    assert max(e["cpu_percent"] for e in arrived) > 20, arrived  # the loop burns a CPU
    for before, after in zip(arrived, arrived[1:], strict=False):
        assert before != after, "an event that changed nothing"
    socket.send(session_id, "kill %1\n")
    # settled: on a loaded machine the second after the kill still counts the loop's last ticks (then 0.0)
    wait_until(lambda: events.process[-1]["processes"] == 1 and events.process[-1]["cpu_percent"] == 0,
               timeout=10, message="back to the idle shell")
    idle_from = len(events.process)
    time.sleep(2.5)
    assert events.process[idle_from:] == [], "an idle shell changes nothing, so nothing is sent"
    assert time.monotonic() - began > 4


def test_the_processes_endpoint_lists_the_tree(server, workspace, client):
    socket = client()
    session_id = socket.create(workspace["id"])
    socket.send(session_id, "sleep 31 | cat\n")
    token = server.admin_token

    def listed():
        answer = server.api("GET", f"/api/sessions/{session_id}/processes", token)
        assert answer.status_code == 200, answer.text
        return answer.json()

    wait_until(lambda: any(p["command"] == "sleep 31" for p in listed()), timeout=10, message="sleep 31 listed")
    tree = listed()
    shell = tree[0]
    assert "bash" in shell["command"]
    by_pid = {p["pid"]: p for p in tree}
    sleep = next(p for p in tree if p["command"] == "sleep 31")
    cat = next(p for p in tree if p["command"] == "cat")
    assert sleep["ppid"] == shell["pid"] and cat["ppid"] == shell["pid"], tree  # children of the shell
    for proc in tree:
        assert set(proc) == {"pid", "ppid", "command", "cpu_percent", "rss_bytes", "started_at"}
        assert ISO.match(proc["started_at"]), proc
        assert proc["rss_bytes"] > 0 and proc["cpu_percent"] >= 0
        assert proc["pid"] == shell["pid"] or proc["ppid"] in by_pid  # one tree, rooted at the shell
    socket.send(session_id, "\x03")


def test_an_ended_terminal_has_no_processes(server, workspace, client):
    socket = client()
    session_id = socket.create(workspace["id"])
    assert socket.call("kill-terminal", {"sessionId": session_id}) == {"ok": True}
    socket.wait_exit(session_id)
    answer = server.api("GET", f"/api/sessions/{session_id}/processes", server.admin_token)
    assert answer.status_code == 200 and answer.json() == [], answer.text


def test_an_ended_terminal_is_not_among_what_runs_for_a_watcher(server, workspace, client):
    """watch-terminals answers what runs in the workspace's running terminals: one that ended a
    moment ago (its last report still held) is not there, nor reported to a socket attaching it."""
    socket = client()
    session_id = socket.create(workspace["id"])
    events = Listening(socket)
    socket.send(session_id, "sleep 31\n")
    wait_until(lambda: events.foreground(session_id) == "sleep 31", timeout=10, message="sleep 31 reported")
    assert socket.call("kill-terminal", {"sessionId": session_id}) == {"ok": True}
    socket.wait_exit(session_id)
    watcher = client()
    answer = watcher.call("watch-terminals", {"workspaceId": workspace["id"]})
    assert answer["ok"] and session_id not in [p["sessionId"] for p in answer["processes"]], answer
    late = client()
    heard = Listening(late)
    late.call("attach-terminal", {"sessionId": session_id})
    time.sleep(0.5)
    assert [e for e in heard.process if e["sessionId"] == session_id] == []


def test_strangers_see_neither_processes_nor_viewers(server, workspace, client):
    session_id = client().create(workspace["id"])
    username, password = new_user(server)
    token = login_tokens(server, username, password)["access_token"]
    for what in ("processes", "viewers"):
        assert_error(server.api("GET", f"/api/sessions/{session_id}/{what}", token), 404, "not_found")
    assert_error(server.api("DELETE", f"/api/sessions/{session_id}/viewers/abc", token), 404, "not_found")


def test_a_socket_watching_the_workspace_hears_of_terminals_it_is_not_attached_to(server, workspace, client):
    maker = client()
    session_id = maker.create(workspace["id"])
    _, token = _member(server, workspace["id"], "viewer")
    watcher = client(token)
    events = Listening(watcher)
    answer = watcher.call("watch-terminals", {"workspaceId": workspace["id"]})
    assert answer["ok"] and isinstance(answer["processes"], list), answer
    maker.send(session_id, "sleep 32\n")
    wait_until(lambda: events.foreground(session_id) == "sleep 32", timeout=10, message="the watcher saw sleep 32")
    assert session_id not in watcher.streams  # no output: it only watches

    assert watcher.call("unwatch-terminals", {"workspaceId": workspace["id"]}) == {"ok": True}
    time.sleep(0.3)
    seen = len(events.process)
    maker.send(session_id, "\x03")
    time.sleep(2.5)
    assert len(events.process) == seen, "nothing after unwatch-terminals"



def test_a_socket_watching_the_workspace_hears_of_terminals_starting_and_ending(server, workspace, client):
    """terminal-state (extension): a page lists the workspace's terminals, most not on screen; one
    started or ended elsewhere (another tab, another member, an SSH terminal with no process
    reports) shows there at once. Nothing for a workspace the socket does not watch."""
    _, token = _member(server, workspace["id"], "viewer")
    watcher, maker = client(token), client()
    states: list[dict] = []
    watcher.sio.on("terminal-state", states.append)
    assert watcher.call("watch-terminals", {"workspaceId": workspace["id"]})["ok"]
    other = server.create_local_workspace()
    elsewhere = maker.create(other["id"])  # not watched
    session_id = maker.create(workspace["id"])
    wait_until(lambda: {"sessionId": session_id, "workspaceId": workspace["id"], "status": "running"} in states,
               timeout=10, message="the watcher heard the terminal start")
    resized = maker.call("terminal-resize", {"sessionId": session_id, "cols": 100, "rows": 30})
    assert resized["ok"], resized  # a resize is no news for the list
    assert maker.call("kill-terminal", {"sessionId": session_id})["ok"]
    wait_until(lambda: {"sessionId": session_id, "workspaceId": workspace["id"], "status": "exited"} in states,
               timeout=10, message="the watcher heard the terminal end")
    assert [s["status"] for s in states if s["sessionId"] == session_id] == ["running", "exited"]
    assert all(s["sessionId"] != elsewhere for s in states), states

def test_watching_needs_the_workspace(server, workspace, client):
    username, password = new_user(server)
    stranger = client(login_tokens(server, username, password)["access_token"])
    answer = stranger.call("watch-terminals", {"workspaceId": workspace["id"]})
    assert answer["ok"] is False and answer["error"]["code"] == "not_found", answer
    assert stranger.call("watch-terminals", {})["error"]["code"] == "bad_request"


# ---- viewers -------------------------------------------------------------------------------------

def test_viewers_are_listed_and_an_owner_or_admin_detaches_one(server, workspace, client):
    first = client()  # the admin, who made the workspace
    first_events = Listening(first)
    session_id = first.create(workspace["id"])
    wait_until(lambda: first_events.last_viewers(session_id) is not None, timeout=10, message="the first list")
    assert [v["username"] for v in first_events.last_viewers(session_id)] == ["admin"]

    member, token = _member(server, workspace["id"], "operator")
    second = client(token)
    second_events = Listening(second)
    attached = second.call("attach-terminal", {"sessionId": session_id})
    assert attached["ok"] and isinstance(attached["viewerId"], str), attached
    wait_until(lambda: len(first_events.last_viewers(session_id) or []) == 2, timeout=10,
               message="the first socket hears of the second")
    listed = first_events.last_viewers(session_id)
    mine = next(v for v in listed if v["username"] == member)
    assert mine == {"id": attached["viewerId"], "username": member, "access": "operator", "since": mine["since"]}
    assert ISO.match(mine["since"])
    wait_until(lambda: len(second_events.last_viewers(session_id) or []) == 2, timeout=10,
               message="the second socket hears the list once attached")
    over_http = server.api("GET", f"/api/sessions/{session_id}/viewers", token)
    assert over_http.status_code == 200 and sorted(v["id"] for v in over_http.json()) == sorted(v["id"] for v in listed)

    # an operator is not the owner: 403; the admin detaches the member's socket
    assert_error(server.api("DELETE", f"/api/sessions/{session_id}/viewers/{mine['id']}", token), 403, "forbidden")
    gone = server.api("DELETE", f"/api/sessions/{session_id}/viewers/{mine['id']}", server.admin_token)
    assert gone.status_code == 204, gone.text
    wait_until(lambda: any(e.get("code") == "detached" for e in second.errors), timeout=10, message="detached error")
    error = next(e for e in second.errors if e.get("code") == "detached")
    assert error["sessionId"] == session_id and error["message"]
    wait_until(lambda: len(first_events.last_viewers(session_id)) == 1, timeout=10, message="the list without it")

    had = len(second.streams.get(session_id, b""))
    first.send(session_id, "echo after-$((40+2))\n")
    first.wait_for(session_id, "after-42\r\n")
    time.sleep(0.5)
    assert len(second.streams.get(session_id, b"")) == had, "no more output for a detached socket"
    assert_error(server.api("DELETE", f"/api/sessions/{session_id}/viewers/{mine['id']}", server.admin_token),
                 404, "not_found")  # detached already
    event = [e for e in audit_events(server, "viewer_detach") if e["detail"]["viewer"] == mine["id"]]
    assert event and event[0]["username"] == "admin" and event[0]["detail"]["viewer_username"] == member


def test_viewers_may_watch_but_not_detach(server, workspace, client):
    session_id = client().create(workspace["id"])
    _, token = _member(server, workspace["id"], "viewer")
    watcher = client(token)
    attached = watcher.call("attach-terminal", {"sessionId": session_id})
    assert attached["access"] == "viewer"
    listed = server.api("GET", f"/api/sessions/{session_id}/viewers", token).json()
    assert {v["access"] for v in listed} == {"operator", "viewer"}
    for viewer in listed:
        assert_error(server.api("DELETE", f"/api/sessions/{session_id}/viewers/{viewer['id']}", token), 403,
                     "forbidden")
