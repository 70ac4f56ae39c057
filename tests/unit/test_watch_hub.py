"""aict.watching.hub with a real watcher agent (as this process's own account) on a real repository:
one watcher per workspace whoever watches, events once per owner, the agent gone after the last."""

from __future__ import annotations

import os
import subprocess

import gevent

from aict.terminals.accounts import ShellAccount
from aict.watching.hub import FILE_CHANGE, WORKSPACE_STATUS, LocalTarget, WatchHub


def _wait(condition, seconds: float = 10) -> None:
    with gevent.Timeout(seconds):
        while not condition():
            gevent.sleep(0.02)


def _repository(path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)


def test_two_owners_share_one_watcher_and_each_gets_every_event_once(tmp_path):
    _repository(tmp_path)
    delivered: list[tuple[str, str, str, dict]] = []
    hub = WatchHub(lambda owner, ws, event, payload: delivered.append((owner, ws, event, payload)),
                   agent_linger=0.2)
    target = LocalTarget("ws1", str(tmp_path), ShellAccount.of_uid(os.getuid()), str(tmp_path))
    try:
        status = hub.watch(target, "web-1", "sid-a")
        assert status == {"workspaceId": "ws1", "branch": "main", "dirty": False, "changed": 0, "files": []}
        assert hub.watch(target, "web-1", "sid-b") == status  # answered from what the hub holds
        assert hub.watch(target, "web-2", "sid-c") == status
        assert hub.stats() == {"watched": 1, "watchers": 3, "agents": 1}

        (tmp_path / "new.txt").write_text("x")
        _wait(lambda: any(e == WORKSPACE_STATUS for _, _, e, _ in delivered))
        _wait(lambda: any(e == FILE_CHANGE for _, _, e, _ in delivered))
        gevent.sleep(0.5)
        owners = sorted(owner for owner, _, event, _ in delivered if event == FILE_CHANGE)
        assert owners == ["web-1", "web-2"], delivered  # once per owner, not per socket
        changes = next(p for _, _, e, p in delivered if e == FILE_CHANGE)
        assert changes == {"workspaceId": "ws1", "changes": [{"path": "new.txt", "change": "created"}]}
        status = next(p for _, _, e, p in delivered if e == WORKSPACE_STATUS)
        assert status["files"] == [{"path": "new.txt", "status": "??"}]

        hub.unwatch("ws1", "web-1", "sid-a")
        hub.drop_owner("web-2")  # its link closed
        assert hub.stats()["watched"] == 1
        hub.unwatch("ws1", "web-1", "sid-b")
        assert hub.stats()["watched"] == 0
        delivered.clear()
        (tmp_path / "after.txt").write_text("x")
        gevent.sleep(1.5)
        assert delivered == []
        _wait(lambda: hub.stats()["agents"] == 0)  # stopped once it lingered with nothing to watch
    finally:
        hub.close()


def test_a_directory_that_is_no_repository_is_the_workspace_id_alone(tmp_path):
    hub = WatchHub(lambda *args: None)
    try:
        target = LocalTarget("ws2", str(tmp_path), ShellAccount.of_uid(os.getuid()), str(tmp_path))
        assert hub.watch(target, "web-1", "sid") == {"workspaceId": "ws2"}
    finally:
        hub.close()
