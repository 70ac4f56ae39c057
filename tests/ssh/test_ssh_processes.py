"""An SSH terminal's processes are the remote host's: aict does not look (no command is run there
to find out), so the processes endpoint answers [] and no terminal-process is sent; who watches it
is known as for any terminal."""

from __future__ import annotations

import time

import pytest

from tests.integration.contract import wait_until

pytestmark = pytest.mark.ssh


def test_an_ssh_terminal_lists_no_processes_but_its_viewers(server, client, ssh_workspace):
    c = client()
    heard: list[dict] = []
    viewers: list[dict] = []
    c.sio.on("terminal-process", heard.append)
    c.sio.on("terminal-viewers", viewers.append)
    session_id = c.create(ssh_workspace["id"])
    c.send(session_id, "sleep 30\n")
    wait_until(lambda: viewers, timeout=10, message="terminal-viewers after the attach")
    assert [v["username"] for v in viewers[-1]["viewers"]] == [server.admin_username]
    answer = server.api("GET", f"/api/sessions/{session_id}/processes", server.admin_token)
    assert answer.status_code == 200 and answer.json() == [], answer.text
    time.sleep(2.5)  # two sampling rounds
    assert heard == [], heard
    listed = server.api("GET", f"/api/sessions/{session_id}/viewers", server.admin_token).json()
    assert [v["id"] for v in listed] == [v["id"] for v in viewers[-1]["viewers"]]
