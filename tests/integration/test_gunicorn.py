"""The production shape: gunicorn with gunicorn.conf.py and aict's gevent-websocket worker."""

from __future__ import annotations

import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.integration.contract import assert_echoes
from tests.server import RunningServer


class GunicornServer(RunningServer):
    def command(self) -> list[str]:
        self.instance.mkdir(parents=True, exist_ok=True)
        self.flask("db", "upgrade")
        self.flask("aict", "ensure-admin")
        return [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py", "wsgi:app"]


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    server = GunicornServer(tmp_path_factory.mktemp("aict-gunicorn")).start()
    yield server
    server.stop()


def test_terminals_stream_and_record_under_gunicorn(gunicorn_server):
    client = gunicorn_server.socket()
    try:
        workspace = gunicorn_server.create_local_workspace()
        session_id = client.create(workspace["id"])
        assert_echoes(client, session_id)
        client.send(session_id, "seq 1 20000 | tail -1\n")
        client.wait_for(session_id, "20000\r\n")
        recording = gunicorn_server.api("GET", f"/api/sessions/{session_id}/recording", gunicorn_server.admin_token)
        assert recording.status_code == 200 and "20000" in recording.text
        client.send(session_id, "exit 3\n")  # the worker sees its children end (SIGCHLD under gunicorn)
        assert client.wait_exit(session_id) == {"sessionId": session_id, "exitCode": 3, "signal": None}
    finally:
        client.close()


def test_gunicorn_stops_cleanly_on_sigterm(gunicorn_server):
    gunicorn_server.proc.terminate()
    assert gunicorn_server.proc.wait(20) == 0
    log = gunicorn_server.log_path.read_text()
    assert "Traceback" not in log, log


def _recorded_ends(server: RunningServer, session_id: str) -> tuple[str, list[str]]:
    """(the session row's status, the audit event types naming it), read from the stopped server's database."""
    with sqlite3.connect(server.instance / "aict.db") as db:
        status = db.execute("SELECT status FROM terminal_sessions WHERE id = ?", (session_id,)).fetchone()[0]
        events = [row[0] for row in db.execute("SELECT type FROM audit_events WHERE session_id = ? ORDER BY id",
                                               (session_id,))]
    return status, events


@pytest.mark.parametrize("shape", ["serve", "gunicorn"])
def test_terminals_running_at_a_stop_are_recorded_as_ended(tmp_path_factory, shape):
    """Ctrl+C (or a deploy's SIGTERM) ends the terminals with the process: their records and the
    audit log say so at once, not only when the next start finds them 'running'."""
    kind = RunningServer if shape == "serve" else GunicornServer
    server = kind(tmp_path_factory.mktemp(f"aict-stop-{shape}")).start()
    try:
        client = server.socket()
        workspace = server.create_local_workspace()
        plain, stubborn = client.create(workspace["id"]), client.create(workspace["id"])
        client.send(stubborn, "trap '' HUP; echo armed\n")  # ignores the hangup: killed after the grace
        client.wait_for(stubborn, "armed\r\n")
        client.close()
    finally:
        server.proc.send_signal(signal.SIGINT if shape == "serve" else signal.SIGTERM)
        assert server.proc.wait(20) == 0
        server.stop()
    for session_id in (plain, stubborn):
        status, events = _recorded_ends(server, session_id)
        assert status == "exited" and events[0] == "session_start" and events[-1] == "session_end", events
