"""watch-workspace on an SSH workspace: git status polled over the workspace's own connection rules
(pinned host key, never a key not yet trusted), on a real sshd."""

from __future__ import annotations

import time

import pytest

from aict import protocol
from tests.ssh.helpers import create_workspace

pytestmark = pytest.mark.ssh

POLL = 3.0  # aict.watching.ssh_poll.POLL_SECONDS


def test_a_home_that_is_no_repository_has_the_workspace_id_alone(client, ssh_workspace):
    answer = client().call(protocol.WATCH_WORKSPACE, {"workspaceId": ssh_workspace["id"]})
    assert answer == {"ok": True, "status": {"workspaceId": ssh_workspace["id"]}}


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
