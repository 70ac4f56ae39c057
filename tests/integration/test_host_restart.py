"""Restarting the terminal host (SIGHUP: it re-executes itself) keeps its local terminals: a page
reconnects and goes on from its offset, with nothing lost or doubled."""

from __future__ import annotations

import re
import signal

import pytest

from tests.integration.contract import assert_echoes, wait_until
from tests.integration.test_terminal_host import node  # noqa: F401  (the fixture: a host and two web processes)

# One process that counts (perl is part of every Debian system): Ctrl+C ends it every time. A shell
# loop forking `sleep` 100 times a second does not always end: a SIGINT that arrives while bash forks
# is taken for the child's own business (bash 5.2 continued the loop 3 times in 40 in a bare PTY, no
# aict involved), and an interactive bash running such a loop itself sometimes exited on Ctrl+C.
COUNTER = ("perl -e '$|=1; for ($i = 0; $i < 100000; $i++) "
           "{ print \"tick-$i\\n\"; select(undef, undef, undef, 0.01) }'\n")


def ticks(stream: bytes) -> list[int]:
    return [int(n) for n in re.findall(rb"tick-(\d+)\r\n", stream)]


def _counting(web):
    """A socket of `web` and a terminal of it that counts, past its 50th tick."""
    workspace = web.create_local_workspace()
    client = web.socket()
    session_id = client.create(workspace["id"])
    client.send(session_id, COUNTER)
    client.wait_for(session_id, "tick-50\r\n", timeout=20)
    return client, session_id


# Alone: on a machine loaded many times over (the parallel pass), web 2 once found the old image's
# link gone only after its new socket had attached, and dropped that socket, as it must (a page
# reconnects by itself; this test's client does not), before the test's Ctrl+C.
@pytest.mark.serial
def test_a_host_restart_keeps_a_running_counter_and_every_byte(node):  # noqa: F811
    host, web1, web2 = node
    before, session_id = _counting(web1)
    pid = host.proc.pid

    host.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: not before.sio.connected, timeout=10, message="the page's socket dropped with the host link")
    assert host.proc.poll() is None and host.proc.pid == pid  # the same process, re-executed
    had = len(before.streams[session_id])

    after = web2.socket()
    try:
        answer = after.call("attach-terminal", {"sessionId": session_id, "since": had}, timeout=30)
        assert answer["ok"] and answer["status"] == "running" and answer["replayFrom"] == had, answer
        seen = ticks(bytes(before.streams[session_id]))[-1]
        after.wait_for(session_id, f"tick-{seen + 100}\r\n", timeout=30)  # still counting
        whole = bytes(before.streams[session_id][:had]) + bytes(after.streams[session_id])
        numbers = ticks(whole)
        assert numbers == list(range(len(numbers))) and len(numbers) > seen + 100  # nothing lost or twice
        after.call("terminal-input", {"sessionId": session_id, "data": "\x03"})
        assert_echoes(after, session_id)  # and it takes input, through the new image
        record = web1.api("GET", f"/api/sessions/{session_id}", web1.admin_token).json()
        assert record["status"] == "running"
        log = host.log_path.read_text()
        assert "took over 1 local terminal(s)" in log or "took over" in log
        assert after.call("kill-terminal", {"sessionId": session_id})["ok"]
        assert after.wait_exit(session_id)["signal"] == "SIGHUP"  # its exit status is still reaped by the host
        recording = web1.api("GET", f"/api/sessions/{session_id}/recording", web1.admin_token)
        recorded = ticks(recording.text.encode().replace(b"\\r\\n", b"\r\n"))
        assert recorded[:len(numbers)] == numbers  # the recording goes on across the restart too
    finally:
        after.close()
        before.close()


def test_a_command_running_across_a_host_restart_gets_its_exit_code_and_history_goes_on(node):  # noqa: F811
    from tests.integration.test_history import MARKS, recorded, run

    host, web1, web2 = node
    workspace = web1.create_local_workspace()
    before = web1.socket()
    session_id = before.create(workspace["id"])
    before.send(session_id, "sleep 3; echo SLEPT-$((2*3)); (exit 5)\n")
    wait_until(lambda: [i for i in web1.api("GET", f"/api/sessions/{session_id}/commands", web1.admin_token).json()
                        if i["command"].startswith("sleep 3")], message="the command stored before the restart")
    host.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: not before.sio.connected, timeout=10, message="the page's socket dropped with the host link")
    after = web2.socket()
    try:
        assert after.call("attach-terminal", {"sessionId": session_id}, timeout=30)["ok"]
        after.wait_for(session_id, "SLEPT-6", timeout=30)
        assert recorded(web2, workspace["id"], "sleep 3; echo SLEPT-$((2*3)); (exit 5)")["exit_code"] == 5
        run(after, session_id, "echo after-the-restart")
        assert recorded(web2, workspace["id"], "echo after-the-restart")["exit_code"] == 0
        assert not any(mark in bytes(after.streams[session_id]) for mark in MARKS)
    finally:
        after.close()
        before.close()


@pytest.mark.serial
def test_a_second_reload_during_the_first_reloads_again_and_loses_nothing(node):  # noqa: F811
    """`systemctl reload` twice in a row: the second SIGHUP reached the new image before it had its
    handler, and killed it with every terminal (a host killed by SIGHUP is not restarted by systemd's
    Restart=on-failure either). It waits for the new image now, which reloads once more."""
    host, web1, web2 = node
    before, session_id = _counting(web1)
    pid, reloads = host.proc.pid, host.log_path.read_text().count("re-executing with")

    host.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: host.log_path.read_text().count("re-executing with") > reloads, timeout=10,
               message="the first reload's exec")
    host.proc.send_signal(signal.SIGHUP)  # while the new image starts (it takes a second or more)
    wait_until(lambda: host.log_path.read_text().count("re-executing with") >= reloads + 2, timeout=30,
               message="the second reload, taken by the new image")
    assert host.proc.poll() is None and host.proc.pid == pid
    had = len(before.streams[session_id])
    after = web2.socket()
    try:
        answer = after.call("attach-terminal", {"sessionId": session_id, "since": had}, timeout=30)
        assert answer["ok"] and answer["status"] == "running", answer
        seen = ticks(bytes(before.streams[session_id]))[-1]
        after.wait_for(session_id, f"tick-{seen + 100}\r\n", timeout=30)
        numbers = ticks(bytes(before.streams[session_id][:had]) + bytes(after.streams[session_id]))
        assert numbers == list(range(len(numbers)))  # nothing lost or twice across both
        after.call("terminal-input", {"sessionId": session_id, "data": "\x03"})
        assert_echoes(after, session_id)
        assert after.call("kill-terminal", {"sessionId": session_id})["ok"]
    finally:
        after.close()
        before.close()
