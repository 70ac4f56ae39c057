"""Nobody waits for someone else's SSH connection: a pending connect or a flooding session
leaves other terminals' echo fast (the connection's socket and paramiko's transport are greenlets)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.integration.contract import assert_ack_error
from tests.ssh.helpers import create_ack, create_workspace, echo_round_trips, p50

pytestmark = pytest.mark.ssh


def _ready(client, session_id: str) -> str:
    client.send(session_id, "echo RE''ADY\n")
    client.wait_for(session_id, "READY")
    return session_id


def _ms(values: list[float]) -> str:
    return f"p50 {p50(values) * 1000:.1f} ms, max {max(values) * 1000:.0f} ms"


def test_silent_host_times_out_without_stalling_other_terminals(ssh_server, sshd):
    """A host that accepts TCP but never speaks SSH: the connect waits for its timeout (3 s here)
    while another terminal keeps echoing at once, so the wait blocks no one else."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # never accepted: the kernel completes the handshake, then nothing comes
    watcher, connector = ssh_server.socket(), ssh_server.socket()
    try:
        workspace = create_workspace(ssh_server, sshd.workspace_body(port=silent.getsockname()[1], pin=False))
        shell = _ready(watcher, watcher.create(ssh_server.create_local_workspace()["id"]))
        baseline = echo_round_trips(watcher, shell, 15)

        answers: list[dict] = []
        started = time.monotonic()
        pending = threading.Thread(target=lambda: answers.append(create_ack(connector, workspace["id"])))
        pending.start()
        time.sleep(0.3)
        during = echo_round_trips(watcher, shell, 30)
        assert not answers, "the silent host answered too early: the echo was not measured during the wait"
        pending.join(15)
        elapsed = time.monotonic() - started
        print(f"\necho before {_ms(baseline)}; during the pending connect {_ms(during)}; "
              f"connect gave up after {elapsed:.2f} s")
        error = assert_ack_error(answers[0], "ssh_unreachable")
        assert 2.5 <= elapsed < 7, elapsed
        assert "3 seconds" in error["message"]
        assert p50(during) < 0.1, sorted(during)
        assert max(during) < 1.0, sorted(during)
    finally:
        watcher.close()
        connector.close()
        silent.close()


def test_flooding_ssh_session_does_not_slow_other_sessions_echo(ssh_server, sshd):
    workspace = create_workspace(ssh_server, sshd.workspace_body())
    flooder = ssh_server.socket()
    flood = flooder.create(workspace["id"])
    flooder.send(flood, "cat /dev/urandom | base64\n")

    watcher = ssh_server.socket()
    local = _ready(watcher, watcher.create(ssh_server.create_local_workspace()["id"]))
    remote = _ready(watcher, watcher.create(workspace["id"]))
    try:
        time.sleep(0.5)  # the flood is in full swing
        flooded_before = len(flooder.streams[flood])
        started = time.monotonic()
        local_times = echo_round_trips(watcher, local, 40)
        remote_times = echo_round_trips(watcher, remote, 40)
        flood_rate = (len(flooder.streams[flood]) - flooded_before) / (time.monotonic() - started)
        print(f"\nflood {flood_rate / 1e6:.1f} MB/s; echo local {_ms(local_times)}; ssh {_ms(remote_times)}")
        assert flood_rate > 100_000, "the flood was not flowing while echo was measured"
        assert p50(local_times) < 0.1, sorted(local_times)
        assert p50(remote_times) < 0.1, sorted(remote_times)
        assert flooder.call("kill-terminal", {"sessionId": flood})["ok"]
        flooder.wait_exit(flood, timeout=10)
    finally:
        flooder.close()
        watcher.close()
