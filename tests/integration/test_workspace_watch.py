"""watch-workspace: live git status and file changes of a local workspace, over the socket (PROTOCOL
v1.1 "Workspace live status"), against a real repository in the workspace's directory, changed by
a shell typing in its terminal and by the test from outside."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from aict import protocol
from tests.integration.test_terminal_host import node  # noqa: F401  (the fixture: a host and two web processes)
from tests.server import ROOT, SHELL_ACCOUNT, TerminalClient

WITHIN = 2.0  # seconds: the contract's bound for both events


class Watcher:
    """A socket's workspace-status and file-change events, each with the time it arrived."""

    def __init__(self, socket: TerminalClient):
        self.socket = socket
        self.statuses: list[tuple[float, dict]] = []
        self.changes: list[tuple[float, dict]] = []
        self._lock = threading.Lock()
        socket.sio.on(protocol.WORKSPACE_STATUS, lambda m: self._add(self.statuses, m))
        socket.sio.on(protocol.FILE_CHANGE, lambda m: self._add(self.changes, m))

    def _add(self, into: list, message: dict) -> None:
        with self._lock:
            into.append((time.monotonic(), message))

    def watch(self, workspace_id: str) -> dict:
        return self.socket.call(protocol.WATCH_WORKSPACE, {"workspaceId": workspace_id})

    def wait_status(self, check, since: float, timeout: float = 10) -> tuple[float, dict]:
        return self._wait(self.statuses, check, since, timeout, "workspace-status")

    def wait_change(self, check, since: float, timeout: float = 10) -> tuple[float, dict]:
        return self._wait(self.changes, check, since, timeout, "file-change")

    def _wait(self, events, check, since, timeout, name):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for at, message in events:
                    if at >= since and check(message):
                        return at, message
            time.sleep(0.02)
        raise AssertionError(f"no matching {name} within {timeout} s; got {[m for _, m in events][-5:]}")


def _shell(socket: TerminalClient, session_id: str, command: str, marker: str) -> None:
    """Run `command` in the terminal and wait for its marker (printed by arithmetic: the echo of the
    typed line does not contain it)."""
    a, b = divmod(sum(map(ord, marker)) + 1000, 7)
    socket.send(session_id, f"{command}; echo {marker}-$(({a}*7+{b}))\n")
    socket.wait_for(session_id, f"{marker}-{a * 7 + b}", timeout=30)


def _repository(socket: TerminalClient, session_id: str) -> None:
    """Make the workspace's directory a repository on `main`, from its own shell (as its account)."""
    _shell(socket, session_id, "git init -q -b main && git -c user.name=t -c user.email=t@example.org "
                               "commit -q --allow-empty -m first", "made")


@pytest.fixture
def repo_workspace(server, client):
    """A local workspace whose directory is a git repository on `main`, made by its own shell."""
    workspace = server.create_local_workspace()
    socket = client()
    session_id = socket.create(workspace["id"], cols=200)
    _repository(socket, session_id)
    return workspace, socket, session_id


def test_watch_answers_with_the_status_and_a_branch_made_in_the_terminal_shows_within_2_s(repo_workspace, client):
    workspace, shell, session_id = repo_workspace
    watcher = Watcher(client())
    answer = watcher.watch(workspace["id"])
    assert answer["ok"], answer
    assert answer["status"]["workspaceId"] == workspace["id"]
    assert answer["status"]["branch"] == "main" and answer["status"]["dirty"] is False

    typed = time.monotonic()
    shell.send(session_id, "git checkout -q -b x\n")
    at, status = watcher.wait_status(lambda s: s.get("branch") == "x", typed)
    assert at - typed < WITHIN, f"the new branch showed after {at - typed:.2f} s"
    assert status["workspaceId"] == workspace["id"]


def test_a_file_made_outside_the_terminal_is_a_file_change_and_an_untracked_file_within_2_s(repo_workspace, client):
    workspace, _, _ = repo_workspace
    watcher = Watcher(client())
    assert watcher.watch(workspace["id"])["ok"]
    made = time.monotonic()
    (Path(workspace["path"]) / "notes.txt").write_text("hello\n")  # by the test (root), not the shell
    at, change = watcher.wait_change(lambda m: {"path": "notes.txt", "change": "created"} in m["changes"], made)
    assert at - made < WITHIN and change["workspaceId"] == workspace["id"]
    at, status = watcher.wait_status(lambda s: {"path": "notes.txt", "status": "??"} in s.get("files", []), made)
    assert at - made < WITHIN and status["dirty"] is True and status["branch"] == "main"


def test_staging_and_committing_in_the_terminal_update_the_file_codes(repo_workspace, client):
    workspace, shell, session_id = repo_workspace
    watcher = Watcher(client())
    assert watcher.watch(workspace["id"])["ok"]
    start = time.monotonic()
    _shell(shell, session_id, "echo a > a.txt && git add a.txt", "staged")
    watcher.wait_status(lambda s: {"path": "a.txt", "status": "A "} in s.get("files", []), start)
    start = time.monotonic()
    _shell(shell, session_id, "git -c user.name=t -c user.email=t@example.org commit -q -m a", "committed")
    watcher.wait_status(lambda s: s.get("dirty") is False and s.get("branch") == "main", start)


@pytest.mark.serial  # a burst is a burst only when the machine writes it faster than one batch (1 s)
def test_a_burst_of_500_files_is_summarised(repo_workspace, client):
    workspace, _, _ = repo_workspace
    watcher = Watcher(client())
    assert watcher.watch(workspace["id"])["ok"]
    start = time.monotonic()
    burst = Path(workspace["path"]) / "burst"
    burst.mkdir()
    for i in range(500):
        (burst / f"f{i}.txt").write_text("x")
    at, _ = watcher.wait_change(lambda m: {"path": "burst", "change": "many"} in m["changes"], start)
    assert at - start < WITHIN + 1  # the burst itself takes a moment to write
    time.sleep(1.5)  # whatever else the burst produced has arrived
    events = [m for t, m in watcher.changes if t >= start]
    assert all(len(m["changes"]) <= 50 for m in events), [len(m["changes"]) for m in events]
    assert sum(len(m["changes"]) for m in events) < 20, "500 files arrived as a few items, not one each"


def test_unwatch_stops_the_events(repo_workspace, client):
    workspace, _, _ = repo_workspace
    watcher = Watcher(client())
    assert watcher.watch(workspace["id"])["ok"]
    assert watcher.socket.call(protocol.UNWATCH_WORKSPACE, {"workspaceId": workspace["id"]}) == {"ok": True}
    start = time.monotonic()
    (Path(workspace["path"]) / "after.txt").write_text("x")
    time.sleep(WITHIN + 1)
    assert [m for t, m in watcher.changes + watcher.statuses if t >= start] == []


def test_a_viewer_may_watch_and_a_stranger_may_not(server, repo_workspace, client):
    workspace, _, _ = repo_workspace
    viewer_name, viewer_token = server.create_user()
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": viewer_name, "access": "viewer"})
    assert granted.status_code == 201, granted.text
    _, stranger_token = server.create_user()
    viewer = Watcher(client(viewer_token))
    answer = viewer.watch(workspace["id"])
    assert answer["ok"] and answer["status"]["branch"] == "main"
    refused = Watcher(client(stranger_token)).watch(workspace["id"])
    assert refused["ok"] is False and refused["error"]["code"] == "not_found"

    # removed from the members: the watch ends, and the socket is told
    removed = server.api("DELETE", f"/api/workspaces/{workspace['id']}/members/{viewer_name}", server.admin_token)
    assert removed.status_code == 204
    deadline = time.monotonic() + 5
    while not any(e.get("workspaceId") == workspace["id"] for e in viewer.socket.errors):
        assert time.monotonic() < deadline, viewer.socket.errors
        time.sleep(0.05)
    start = time.monotonic()
    (Path(workspace["path"]) / "after-removal.txt").write_text("x")
    time.sleep(WITHIN + 0.5)
    assert [m for t, m in viewer.changes if t >= start] == []


def test_a_directory_that_is_no_repository_has_the_workspace_id_alone(server, client):
    workspace = server.create_local_workspace()
    answer = Watcher(client()).watch(workspace["id"])
    assert answer == {"ok": True, "status": {"workspaceId": workspace["id"]}}


def test_a_repository_above_the_workspace_is_not_the_workspaces(server, client):
    """Server-made workspaces live inside the server's instance, which may be a clone itself (make run
    in a checkout): neither the badge nor git in the terminal may take that repository for the workspace's."""
    workspace = server.create_local_workspace()
    root = server.workspace_root
    subprocess.run(["git", "init", "-q", "-b", "outer", str(root)], check=True)
    try:
        answer = Watcher(client()).watch(workspace["id"])
        assert answer == {"ok": True, "status": {"workspaceId": workspace["id"]}}
        socket = client()
        session_id = socket.create(workspace["id"], cols=200)
        _shell(socket, session_id, "git rev-parse --show-toplevel 2>&1 | sed 's/^/TOP: /'", "asked")
        shown = socket.text(session_id)
        assert "TOP: fatal: not a git repository" in shown and "outer" not in shown
    finally:
        shutil.rmtree(root / ".git")


@pytest.mark.parametrize("payload", [None, {}, {"workspaceId": 5}, {"workspaceId": ""}, {"workspaceId": "x" * 65}])
def test_malformed_watches_are_bad_requests(client, payload):
    answer = client().call(protocol.WATCH_WORKSPACE, payload)
    assert answer["ok"] is False and answer["error"]["code"] == "bad_request", answer


def _metric(server, name: str) -> float:
    text = requests.get(server.url + "/metrics", timeout=10).text
    return float(re.search(rf"^{name} ([0-9.e+-]+)$", text, re.MULTILINE).group(1))


def test_sockets_watching_one_workspace_share_one_watcher_which_stops_with_the_last(server, repo_workspace, client):
    workspace, _, _ = repo_workspace
    before = _metric(server, "aict_watched_workspaces")
    watchers = [Watcher(client()) for _ in range(3)]
    for watcher in watchers:
        assert watcher.watch(workspace["id"])["ok"]
    assert _metric(server, "aict_watched_workspaces") == before + 1
    start = time.monotonic()
    (Path(workspace["path"]) / "shared.txt").write_text("x")
    for watcher in watchers:
        watcher.wait_change(lambda m: {"path": "shared.txt", "change": "created"} in m["changes"], start)
    watchers[0].socket.call(protocol.UNWATCH_WORKSPACE, {"workspaceId": workspace["id"]})
    watchers[1].socket.close()  # a disconnect unwatches too
    assert _metric(server, "aict_watched_workspaces") == before + 1
    watchers[2].socket.call(protocol.UNWATCH_WORKSPACE, {"workspaceId": workspace["id"]})
    deadline = time.monotonic() + 5
    while _metric(server, "aict_watched_workspaces") != before:
        assert time.monotonic() < deadline, "the watcher did not stop with its last socket"
        time.sleep(0.05)


def test_the_watch_runs_as_the_shell_account(server, repo_workspace, client):
    """git runs with the account's rights, never root's: the agent process is the account's."""
    workspace, _, _ = repo_workspace
    assert Watcher(client()).watch(workspace["id"])["ok"]
    # As root the suite's servers run shells as their own account; otherwise as the server's account.
    expected = pwd.getpwnam(SHELL_ACCOUNT).pw_uid if os.geteuid() == 0 else os.geteuid()
    owners = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            # this checkout's agents only: another checkout's server on the machine has its own account
            if str(ROOT / "aict" / "watching" / "agent.py").encode() in cmdline:
                owners.add(Path(f"/proc/{pid}").stat().st_uid)
        except OSError:
            continue
    assert owners == {expected}, owners
    if os.geteuid() == 0:
        assert 0 not in owners, owners


def test_a_watcher_that_cannot_start_is_said_in_the_status(start_server):
    """The shell account cannot run the configured interpreter: the watch is answered at once, with
    the reason, and the agent is not restarted in a loop."""
    server = start_server({"AICT_WATCH_PYTHON": "/nonexistent/python3"}).wait_for_host()
    workspace = server.create_local_workspace()
    socket = server.socket()
    try:
        started = time.monotonic()
        answer = socket.call(protocol.WATCH_WORKSPACE, {"workspaceId": workspace["id"]})
        assert time.monotonic() - started < 5
        if answer["ok"]:  # root: setpriv started, the interpreter did not
            assert answer["status"]["error"]["code"] == "watch_unavailable", answer
        else:  # the server's own account: the interpreter is missing at once
            assert answer["error"]["code"] == "watch_unavailable", answer
    finally:
        socket.close()


def test_two_web_processes_share_the_hosts_one_watcher_and_a_host_restart_ends_their_watches(node):  # noqa: F811
    """Sockets of two web processes watch one workspace: the host runs one watcher and both get each
    event. A host restart drops the link: the watching sockets are disconnected (pages reconnect and
    watch again), and watching works through the new image."""
    host, web1, web2 = node
    workspace = web1.create_local_workspace()
    shell = web1.socket()
    sockets: list[TerminalClient] = []
    try:
        _repository(shell, shell.create(workspace["id"], cols=200))
        sockets = [web1.socket(), web2.socket()]
        watchers = [Watcher(socket) for socket in sockets]
        for watcher in watchers:
            assert watcher.watch(workspace["id"])["status"]["branch"] == "main"
        assert _metric(web1, "aict_watched_workspaces") == 1
        assert _metric(web2, "aict_workspace_watchers") == 2
        start = time.monotonic()
        (Path(workspace["path"]) / "both.txt").write_text("x")
        for watcher in watchers:
            watcher.wait_change(lambda m: {"path": "both.txt", "change": "created"} in m["changes"], start)

        host.proc.send_signal(signal.SIGHUP)  # re-executes: the links drop, terminals stay
        deadline = time.monotonic() + 10
        while any(socket.sio.connected for socket in sockets):
            assert time.monotonic() < deadline, "the watching sockets stayed connected without their watches"
            time.sleep(0.05)
        again = Watcher(web2.socket())
        sockets.append(again.socket)
        assert again.watch(workspace["id"])["status"]["branch"] == "main"
        start = time.monotonic()
        (Path(workspace["path"]) / "again.txt").write_text("x")
        again.wait_change(lambda m: {"path": "again.txt", "change": "created"} in m["changes"], start)
    finally:
        for socket in [shell, *sockets]:
            socket.close()
