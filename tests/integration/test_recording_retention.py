"""Recordings of terminals that ended long ago are purged, by `flask aict purge-recordings` and by the
terminal host on its own; running terminals' never; every purge is an audit event."""

from __future__ import annotations

import time

SECOND_IN_DAYS = 1 / 86400


def ended_and_running(server) -> tuple[str, str]:
    """A terminal that ended, and one that runs (started first: the oldest, and still never purged)."""
    workspace = server.create_local_workspace()
    c = server.socket()
    try:
        running = c.create(workspace["id"])
        c.send(running, "echo still-run''ning\n")
        c.wait_for(running, "still-running")
        ended = c.create(workspace["id"])
        c.send(ended, "echo long-gone-$((1+1)); exit\n")
        c.wait_exit(ended)
    finally:
        c.close()
    return ended, running


def recording(server, session_id: str):
    return server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token)


def purge_events(server) -> list[dict]:
    response = server.api("GET", "/api/audit", server.admin_token, params={"type": "recording_purge"})
    assert response.status_code == 200, response.text
    return response.json()["events"]


def wait_until_stored(server, session_id: str, needle: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while needle not in recording(server, session_id).text:  # the end is stored just after the exit
        assert time.monotonic() < deadline, f"{needle!r} never reached the recording of {session_id}"
        time.sleep(0.1)


def test_the_purge_command_deletes_recordings_of_terminals_that_ended_long_enough_ago(start_server):
    server = start_server()
    ended, running = ended_and_running(server)
    wait_until_stored(server, ended, "long-gone-2")
    time.sleep(2)

    result = server.flask("aict", "purge-recordings", "--older-than", str(SECOND_IN_DAYS))
    assert "of 1 terminal(s)" in result.stdout, result.stdout

    gone = recording(server, ended)
    assert gone.status_code == 404 and "RECORDING_RETENTION_DAYS" in gone.json()["error"]["message"]
    kept = recording(server, running)
    assert kept.status_code == 200 and "still-running" in kept.text
    [event] = purge_events(server)
    detail = event["detail"]
    assert (detail["sessions"], detail["by"], detail["older_than_days"]) == (1, "cli", SECOND_IN_DAYS)
    assert detail["rows"] >= 1 and detail["bytes"] > 0 and detail["cutoff"].endswith("Z")

    again = server.flask("aict", "purge-recordings", "--older-than", str(SECOND_IN_DAYS))
    assert "Purged 0 recording row(s)" in again.stdout  # nothing left; audited all the same
    assert [e["detail"]["rows"] for e in purge_events(server)] == [0, detail["rows"]]


def test_the_purge_command_keeps_recordings_forever_when_retention_is_0_unless_told(start_server):
    server = start_server({"AICT_RECORDING_RETENTION_DAYS": "0"})
    result = server.flask("aict", "purge-recordings")
    assert "kept forever" in result.stdout and purge_events(server) == []


def test_the_terminal_host_purges_on_its_own(start_server):
    server = start_server({"AICT_RECORDING_RETENTION_DAYS": str(3 * SECOND_IN_DAYS),
                           "AICT_RECORDING_PURGE_SECONDS": "1"})
    ended, running = ended_and_running(server)
    deadline = time.monotonic() + 30
    while recording(server, ended).status_code != 404:
        assert time.monotonic() < deadline, "the host never purged the ended terminal's recording"
        time.sleep(0.5)
    assert "still-running" in recording(server, running).text
    # The purge's event follows its last batch (the next, empty batch first): a moment after the 404.
    deadline = time.monotonic() + 10
    while sum(e["detail"]["sessions"] for e in purge_events(server)) < 1:
        assert time.monotonic() < deadline, purge_events(server)
        time.sleep(0.2)
    events = purge_events(server)
    assert {e["detail"]["by"] for e in events} == {"schedule"}
    assert sum(e["detail"]["sessions"] for e in events) == 1
    assert sum(e["detail"]["bytes"] for e in events) > 0
