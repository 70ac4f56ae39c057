"""Terminals on a real sshd: logins, full-screen programs, big output, size and exit status."""

from __future__ import annotations

import hashlib
import time

import pytest

from tests.ssh.helpers import create_workspace

pytestmark = pytest.mark.ssh


def test_key_login_runs_a_shell_as_the_target_user(server, client, sshd, ssh_workspace):
    c = client()
    session_id = c.create(ssh_workspace["id"])
    c.send(session_id, "whoami; echo ':'$TERM\n")
    c.wait_for(session_id, f"{sshd.username}\r\n:xterm-256color")


def test_password_login_runs_a_shell_as_the_target_user(server, client, sshd):
    workspace = create_workspace(server, sshd.workspace_body(auth="password"))
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "whoami\n")
    c.wait_for(session_id, f"{sshd.username}\r\n")


def test_vim_opens_full_screen_and_quits(server, client, ssh_workspace):
    c = client()
    session_id = c.create(ssh_workspace["id"], cols=100, rows=30)
    c.send(session_id, "vim -u NONE -N /tmp/aict-vim-test\n")
    c.wait_for(session_id, "\x1b[?1049h")  # alternate screen
    c.send(session_id, "ihello\x1b:q!\r")
    c.wait_for(session_id, "\x1b[?1049l")
    c.send(session_id, "echo VIM''DONE\n")
    c.wait_for(session_id, "VIMDONE")


def test_large_output_arrives_byte_exact_through_a_slow_reader(server, sshd, ssh_workspace):
    from tests.server import TerminalClient

    c = TerminalClient(auto_ack=False)
    c.connect(server.url, server.admin_token)
    try:
        session_id = c.create(ssh_workspace["id"])
        c.send(session_id, "stty -echo; echo BEG''IN; seq 1 300000; echo EN''D\n")
        expected = "".join(f"{n}\r\n" for n in range(1, 300001)).encode()
        deadline = time.monotonic() + 40
        acked = 0
        while time.monotonic() < deadline:
            stream = c.streams.get(session_id, b"")
            if b"END\r\n" in stream:
                break
            time.sleep(0.1)  # a slow client: the server must stop reading, never skip
            end = c.stream_base.get(session_id, 0) + len(stream)
            if end > acked:
                acked = end
                c.ack(session_id, acked)
        stream = bytes(c.streams[session_id])
        assert b"END\r\n" in stream, stream[-300:]
        body = stream.split(b"BEGIN\r\n", 1)[1].split(b"END\r\n", 1)[0]
        assert body == expected
        offsets = c.chunks[session_id]
        assert all(a + n == b for (a, n), (b, _) in zip(offsets, offsets[1:], strict=False))
    finally:
        c.close()


def test_resize_reaches_the_remote_terminal(server, client, ssh_workspace):
    c = client()
    session_id = c.create(ssh_workspace["id"], cols=80, rows=24)
    c.send(session_id, "stty size\n")
    c.wait_for(session_id, "24 80")
    assert c.call("terminal-resize", {"sessionId": session_id, "cols": 132, "rows": 43})["ok"]
    c.send(session_id, "stty size\n")
    c.wait_for(session_id, "43 132")


def test_exit_code_of_the_remote_shell_is_reported(server, client, ssh_workspace):
    c = client()
    session_id = c.create(ssh_workspace["id"])
    c.send(session_id, "exit 7\n")
    assert c.wait_exit(session_id) == {"sessionId": session_id, "exitCode": 7, "signal": None}
    session = server.api("GET", f"/api/sessions/{session_id}", server.admin_token).json()
    assert session["status"] == "exited" and session["exit_code"] == 7


def test_remote_shell_killed_by_a_signal_reports_its_name(server, client, ssh_workspace):
    c = client()
    session_id = c.create(ssh_workspace["id"])
    c.send(session_id, "kill -KILL $$\n")
    assert c.wait_exit(session_id) == {"sessionId": session_id, "exitCode": None, "signal": "SIGKILL"}


def test_kill_terminal_ends_the_remote_session(server, client, ssh_workspace):
    c = client()
    session_id = c.create(ssh_workspace["id"])
    c.send(session_id, "echo RE''ADY\n")
    c.wait_for(session_id, "READY")
    assert c.call("kill-terminal", {"sessionId": session_id})["ok"]
    exit_message = c.wait_exit(session_id, timeout=10)
    assert exit_message["sessionId"] == session_id


def test_paste_larger_than_the_channel_window_arrives_whole(server, client, ssh_workspace):
    c = client()
    session_id = c.create(ssh_workspace["id"])
    c.send(session_id, "stty raw -echo; echo RA''W; head -c 3000000 | md5sum; stty sane\n")
    c.wait_for(session_id, "RAW")  # the terminal is raw: no line-length limit, no echo
    pasted = (bytes(range(32, 127)) * 31600)[:3_000_000]  # more than paramiko's 2 MiB channel window
    for start in range(0, len(pasted), 1_000_000):
        assert c.send(session_id, pasted[start:start + 1_000_000])["ok"]
    c.wait_for(session_id, hashlib.md5(pasted).hexdigest(), timeout=30)


def test_an_ssh_terminal_is_recorded_like_a_local_one(server, client, ssh_workspace):
    from tests.integration.casts import output_of, parse

    c = client()
    session_id = c.create(ssh_workspace["id"], cols=90, rows=20)
    c.send(session_id, "printf 'remote-%s caf\\303\\251\\n' $((6*7))\n")
    c.wait_for(session_id, "remote-42 café")
    assert c.call("terminal-resize", {"sessionId": session_id, "cols": 100, "rows": 30})["ok"]
    c.send(session_id, "exit\n")
    c.wait_exit(session_id)
    response = server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token)
    assert response.status_code == 200
    header, events = parse(response.text)
    assert (header["width"], header["height"]) == (90, 20)
    output = output_of(events)
    assert "remote-42 café" in output and output == c.text(session_id)
    assert ["r", "100x30"] in [[kind, data] for _, kind, data in events]
