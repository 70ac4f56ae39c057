"""Flow control on SSH terminals, against a real sshd (tests/integration/test_stream_flow.py for local PTYs).

A client that never acks gets one window; the session then stops reading paramiko's channel, the
channel's window fills, and the remote program blocks on its writes as on a slow terminal: the
server stays small and other terminals stay quick. Detached, a session reads on into its ring,
and a later attach learns exactly how much it missed.
"""

from __future__ import annotations

import itertools
import re
import time
from contextlib import contextmanager

import paramiko
import psutil
import pytest

from aict.config import DEFAULTS
from tests.integration.streams import OrderedClient, contiguous, seq_output, wait_until
from tests.ssh.helpers import echo_round_trips, p50

pytestmark = pytest.mark.ssh

MiB = 1024 * 1024
WINDOW = DEFAULTS["FLOW_WINDOW_BYTES"]  # the shared server runs with the defaults
RING = DEFAULTS["RING_BYTES"]
CHANNEL_WINDOW = paramiko.common.DEFAULT_WINDOW_SIZE  # aict opens its SSH channels with paramiko's default
ENDLESS = 100_000_000  # `seq 1 ENDLESS`: far more output than any test lets through
_marks = itertools.count(1)


@contextmanager
def _stalled_seq(connect, server, workspace_id: str):
    """A client that never acks, on a new SSH terminal whose shell became `seq 1 ENDLESS`, once its first
    window is in: (client, session id, remote pid of seq, offset of seq's first byte). Killed at the end."""
    client = connect(server, auto_ack=False)
    session_id = client.create(workspace_id)
    try:
        client.send(session_id, f"echo PID''=$$=; exec seq 1 {ENDLESS}\n")
        wait_until(lambda: client.received(session_id) >= WINDOW, what="the first window")
        found = re.search(rb"PID=(\d+)=\r\n", client.streams[session_id])
        yield client, session_id, int(found[1]), found.end()
    finally:
        client.call("kill-terminal", {"sessionId": session_id})


def _assert_seq_prefix(body: bytes) -> None:
    """`body` is exactly the start of what `seq 1 ...` shows on a terminal: no byte lost, doubled or changed."""
    expected = seq_output(body.count(b"\n") + 1)[:len(body)]
    if body != expected:
        at = next(i for i, (a, b) in enumerate(zip(body, expected, strict=False)) if a != b)
        raise AssertionError(f"the seq stream differs at byte {at}: {body[at - 20:at + 20]!r}, "
                             f"expected {expected[at - 20:at + 20]!r}")


def _remote_value(client: OrderedClient, session_id: str, expression: str) -> str:
    """What a shell expression expands to in the remote shell of `session_id` (at its prompt)."""
    mark = f"V{next(_marks)}"
    client.send(session_id, f'echo {mark}""="{expression}"=\n')  # the echoed command line does not match
    answer = re.compile(rf"{mark}=(.*?)=\r\n".encode())
    wait_until(lambda: answer.search(client.streams.get(session_id, b"")), timeout=5, what=f"{expression!r}")
    return answer.search(client.streams[session_id])[1].decode()


def test_a_client_that_never_acks_gets_one_window_and_the_server_stays_small_and_quick(
        server, connect, ssh_workspace):
    with _stalled_seq(connect, server, ssh_workspace["id"]) as (stalled, session_id, _, seq_begins):
        server_process = psutil.Process(server.proc.pid)
        rss_before = server_process.memory_info().rss
        started = time.monotonic()

        other = connect(server)  # another SSH terminal, on the same server and sshd
        other_session = other.create(ssh_workspace["id"])
        _remote_value(other, other_session, "ready")
        round_trips = echo_round_trips(other, other_session, 30)
        time.sleep(max(0.0, 3 - (time.monotonic() - started)))

        growth = server_process.memory_info().rss - rss_before
        print(f"\nwindow {WINDOW} B; received {stalled.received(session_id)} B without acking; server RSS "
              f"{rss_before / MiB:.1f} MiB, {growth / MiB:+.2f} MiB in 3 s; echo of another SSH terminal "
              f"p50 {p50(round_trips) * 1000:.1f} ms, max {max(round_trips) * 1000:.0f} ms")
        assert stalled.received(session_id) == WINDOW  # exactly one window, nothing after it
        assert contiguous(stalled.outputs(session_id))[0] == 0
        assert growth < 16 * MiB, f"server grew by {growth / MiB:.1f} MiB while a client did not ack"
        assert p50(round_trips) < 0.05, sorted(round_trips)

        stalled.ack(session_id, WINDOW)  # acking resumes the flow: exactly one more window
        wait_until(lambda: stalled.received(session_id) >= 2 * WINDOW, what="the second window")
        time.sleep(0.5)
        assert stalled.received(session_id) == 2 * WINDOW
        start, stream = contiguous(stalled.outputs(session_id))
        assert start == 0
        _assert_seq_prefix(stream[seq_begins:])  # nothing lost or doubled across the stall


def test_the_remote_program_blocks_while_the_only_viewer_is_full_and_runs_on_once_it_acks(
        server, connect, ssh_workspace):
    with _stalled_seq(connect, server, ssh_workspace["id"]) as (stalled, session_id, pid, _):
        probe = connect(server)  # the same account on the same host, looking at seq's write count
        probe_session = probe.create(ssh_workspace["id"])

        def written() -> int:
            return int(_remote_value(probe, probe_session, f"$(awk '/^wchar/{{print $2}}' /proc/{pid}/io)"))

        samples = [written()]
        started = time.monotonic()
        while True:  # the buffers on the way fill at once; then seq's writes stop
            time.sleep(0.5)
            samples.append(written())
            if samples[-1] == samples[-2] or time.monotonic() - started > 5:
                break
        time.sleep(1.0)
        samples.append(written())
        print(f"\nseq had written {samples} B (the client got {stalled.received(session_id)} B, "
              f"window {WINDOW} B)")
        assert samples[-1] == samples[-2], f"seq kept writing while its only viewer was full: {samples}"
        # It ran ahead of the client by what paramiko's channel window let sshd send, and no more
        # (seq writes \n where the client sees \r\n: counting seq's bytes is on the safe side).
        assert samples[-1] < WINDOW + CHANNEL_WINDOW + MiB, f"seq ran {samples[-1] - WINDOW} B ahead of the window"

        stalled.ack(session_id, WINDOW)
        wait_until(lambda: written() > samples[-1], timeout=5, step=0.05, what="seq writing again after the ack")


def test_a_detached_ssh_session_reads_on_and_a_later_attach_says_how_much_it_missed(
        server, connect, ssh_workspace):
    tab = connect(server)
    session_id = tab.create(ssh_workspace["id"])
    _remote_value(tab, session_id, "ready")
    assert tab.call("detach-terminal", {"sessionId": session_id})["ok"]
    start, stream = contiguous(tab.outputs(session_id))
    since = start + len(stream)  # what the tab has: it would ask for the rest when it comes back

    count = 1_000_000  # about 7.9 MB on the terminal: twice what the ring holds
    started = time.monotonic()
    assert tab.send(session_id, f"seq 1 {count}; exit 3\n")["ok"]  # an operator may type without watching
    wait_until(lambda: server.api("GET", f"/api/sessions/{session_id}", server.admin_token).json()["status"]
               == "exited", timeout=30, step=0.1, what="the end of seq and of the shell, with nobody attached")
    elapsed = time.monotonic() - started

    seen = len(tab.outputs(session_id))
    answer = tab.attach(session_id, since=since)
    tab.wait_exit(session_id)
    print(f"\ndetached at {since}; seq ran on to the end in {elapsed:.2f} s; "
          f"attach since {since}: replayFrom {answer['replayFrom']}, offset {answer['offset']}")
    assert answer["status"] == "exited"
    assert answer["replayFrom"] > since  # the tab missed replayFrom - since bytes, and knows it
    assert MiB <= answer["offset"] - answer["replayFrom"] <= RING  # from the oldest byte the ring holds
    replay_start, replay = contiguous(tab.outputs(session_id)[seen:])
    assert (replay_start, replay_start + len(replay)) == (answer["replayFrom"], answer["offset"])
    assert tab.log[-1] == ("exit", session_id, {"sessionId": session_id, "exitCode": 3, "signal": None})
    last_line = f"\n{count}\r\n".encode()
    seq_tail = replay[:replay.rindex(last_line) + len(last_line)]
    assert seq_output(count).endswith(seq_tail)  # seq's last lines, byte-exact
    assert len(replay) - len(seq_tail) < 100  # then only the shell's goodbye

    late = connect(server)  # without `since`, the replay starts at the same oldest byte
    assert late.attach(session_id)["replayFrom"] == answer["replayFrom"]
    late.wait_exit(session_id)  # the whole replay is in before the socket closes
