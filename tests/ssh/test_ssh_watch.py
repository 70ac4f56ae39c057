"""watch-workspace on an SSH workspace: file changes and git status polled over the workspace's own
connection rules (pinned host key, never a key not yet trusted), one connection per watched
workspace whoever watches, on a real sshd whose files the test changes from outside."""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from aict import protocol
from tests.integration.test_files import listing
from tests.integration.test_workspace_watch import Watcher
from tests.ssh.conftest import TEST_USER
from tests.ssh.helpers import create_workspace

pytestmark = pytest.mark.ssh

POLL = 2.0  # SSH_WATCH_POLL_SECONDS (the default)
WITHIN = POLL + 2.0  # the contract's 2 s, plus the poll


@pytest.fixture(autouse=True)
def _host_ready(server):
    """The first watch's clock starts with a linked terminal host (a server just started links it first)."""
    server.wait_for_host()


def home() -> Path:
    return Path(pwd.getpwnam(TEST_USER).pw_dir)


def as_remote_user(path: Path, text: str) -> None:
    path.write_text(text)
    account = pwd.getpwnam(TEST_USER)
    os.chown(path, account.pw_uid, account.pw_gid)


def changed(path: str, change: str):
    return lambda message: {"path": path, "change": change} in message["changes"]


def watch_connections(sshd) -> int:
    """Established TCP connections to the test sshd from the terminal host (the only client here)."""
    out = subprocess.run(["ss", "-Htn", "state", "established", f"dport = :{sshd.port}"],
                         capture_output=True, text=True, check=True).stdout
    return len(out.strip().splitlines())


def polled(watcher: Watcher, folder: Path, shown_as: str) -> None:
    """Wait until the watch lists `folder` (a probe file in it, changed until it is reported), so that
    what the test does next is a change, not the first sight of the folder."""
    start, deadline = time.monotonic(), time.monotonic() + 30
    probe = folder / "probe.txt"
    while not [m for t, m in watcher.changes if t >= start and any(
            c["path"] == f"{shown_as}/probe.txt" for c in m["changes"])]:
        assert time.monotonic() < deadline, "the folder was never polled"
        probe.write_text("x" * int((time.monotonic() - start) * 10 + 1))
        time.sleep(0.2)


def _metric(server, name: str) -> float:
    text = requests.get(server.url + "/metrics", timeout=10).text
    return float(re.search(rf"^{name} ([0-9.e+-]+)$", text, re.MULTILINE).group(1))


def test_a_home_that_is_no_repository_has_the_workspace_id_alone(client, ssh_workspace):
    answer = client().call(protocol.WATCH_WORKSPACE, {"workspaceId": ssh_workspace["id"]})
    assert answer == {"ok": True, "status": {"workspaceId": ssh_workspace["id"]}}


@pytest.mark.serial  # timed against the 2 s poll: under the parallel pass a loaded loop polled a round late
def test_a_branch_made_in_the_ssh_terminal_shows_within_the_poll(client, ssh_workspace):
    shell = client()
    session_id = shell.create(ssh_workspace["id"], cols=200)
    # The test account's home is the workspace's root: a repository for this test only.
    shell.send(session_id, "cd ~ && git init -q -b main . && git -c user.name=t -c user.email=t@example.org "
                           "commit -q --allow-empty -m one; echo MADE-$((6*7))\n")
    shell.wait_for(session_id, "MADE-42", timeout=20)
    try:
        watcher = client()
        statuses: list[tuple[float, dict]] = []
        watcher.sio.on(protocol.WORKSPACE_STATUS, lambda m: statuses.append((time.monotonic(), m)))
        answer = watcher.call(protocol.WATCH_WORKSPACE, {"workspaceId": ssh_workspace["id"]})
        assert answer["ok"] and answer["status"]["branch"] == "main", answer
        typed = time.monotonic()
        shell.send(session_id, "git checkout -q -b x\n")
        deadline = typed + POLL + 5
        while not any(m.get("branch") == "x" for _, m in statuses):
            assert time.monotonic() < deadline, statuses
            time.sleep(0.05)
        at = next(t for t, m in statuses if m.get("branch") == "x")
        assert at - typed < POLL + 2, f"{at - typed:.1f} s"
    finally:
        shell.send(session_id, "rm -rf ~/.git; echo GONE-$((6*7))\n")
        shell.wait_for(session_id, "GONE-42", timeout=20)


def test_a_host_key_not_yet_trusted_is_never_accepted_by_the_watch(server, client, sshd):
    workspace = create_workspace(server, sshd.workspace_body(pin=False))
    answer = client().call(protocol.WATCH_WORKSPACE, {"workspaceId": workspace["id"]})
    assert answer["ok"], answer
    assert answer["status"]["error"]["code"] == "host_key_unknown", answer
    assert "branch" not in answer["status"]


def test_a_watch_goes_on_once_the_host_key_is_trusted_without_waiting_out_its_retry(server, client, sshd):
    """The page trusts the key and watches again: the watch connects now with the key pinned. It
    went on trying with the settings it started with (no key pinned), every 30 s, for good: the
    Files panel never followed changes until a reload (found by a newcomer)."""
    workspace = create_workspace(server, sshd.workspace_body(pin=False))
    watcher = Watcher(client())
    refused = watcher.watch(workspace["id"])
    assert refused["status"]["error"]["code"] == "host_key_unknown", refused
    offered = client().call("create-terminal", {"workspaceId": workspace["id"]})  # as the page is offered it
    assert offered["error"]["code"] == "host_key_unknown", offered
    trusted = server.api("POST", f"/api/workspaces/{workspace['id']}/trust-host-key", server.admin_token,
                         json={"fingerprint": offered["error"]["fingerprint"]})
    assert trusted.status_code == 200, trusted.text
    again = time.monotonic()
    assert watcher.watch(workspace["id"])["ok"]
    watcher.wait_status(lambda m: "error" not in m, again, timeout=10)  # now, not in 30 s
    name = f"after-trust-{secrets.token_hex(4)}.txt"
    made = time.monotonic()
    try:
        as_remote_user(home() / name, "x\n")
        watcher.wait_change(changed(name, "created"), made)
    finally:
        (home() / name).unlink(missing_ok=True)


def test_files_made_changed_and_removed_on_the_ssh_host_are_file_changes_within_the_poll(client, ssh_workspace):
    watcher = Watcher(client())
    assert watcher.watch(ssh_workspace["id"])["ok"]
    name = f"watched-{secrets.token_hex(4)}.txt"
    path = home() / name
    try:
        made = time.monotonic()
        as_remote_user(path, "one\n")  # by the test, outside any terminal
        at, message = watcher.wait_change(changed(name, "created"), made)
        assert at - made < WITHIN, f"{at - made:.1f} s"
        assert message["workspaceId"] == ssh_workspace["id"]

        edited = time.monotonic()
        path.write_text("one, and a longer second line\n")
        at, _ = watcher.wait_change(changed(name, "modified"), edited)
        assert at - edited < WITHIN, f"{at - edited:.1f} s"

        folder = home() / f"folder-{secrets.token_hex(3)}"
        folder.mkdir()
        watcher.wait_change(changed(folder.name, "created"), edited)
        inside = time.monotonic()
        as_remote_user(folder / "inside.txt", "x")
        watcher.wait_change(changed(f"{folder.name}/inside.txt", "created"), inside)
        (folder / "inside.txt").unlink()
        folder.rmdir()

        removed = time.monotonic()
        path.unlink()
        at, _ = watcher.wait_change(changed(name, "deleted"), removed)
        assert at - removed < WITHIN, f"{at - removed:.1f} s"
        watcher.wait_change(changed(folder.name, "deleted"), inside)
    finally:
        path.unlink(missing_ok=True)


def test_watchers_of_one_ssh_workspace_share_one_connection_closed_with_the_last(server, client, sshd, ssh_workspace):
    before_watched = _metric(server, "aict_watched_workspaces")
    before = watch_connections(sshd)
    watchers = [Watcher(client()) for _ in range(3)]
    for watcher in watchers:
        assert watcher.watch(ssh_workspace["id"])["ok"]
    assert _metric(server, "aict_watched_workspaces") == before_watched + 1
    assert watch_connections(sshd) == before + 1
    name = f"shared-{secrets.token_hex(4)}.txt"
    start = time.monotonic()
    as_remote_user(home() / name, "x")
    try:
        for watcher in watchers:
            watcher.wait_change(changed(name, "created"), start)
    finally:
        (home() / name).unlink()
    watchers[0].socket.call(protocol.UNWATCH_WORKSPACE, {"workspaceId": ssh_workspace["id"]})
    watchers[1].socket.close()  # a disconnect unwatches too
    assert watch_connections(sshd) == before + 1
    watchers[2].socket.call(protocol.UNWATCH_WORKSPACE, {"workspaceId": ssh_workspace["id"]})
    deadline = time.monotonic() + 10
    while watch_connections(sshd) != before or _metric(server, "aict_watched_workspaces") != before_watched:
        assert time.monotonic() < deadline, "the connection did not close with the last watcher"
        time.sleep(0.1)


def test_a_viewer_may_watch_an_ssh_workspace_and_a_stranger_may_not(server, client, ssh_workspace):
    viewer_name, viewer_token = server.create_user()
    granted = server.api("POST", f"/api/workspaces/{ssh_workspace['id']}/members", server.admin_token,
                         json={"username": viewer_name, "access": "viewer"})
    assert granted.status_code == 201, granted.text
    _, stranger_token = server.create_user()
    stranger = Watcher(client(stranger_token))
    refused = stranger.watch(ssh_workspace["id"])
    assert refused["ok"] is False and refused["error"]["code"] == "not_found", refused
    viewer = Watcher(client(viewer_token))
    assert viewer.watch(ssh_workspace["id"])["ok"]
    name = f"seen-{secrets.token_hex(4)}.txt"
    start = time.monotonic()
    as_remote_user(home() / name, "x")
    try:
        viewer.wait_change(changed(name, "created"), start)
    finally:
        (home() / name).unlink()
    assert [m for _, m in stranger.changes] == []


def test_a_login_refused_or_a_host_that_does_not_answer_is_said_in_the_status(server, client, sshd):
    refused = create_workspace(server, sshd.workspace_body(auth="password", password="not-the-password"))
    answer = client().call(protocol.WATCH_WORKSPACE, {"workspaceId": refused["id"]})
    assert answer["ok"] and answer["status"]["error"]["code"] == "ssh_auth_failed", answer

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = create_workspace(server, sshd.workspace_body(port=port))
    answer = client().call(protocol.WATCH_WORKSPACE, {"workspaceId": closed["id"]})
    assert answer["ok"] and answer["status"]["error"]["code"] == "ssh_unreachable", answer
    # and the server carries on: a good workspace is still watched
    good = create_workspace(server, sshd.workspace_body())
    assert client().call(protocol.WATCH_WORKSPACE, {"workspaceId": good["id"]}) == \
        {"ok": True, "status": {"workspaceId": good["id"]}}


def test_a_folder_shown_in_a_files_panel_is_polled_however_deep(server, client, ssh_workspace):
    """Past the listing's depth a change is seen only once a Files panel lists its folder (the page's
    GET .../files): from then on that folder is listed at every poll."""
    top = home() / f"deep-{secrets.token_hex(3)}"
    deep = top / "one" / "two" / "three"
    deep.mkdir(parents=True)
    try:
        watcher = Watcher(client())
        assert watcher.watch(ssh_workspace["id"])["ok"]
        folder = f"{top.name}/one/two/three"
        shown = listing(server, ssh_workspace, folder)
        assert shown.status_code == 200 and shown.json()["path"] == folder, shown.text
        polled(watcher, deep, folder)
        made = time.monotonic()
        as_remote_user(deep / "shown.txt", "x")
        at, _ = watcher.wait_change(changed(f"{folder}/shown.txt", "created"), made)
        assert at - made < WITHIN, f"{at - made:.1f} s"
    finally:
        shutil.rmtree(top)
