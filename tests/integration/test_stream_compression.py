"""Compressed terminal output (`compress: "deflate-raw"`) against the real server: the same stream,
offsets, acks, replay and flow control as without, fewer bytes; clients that do not ask see no change."""

import time

import pytest

from tests.integration.contract import assert_ack_error
from tests.integration.streams import contiguous, wait_until

MiB = 1024 * 1024
WINDOW = 2 * MiB  # the server's default AICT_FLOW_WINDOW_BYTES
END = b"END-42\r\n"
PLAIN_FIELDS = frozenset({"sessionId", "offset", "data"})
# Text like a terminal's (listings, numbers, coloured log lines) and noise that hardly compresses;
# the end marker is computed by the shell, so the echoed command line never contains it.
MIXED = ("stty -echo; ls -lR /usr/lib 2>/dev/null | head -c 2000000; seq 1 300000; "
         "for i in $(seq 1 3000); do printf '\\033[32mINFO\\033[0m worker-%d request %d done\\n' $((i % 8)) $i; done; "
         "head -c 300000 /dev/urandom | base64; echo END-$((6*7)); stty echo\n")


def _settled(client, session_id: str) -> None:
    client.send(session_id, "echo READY-$((3*3))\n")
    client.wait_for(session_id, "READY-9")
    time.sleep(0.3)


def test_a_compressed_stream_is_byte_identical_and_smaller_and_others_see_todays_stream(server, connect, workspace):
    plain = connect(server)
    session_id = plain.create(workspace["id"])
    _settled(plain, session_id)
    packed = connect(server, compress=True)
    packed.attach(session_id, since=0)
    wait_until(lambda: packed.received(session_id) == plain.received(session_id), what="the replay")

    plain.send(session_id, MIXED)
    wait_until(lambda: END in plain.streams[session_id][-64:] and END in packed.streams[session_id][-64:],
               timeout=60, what="the end of the flood on both")
    time.sleep(0.3)

    assert contiguous(packed.outputs(session_id)) == contiguous(plain.outputs(session_id))
    assert packed.received(session_id) > 4 * MiB
    assert packed.compressed_chunks[session_id] > 10
    assert packed.wire[session_id] < 0.6 * packed.received(session_id), "compression did not pay"
    # The client that did not ask: every event as before, raw bytes and the three fields.
    raw_events = [entry for entry in plain.log if entry[0] == "output"]
    assert sum(len(entry[3]) for entry in raw_events) == plain.received(session_id)
    assert set(plain.output_fields) == {PLAIN_FIELDS}, "a field was added"


def test_echoes_stay_uncompressed_and_the_page_sees_them_at_once(server, connect, workspace):
    client = connect(server, compress=True)
    session_id = client.create(workspace["id"])
    _settled(client, session_id)
    before = client.compressed_chunks.get(session_id, 0)
    for key in "abc":
        client.send(session_id, key)
        wait_until(lambda k=key: client.streams[session_id].endswith(k.encode()), timeout=5, what="the echo")
    assert client.compressed_chunks.get(session_id, 0) == before  # a keystroke's echo is not deflated


def test_replay_and_reattach_start_a_new_deflate_stream_and_lose_nothing(server, connect, workspace):
    first = connect(server, compress=True)
    session_id = first.create(workspace["id"])
    _settled(first, session_id)
    first.send(session_id, "stty -echo; echo BEGIN-$((6*7)); seq 1 400000; echo END-$((6*7)); stty echo\n")
    wait_until(lambda: first.received(session_id) > 512 * 1024, timeout=30, what="part of the flood")
    first.close()
    start, received = contiguous(first.outputs(session_id))
    assert start == 0

    second = connect(server, compress=True)  # a new attachment: a new deflate stream from `since`
    answer = second.attach(session_id, since=len(received))
    assert answer["replayFrom"] == len(received)
    wait_until(lambda: second.received(session_id) > 256 * 1024, timeout=30, what="more of the flood")
    have = len(received) + len(second.streams[session_id])
    assert second.attach(session_id, since=have)["replayFrom"] == have  # again: another new deflate stream
    wait_until(lambda: END in second.streams.get(session_id, b"")[-64:], timeout=60, what="the end")
    time.sleep(0.3)
    whole = received + second.streams[session_id]
    for offset, data in second.outputs(session_id):  # old chunks still on their way overlap the replay: the same bytes
        assert whole[offset:offset + len(data)] == data
    assert second.compressed_chunks[session_id] > 2
    flood = whole.split(b"BEGIN-42\r\n")[1].split(b"END-42")[0]
    numbers = [int(line) for line in flood.split(b"\r\n") if line.isdigit()]
    assert numbers == list(range(1, 400001))


def test_flow_control_counts_uncompressed_bytes(server, connect, workspace):
    stalled = connect(server, auto_ack=False, compress=True)
    session_id = stalled.create(workspace["id"])
    stalled.send(session_id, "yes\n")
    wait_until(lambda: stalled.received(session_id) >= WINDOW, what="the first window")
    time.sleep(1)
    assert stalled.received(session_id) == WINDOW  # one window of the stream's bytes, not of the wire's
    assert stalled.wire[session_id] < WINDOW // 20  # `yes` deflates to next to nothing
    stalled.ack(session_id, WINDOW)
    wait_until(lambda: stalled.received(session_id) >= 2 * WINDOW, what="the second window")
    time.sleep(0.5)
    assert stalled.received(session_id) == 2 * WINDOW
    assert contiguous(stalled.outputs(session_id))[0] == 0
    stalled.call("kill-terminal", {"sessionId": session_id})


@pytest.mark.parametrize("value", ["gzip", "deflate", "DEFLATE-RAW", "", 1, True, ["deflate-raw"], {"a": 1}])
def test_a_bad_compress_value_is_a_clear_bad_request_and_changes_nothing(server, connect, workspace, value):
    client = connect(server)
    session_id = client.create(workspace["id"])
    _settled(client, session_id)
    error = assert_ack_error(client.call("attach-terminal", {"sessionId": session_id, "compress": value}),
                             "bad_request")
    assert "compress" in error["message"]
    assert_ack_error(client.call("create-terminal", {"workspaceId": workspace["id"], "compress": value}),
                     "bad_request")
    client.send(session_id, "echo STILL-$((2*4))\n")  # the attachment it had goes on, uncompressed
    client.wait_for(session_id, "STILL-8")
    assert set(client.output_fields) == {PLAIN_FIELDS}
