"""The terminal host: terminals live in one process per node; web processes relay to it.

Two web processes (python wsgi.py, AICT_HOST_CHILD=0) share one host, one instance folder and one
database, as make cluster runs them behind nginx (tests/integration/test_cluster.py goes through nginx)."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.integration.contract import assert_echoes, wait_until
from tests.server import HostProcess, RunningServer

SYSTEM_PYTHON = "/usr/bin/python3"  # the test venv's interpreter is under /root, out of another account's reach


class WebProcess(RunningServer):
    """A web process of a shared instance: it connects to the host already running there."""

    def __init__(self, instance, name: str, settings: dict[str, str] | None = None):
        super().__init__(instance, {"AICT_HOST_CHILD": "0", **(settings or {})}, log_name=f"{name}.log")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """A host and two web processes on one instance: (host, web1, web2)."""
    instance = tmp_path_factory.mktemp("aict-node")
    # The socket in a folder of its own outside the (private) test folders: one test opens it to others.
    sockets = Path(tempfile.mkdtemp(prefix="aict-host-"))
    web1 = WebProcess(instance, "web1", {"AICT_TERMINAL_HOST": str(sockets / "host.sock")})
    host = HostProcess(instance, {**web1.env, "AICT_NODE": "node-a"})
    web1.env["AICT_NODE"] = "node-a"
    web1.flask("db", "upgrade")
    web2 = WebProcess(instance, "web2", {"AICT_NODE": "node-a", "AICT_TERMINAL_HOST": str(sockets / "host.sock")})
    web2.admin_password = web1.admin_password
    web2.env["AICT_ADMIN_PASSWORD"] = web1.admin_password
    try:
        host.start()
        web1.start()
        web2.start()
        yield host, web1, web2
    finally:  # also when a start failed: nothing of the fixture's outlives it
        for web in (web1, web2):
            web.stop()
        host.stop()
    shutil.rmtree(sockets, ignore_errors=True)


def test_a_terminal_made_through_one_web_process_is_used_from_another(node):
    host, web1, web2 = node
    workspace = web1.create_local_workspace()
    first, second = web1.socket(), web2.socket()
    try:
        session_id = first.create(workspace["id"], cols=90, rows=30)
        assert_echoes(first, session_id)
        listed = web2.api("GET", f"/api/sessions/{session_id}", web2.admin_token).json()
        assert listed["status"] == "running" and listed["node"] == "node-a" and listed["cols"] == 90

        answer = second.call("attach-terminal", {"sessionId": session_id, "since": 0})
        assert answer["ok"] and answer["offset"] > 0 and answer["replayFrom"] == 0, answer
        second.wait_for(session_id, first.text(session_id)[-20:])  # the replay: the same bytes from offset 0
        assert second.send(session_id, "echo from-$((2*21))\n") == {"ok": True}
        first.wait_for(session_id, "from-42\r\n")
        second.wait_for(session_id, "from-42\r\n")
        assert bytes(second.streams[session_id]) == bytes(first.streams[session_id])  # byte-exact on both

        assert second.call("terminal-resize", {"sessionId": session_id, "cols": 120, "rows": 40}) == {"ok": True}
        wait_until(lambda: {"sessionId": session_id, "cols": 120, "rows": 40} in first.resized, timeout=5,
                   message="the resize made through web2 reached the socket on web1")
        assert second.call("kill-terminal", {"sessionId": session_id}) == {"ok": True}
        assert first.wait_exit(session_id)["sessionId"] == session_id
        assert web1.api("GET", f"/api/sessions/{session_id}", web1.admin_token).json()["status"] == "exited"
    finally:
        first.close()
        second.close()


def test_viewers_on_two_web_processes_are_listed_and_detached_across_them(node):
    """The host knows every attachment: a list made there, a detach asked of one web process for a
    socket of the other, and what each socket runs, wherever it is."""
    host, web1, web2 = node
    workspace = web1.create_local_workspace()
    first, second = web1.socket(), web2.socket()
    lists: dict[str, list] = {"first": [], "second": []}
    processes: list[dict] = []
    first.sio.on("terminal-viewers", lists["first"].append)
    second.sio.on("terminal-viewers", lists["second"].append)
    second.sio.on("terminal-process", processes.append)
    try:
        session_id = first.create(workspace["id"])
        attached = second.call("attach-terminal", {"sessionId": session_id})
        assert attached["ok"], attached
        wait_until(lambda: lists["first"] and len(lists["first"][-1]["viewers"]) == 2, timeout=10,
                   message="web1's socket hears of web2's")
        listed = web2.api("GET", f"/api/sessions/{session_id}/viewers", web2.admin_token).json()
        assert sorted(v["id"] for v in listed) == sorted(v["id"] for v in lists["first"][-1]["viewers"])
        first_id = next(v["id"] for v in listed if v["id"] != attached["viewerId"])

        first.send(session_id, "sleep 33\n")  # typed through web1, seen by web2's socket
        wait_until(lambda: any((p["foreground"] or {}).get("command") == "sleep 33" for p in processes), timeout=10,
                   message="web2's socket sees sleep 33 in the foreground")

        gone = web2.api("DELETE", f"/api/sessions/{session_id}/viewers/{first_id}", web2.admin_token)
        assert gone.status_code == 204, gone.text
        wait_until(lambda: any(e.get("code") == "detached" for e in first.errors), timeout=10,
                   message="web1's socket is told it was detached")
        wait_until(lambda: [v["id"] for v in lists["second"][-1]["viewers"]] == [attached["viewerId"]], timeout=10,
                   message="web2's socket sees the list without it")
        had = len(first.streams[session_id])
        second.send(session_id, "\x03echo still-$((6*7))\n")
        second.wait_for(session_id, "still-42\r\n")
        time.sleep(0.5)
        assert len(first.streams[session_id]) == had, "no more output for the detached socket"
    finally:
        first.close()
        second.close()


def test_a_socket_that_never_acks_gets_one_window_through_another_web_process(node):
    host, web1, web2 = node
    workspace = web1.create_local_workspace()
    maker, idle = web1.socket(), web2.socket()
    idle.auto_ack = False
    try:
        session_id = maker.create(workspace["id"])
        assert idle.call("attach-terminal", {"sessionId": session_id})["ok"]
        maker.send(session_id, "seq 1 400000 | tail -c 300000; echo done-$((1+1))\n")
        maker.wait_for(session_id, "done-2\r\n", timeout=30)
        time.sleep(0.5)
        window = 2 * 1024 * 1024  # FLOW_WINDOW_BYTES: the idle socket was sent no more than that
        received = sum(length for _, length in idle.chunks.get(session_id, []))
        assert 0 < received <= window, received
    finally:
        maker.close()
        idle.close()


def test_a_keystroke_answered_at_once_on_one_process_is_kept_while_another_filled_the_queue(node):
    """web1 pastes into a program not reading until the host answers `throttled`; web2, which has
    heard nothing of that, answers a keystroke `ok` at once (its fast path). The keystroke reaches
    the program (the host refused it before, and the `ok` had already gone: it was lost)."""
    host, web1, web2 = node
    workspace = web1.create_local_workspace()
    target = Path(f"/tmp/aict-test-taken-{os.urandom(4).hex()}")
    paster, typist = web1.socket(), web2.socket()
    try:
        session_id = paster.create(workspace["id"])
        paster.send(session_id, f"stty raw -echo; echo not-reading-$((6*7)); sleep 10; cat > {target}\n")
        paster.wait_for(session_id, "not-reading-42")
        assert typist.call("attach-terminal", {"sessionId": session_id})["ok"]
        accepted, size, sent = bytearray(), 1024 * 1024, 0
        while size:  # fill the host's queue to the byte: halve the piece at each refusal
            piece = bytes([0x41 + sent % 26]) * size
            answer = paster.send(session_id, piece)
            sent += 1
            if answer["ok"]:
                accepted += piece
            else:
                assert answer["error"]["code"] == "throttled", answer
                size //= 2
            assert sent < 100, "the host took everything of input nobody read"
        assert typist.send(session_id, "Z") == {"ok": True}
        accepted += b"Z"
        wait_until(lambda: target.exists() and target.stat().st_size >= len(accepted), timeout=40,
                   message=f"{len(accepted)} bytes in {target}")
        time.sleep(0.2)
        assert target.read_bytes() == bytes(accepted)
    finally:
        paster.call("kill-terminal", {"sessionId": session_id})
        paster.close()
        typist.close()
        target.unlink(missing_ok=True)


def test_a_web_process_killed_mid_flood_loses_no_terminal_and_no_byte(node, tmp_path):
    host, web1, web2 = node
    workspace = web1.create_local_workspace()
    client = web1.socket()
    session_id = client.create(workspace["id"])
    client.send(session_id, "for i in $(seq 1 3000); do echo line-$i; sleep 0.001; done; echo finished-$((6*7))\n")
    client.wait_for(session_id, "line-100\r\n", timeout=20)
    os.kill(web1.proc.pid, signal.SIGKILL)  # mid-flood: the terminal lives in the host
    web1.proc.wait(10)
    had = len(client.streams[session_id])

    again = web2.socket()  # the page reconnects (through the other process here) from the offset it has
    try:
        answer = again.call("attach-terminal", {"sessionId": session_id, "since": had})
        assert answer["ok"] and answer["replayFrom"] == had, answer
        again.wait_for(session_id, "finished-42\r\n", timeout=60)
        whole = bytes(client.streams[session_id][:had]) + bytes(again.streams[session_id])
        numbers = [int(n) for n in re.findall(rb"line-(\d+)\r\n", whole)]
        assert numbers == list(range(1, 3001))  # nothing lost, nothing twice
        assert_echoes(again, session_id)
    finally:
        again.close()
        web1.start()  # the node's first web process comes back; the terminal is still there
        assert web1.api("GET", f"/api/sessions/{session_id}", web1.admin_token).json()["status"] == "running"


def test_the_host_refuses_processes_of_other_accounts(node):
    host, web1, _ = node
    nobody = pwd.getpwnam("nobody")
    # A process of another account (a shell user's, say) reaching the socket: SO_PEERCRED refuses it
    # even where the socket file would let it connect (here it is root's, mode 0600: not even that).
    mode = os.stat(host.socket_path).st_mode & 0o777
    assert mode == 0o600, oct(mode)
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
         "s.sendall(b'x'); print(s.recv(10))", str(host.socket_path)],
        user=nobody.pw_uid, group=nobody.pw_gid, capture_output=True, text=True, timeout=20, cwd="/")
    assert "Permission denied" in probe.stderr, probe
    os.chmod(host.socket_path, 0o666)  # then only the peer check stands between them
    os.chmod(host.socket_path.parent, 0o755)
    try:
        probe = subprocess.run(
            [SYSTEM_PYTHON, "-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
             "print(s.recv(10))", str(host.socket_path)],
            user=nobody.pw_uid, group=nobody.pw_gid, capture_output=True, text=True, timeout=20, cwd="/")
        assert probe.stdout.strip() == "b''", probe  # closed without a word
        assert f"refused a connection from uid {nobody.pw_uid}" in host.log_path.read_text()
    finally:
        os.chmod(host.socket_path, 0o600)


def test_healthz_names_the_node_and_its_host(node):
    _, web1, web2 = node
    for web in (web1, web2):
        wait_until(lambda web=web: web.api("GET", "/healthz").json()["terminalHost"] == "ok", timeout=30,
                   message="the web process linked to its host")
        assert web.api("GET", "/healthz").json()["node"] == "node-a"

