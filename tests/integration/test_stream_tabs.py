"""Two tabs on one terminal: one stream, input from either, size changes announced to the other."""

import time

import pytest

from tests.integration.streams import ClientPool, contiguous, wait_until


@pytest.fixture
def connect():
    pool = ClientPool()
    yield pool.connect
    pool.close()


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
