"""Chaos: a flood of output while the client drops and re-attaches with `since` many times."""

import random
import time

import pytest

from tests.integration.streams import contiguous, seq_output, wait_until

MiB = 1024 * 1024
BEGIN, END = b"BEGIN-42\r\n", b"END-42\r\n"
# The markers are computed by the shell, so the echoed command line never contains them.
FLOOD = "stty -echo; echo BEGIN-$((6*7)); seq 1 {n}; echo END-$((6*7)); stty echo\n"


def _leave(client, session_id: str, rng: random.Random) -> None:
    """Go away the way a browser does: sometimes politely, mostly by just dropping the socket."""
    if rng.random() < 0.3:
        assert client.call("detach-terminal", {"sessionId": session_id})["ok"]
    client.close()


def test_reattaching_with_since_during_a_flood_loses_no_byte(start_server, connect):
    n = 3_000_000  # ~24 MB on the terminal
    server = start_server({"AICT_RING_BYTES": str(32 * MiB)})  # holds the whole flood: no absence can outrun it
    workspace = server.create_local_workspace()
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    expected = BEGIN + seq_output(n) + END

    client = connect(server)
    session_id = client.create(workspace["id"])
    client.send(session_id, FLOOD.format(n=n))
    received = bytearray()  # the stream from offset 0, stitched from every connection
    drop_points = sorted(rng.sample(range(64 * 1024, len(expected)), 15))
    reattaches = 0
    for point in drop_points:
        wait_until(lambda c=client, p=point, r=received: len(r) + c.received(session_id) >= p
                   or END in c.streams.get(session_id, b""), timeout=30, what=f"byte {point} (seed {seed})")
        _leave(client, session_id, rng)
        received += contiguous(client.outputs(session_id), start=len(received))[1] \
            if client.outputs(session_id) else b""
        time.sleep(rng.uniform(0, 0.05))
        client = connect(server)
        answer = client.attach(session_id, since=len(received))
        assert answer["replayFrom"] == len(received), f"bytes were lost (seed {seed})"
        reattaches += 1
    wait_until(lambda: END in bytes(received[-64:]) + client.streams.get(session_id, b""), timeout=30,
               what=f"the end marker (seed {seed})")
    if client.outputs(session_id):
        received += contiguous(client.outputs(session_id), start=len(received))[1]

    assert reattaches >= 10
    begin = received.find(BEGIN)
    assert begin >= 0
    got = bytes(received[begin:begin + len(expected)])
    assert len(got) == len(expected), f"stream ends early (seed {seed})"
    if got != expected:
        first_diff = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
        pytest.fail(f"stream differs at byte {first_diff} of {len(expected)} (seed {seed}): "
                    f"{got[first_diff - 20:first_diff + 20]!r} != {expected[first_diff - 20:first_diff + 20]!r}")


def test_a_long_absence_loses_bytes_and_replay_from_says_exactly_how_many(start_server, connect):
    ring = 128 * 1024
    n = 3_000_000
    server = start_server({"AICT_RING_BYTES": str(ring), "AICT_FLOW_WINDOW_BYTES": str(64 * 1024)})
    workspace = server.create_local_workspace()
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    expected = BEGIN + seq_output(n) + END

    client = connect(server)
    session_id = client.create(workspace["id"])
    client.send(session_id, FLOOD.format(n=n))
    client.wait_for(session_id, BEGIN)
    first = contiguous(client.outputs(session_id), start=0)[1]
    begin = first.find(BEGIN)  # the offset of the flood in the session's stream

    def check_segment(offset: int, data: bytes) -> None:
        """Bytes at a stream offset must be the flood's bytes at that offset: offsets are exact."""
        lo, hi = max(offset, begin), min(offset + len(data), begin + len(expected))
        assert data[lo - offset:hi - offset] == expected[lo - begin:hi - begin], \
            f"bytes at offset {lo} are not the flood's (seed {seed})"

    flood_end = begin + len(expected)
    since, losses, reattaches = 0, 0, 0
    while reattaches < 10:
        time.sleep(rng.uniform(0.02, 0.06))
        _leave(client, session_id, rng)
        if client.outputs(session_id):
            # While attached, one socket alone never misses a byte, however small the ring.
            start, data = contiguous(client.outputs(session_id))
            assert start == since
            check_segment(start, data)
            since = start + len(data)
        if since >= flood_end:
            break
        time.sleep(rng.uniform(0.1, 0.15))  # meanwhile the flood runs far past the ring
        client = connect(server)
        answer = client.attach(session_id, since=since)
        reattaches += 1
        assert answer["replayFrom"] == max(since, answer["offset"] - ring), f"seed {seed}"
        losses += answer["replayFrom"] > since
        since = answer["replayFrom"]
        if answer["offset"] > since:
            wait_until(lambda c=client: c.outputs(session_id), what="the replay")
            assert client.outputs(session_id)[0][0] == since  # the replay starts where replayFrom says
    else:
        wait_until(lambda c=client, s=since: s + c.received(session_id) >= flood_end, timeout=30,
                   what="the flood's end")
        start, data = contiguous(client.outputs(session_id))
        assert start == since
        check_segment(start, data)

    assert losses >= 3, f"the absences were expected to outrun the ring (seed {seed})"


def test_reattaching_on_the_same_socket_replays_from_since_and_a_refused_one_changes_nothing(
        server, connect, workspace):
    client = connect(server)
    session_id = client.create(workspace["id"])
    client.send(session_id, "echo one-$((0+1))\n")
    client.wait_for(session_id, "one-1\r\n")
    time.sleep(0.3)  # quiet: nothing of the old stream is still on its way
    _, stream = contiguous(client.outputs(session_id), start=0)

    for since in (-1, len(stream) + 1, "3", 2.5, True):
        answer = client.call("attach-terminal", {"sessionId": session_id, "since": since})
        assert answer["ok"] is False and answer["error"]["code"] == "bad_request", (since, answer)
    client.send(session_id, "echo two-$((1+1))\n")
    client.wait_for(session_id, "two-2\r\n")
    time.sleep(0.3)
    _, stream = contiguous(client.outputs(session_id), start=0)  # still attached, nothing replayed twice

    before = len(client.outputs(session_id))
    answer = client.attach(session_id, since=5)
    assert (answer["replayFrom"], answer["offset"]) == (5, len(stream))
    wait_until(lambda: sum(len(d) for _, d in client.outputs(session_id)[before:]) >= len(stream) - 5,
               what="the replay")
    assert contiguous(client.outputs(session_id)[before:]) == (5, stream[5:])
