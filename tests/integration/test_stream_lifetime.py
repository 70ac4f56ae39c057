"""A session outlives its sockets; an exited one keeps its status, its ring and its exit for later readers."""

import time

from tests.integration.streams import contiguous, wait_until


def test_a_detached_session_keeps_running(server, connect, workspace):
    first = connect(server)
    session_id = first.create(workspace["id"])
    first.send(session_id, "sleep 1; echo done-$((2*5))\n")
    first.wait_for(session_id, "sleep 1")  # the command line's echo: it is running
    assert first.call("detach-terminal", {"sessionId": session_id})["ok"]
    since = contiguous(first.outputs(session_id))[0] + first.received(session_id)
    first.close()
    time.sleep(1.5)
    assert b"done-10" not in first.streams[session_id]

    later = connect(server)
    answer = later.attach(session_id, since=since)
    assert (answer["status"], answer["replayFrom"]) == ("running", since)
    assert answer["offset"] > since  # output was read while nobody was attached
    later.wait_for(session_id, "done-10\r\n")
    assert contiguous(later.outputs(session_id))[0] == since


def test_an_exited_session_keeps_its_status_ring_and_exit_for_later_readers(server, connect, workspace):
    first = connect(server)
    session_id = first.create(workspace["id"])
    first.send(session_id, "echo bye-$((3*3)); exit 7\n")
    assert first.wait_exit(session_id) == {"sessionId": session_id, "exitCode": 7, "signal": None}
    end = first.received(session_id)
    assert contiguous(first.outputs(session_id))[0] == 0
    assert first.log[-1][0] == "exit"  # after every byte of output

    def record() -> dict:
        response = server.api("GET", f"/api/sessions/{session_id}", server.admin_token)
        assert response.status_code == 200, response.text
        return response.json()

    wait_until(lambda: record()["status"] == "exited", step=0.05, what="the exited status")
    row = record()
    assert (row["exit_code"], row.get("signal")) == (7, None)
    assert row["ended_at"].endswith("Z")

    later = connect(server)
    answer = later.attach(session_id)
    assert (answer["status"], answer["replayFrom"], answer["offset"]) == ("exited", 0, end)
    wait_until(lambda: session_id in later.exits, what="terminal-exit on the later socket")
    assert later.exits[session_id] == {"sessionId": session_id, "exitCode": 7, "signal": None}
    assert contiguous(later.outputs(session_id)) == contiguous(first.outputs(session_id))  # the ring, replayed
    assert b"bye-9\r\n" in later.streams[session_id]
    assert later.log[-1][0] == "exit"  # the exit follows the replay

    at_end = connect(server)
    assert at_end.attach(session_id, since=end)["replayFrom"] == end
    wait_until(lambda: session_id in at_end.exits, what="terminal-exit with nothing to replay")
    assert at_end.outputs(session_id) == []

    listed = later.call("list-terminals", {"workspaceId": workspace["id"]})
    assert listed["ok"]
    mine = [s for s in listed["sessions"] if s["id"] == session_id]
    assert len(mine) == 1 and mine[0]["status"] == "exited" and mine[0]["exit_code"] == 7


def test_a_terminal_the_server_no_longer_holds_is_a_conflict_not_unknown(start_server):
    """After a restart (or once an exited terminal's retention passed) the record is still there:
    attaching says the terminal has ended, as not_found would say there was never one."""
    running = start_server()
    workspace = running.create_local_workspace()
    before = running.socket()
    session_id = before.create(workspace["id"])
    before.close()
    running.stop()
    running.start()

    after = running.socket()
    try:
        answer = after.call("attach-terminal", {"sessionId": session_id})
        assert answer["ok"] is False and answer["error"]["code"] == "conflict", answer
        assert "no longer held" in answer["error"]["message"]
        record = running.api("GET", f"/api/sessions/{session_id}", running.admin_token).json()
        assert record["status"] == "exited"
        unknown = after.call("attach-terminal", {"sessionId": "0" * 32})
        assert unknown["error"]["code"] == "not_found"
    finally:
        after.close()
