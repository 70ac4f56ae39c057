"""Two tabs on one terminal: one stream, input from either, size changes announced to the other."""

import time

from tests.integration.streams import contiguous, wait_until


def test_two_tabs_get_the_same_stream_and_either_can_type(server, connect, workspace):
    first, second = connect(server), connect(server)
    session_id = first.create(workspace["id"])
    answer = second.attach(session_id, since=0)
    assert (answer["replayFrom"], answer["access"], answer["status"]) == (0, "operator", "running")

    second.send(session_id, "echo from-second-$((2+3))\n")
    first.send(session_id, "echo from-first-$((3+4))\n")
    for tab in (first, second):
        tab.wait_for(session_id, "from-second-5\r\n")
        tab.wait_for(session_id, "from-first-7\r\n")
    wait_until(lambda: first.streams[session_id] == second.streams[session_id], what="identical streams")
    first_stream, second_stream = contiguous(first.outputs(session_id)), contiguous(second.outputs(session_id))
    assert first_stream == second_stream  # same offsets, same bytes
    assert first_stream[0] == 0


def test_a_resize_is_announced_to_the_other_tab_not_to_the_one_that_resized(server, connect, workspace):
    first, second = connect(server), connect(server)
    session_id = first.create(workspace["id"], cols=80, rows=24)
    second.attach(session_id)
    assert first.call("terminal-resize", {"sessionId": session_id, "cols": 100, "rows": 30})["ok"]
    wait_until(lambda: second.resized, what="terminal-resized on the other tab")
    assert second.resized == [{"sessionId": session_id, "cols": 100, "rows": 30}]
    second.send(session_id, "stty size\n")
    second.wait_for(session_id, "30 100\r\n")

    assert second.call("terminal-resize", {"sessionId": session_id, "cols": 120, "rows": 40})["ok"]
    wait_until(lambda: first.resized, what="terminal-resized on the first tab")
    time.sleep(0.2)
    assert first.resized == [{"sessionId": session_id, "cols": 120, "rows": 40}]
    assert second.resized == [{"sessionId": session_id, "cols": 100, "rows": 30}]  # never its own


def test_small_and_bulk_output_of_two_terminals_on_one_socket_stay_whole_and_in_order(server, connect, workspace):
    # Small chunks (an echo, a line) are written straight to the WebSocket, bulk ones through
    # engineio's queue (aict.realtime.transport.direct_output): switching between the two must never reorder.
    client = connect(server)
    script = ("stty -echo; for i in $(seq 1 60); do echo line-$i; "
              "if [ $((i % 10)) -eq 0 ]; then head -c 200000 /dev/zero | tr '\\0' $((i / 10)); echo; fi; "
              "sleep 0.01; done; exit 4\n")
    sessions = [client.create(workspace["id"]) for _ in range(2)]
    for session_id in sessions:
        client.send(session_id, script)
    for session_id in sessions:
        wait_until(lambda s=session_id: s in client.exits, timeout=60, what="both terminals exited")
        start, stream = contiguous(client.outputs(session_id))
        assert start == 0
        text = stream.decode()
        assert [f"line-{i}" in text for i in range(1, 61)] == [True] * 60
        assert [text.count(str(n) * 1000) for n in range(1, 7)] == [200] * 6  # every bulk block whole
        events = [e for e in client.log if e[1] == session_id]
        assert events[-1][0] == "exit" and client.exits[session_id]["exitCode"] == 4
