"""Flow control against the real server: a client that never acks, next to the rest of the world."""

import statistics
import time

import psutil

from tests.integration.streams import contiguous, wait_until

MiB = 1024 * 1024
WINDOW = 2 * MiB  # the server's default AICT_FLOW_WINDOW_BYTES


def _echo_round_trips(client, session_id: str, count: int = 20) -> list[float]:
    """Seconds from sending one keystroke to seeing its echo, for `count` keystrokes."""
    client.send(session_id, "echo ready-$((4*4))\n")
    client.wait_for(session_id, "ready-16")
    time.sleep(0.2)
    times = []
    for i in range(count):
        key = "abcdefghijklmnopqrstuvwxyz"[i % 26]
        before = len(client.streams[session_id])
        start = time.monotonic()
        client.send(session_id, key)
        wait_until(lambda b=before, k=key: len(client.streams[session_id]) > b
                   and client.streams[session_id].endswith(k.encode()), timeout=5, step=0.001, what="the echo")
        times.append(time.monotonic() - start)
    client.send(session_id, "\x15")  # clear the line
    return times


def test_a_client_that_never_acks_gets_one_window_and_the_server_stays_small_and_quick(server, connect, workspace):
    stalled = connect(server, auto_ack=False)
    session_id = stalled.create(workspace["id"])
    stalled.send(session_id, "yes\n")
    wait_until(lambda: stalled.received(session_id) >= WINDOW, what="the first window")
    server_process = psutil.Process(server.proc.pid)
    rss_before = server_process.memory_info().rss
    started = time.monotonic()

    other = connect(server)
    other_session = other.create(workspace["id"])
    round_trips = _echo_round_trips(other, other_session)
    time.sleep(max(0.0, 3 - (time.monotonic() - started)))

    assert stalled.received(session_id) == WINDOW  # exactly one window, nothing after it
    assert contiguous(stalled.outputs(session_id)) == (0, bytes(stalled.streams[session_id]))
    growth = server_process.memory_info().rss - rss_before
    assert growth < 16 * MiB, f"server grew by {growth / MiB:.1f} MiB while a client did not ack"
    assert statistics.median(round_trips) < 0.05, f"echo round trips {round_trips}"

    stalled.ack(session_id, WINDOW)  # acking resumes the flow: exactly one more window
    wait_until(lambda: stalled.received(session_id) >= 2 * WINDOW, what="the second window")
    time.sleep(0.5)
    assert stalled.received(session_id) == 2 * WINDOW
    assert contiguous(stalled.outputs(session_id))[0] == 0
    stalled.call("kill-terminal", {"sessionId": session_id})


def test_killing_a_terminal_whose_only_viewer_is_full_ends_it(server, connect, workspace):
    stalled = connect(server, auto_ack=False)
    session_id = stalled.create(workspace["id"])
    stalled.send(session_id, "yes\n")
    wait_until(lambda: stalled.received(session_id) >= WINDOW, what="the first window")
    assert stalled.call("kill-terminal", {"sessionId": session_id})["ok"]
    wait_until(lambda: server.api("GET", f"/api/sessions/{session_id}", server.admin_token).json()["status"]
               == "exited", timeout=10, step=0.1, what="the exited status")
    # Its exit comes after the rest of the stream, which it gets as it acks.
    deadline = time.monotonic() + 10
    while session_id not in stalled.exits and time.monotonic() < deadline:
        stalled.ack(session_id, contiguous(stalled.outputs(session_id))[0] + stalled.received(session_id))
        time.sleep(0.05)
    assert stalled.exits[session_id]["signal"] == "SIGHUP"


def test_a_stalled_tab_keeps_one_window_while_a_fast_tab_moves_on_then_sees_a_visible_jump(
        server, connect, workspace):
    fast = connect(server)
    session_id = fast.create(workspace["id"])
    stalled = connect(server, auto_ack=False)
    stalled.attach(session_id, since=0)
    try:
        fast.send(session_id, "yes\n")
        ring = 4 * MiB  # the server's default AICT_RING_BYTES
        wait_until(lambda: fast.received(session_id) > WINDOW + 2 * ring, timeout=30, what="the fast tab's progress")
        time.sleep(0.2)
        assert stalled.received(session_id) == WINDOW  # not one unacknowledged byte more
        start, fast_stream = contiguous(fast.outputs(session_id))
        assert start == 0  # the fast tab was neither held back nor skipped
        assert contiguous(stalled.outputs(session_id)) == (0, fast_stream[:WINDOW])

        seen = len(stalled.outputs(session_id))
        stalled.ack(session_id, WINDOW)
        wait_until(lambda: len(stalled.outputs(session_id)) > seen, what="output after the ack")
        jump_offset, data = stalled.outputs(session_id)[seen]
        assert jump_offset > WINDOW + ring  # a visible jump: it fell behind what the ring holds
        start, fast_stream = contiguous(fast.outputs(session_id))
        assert data == fast_stream[jump_offset:jump_offset + len(data)]  # the same stream, from further on
    finally:
        fast.call("kill-terminal", {"sessionId": session_id})
