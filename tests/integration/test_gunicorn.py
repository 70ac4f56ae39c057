"""The production shape: gunicorn with gunicorn.conf.py and aict's gevent-websocket worker."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.integration.contract import assert_echoes
from tests.server import ROOT, RunningServer


class GunicornServer(RunningServer):
    def start(self) -> GunicornServer:
        self.instance.mkdir(parents=True, exist_ok=True)
        self.flask("db", "upgrade")
        self.flask("aict", "ensure-admin")
        log = open(self.log_path, "wb")  # noqa: SIM115 -- the child writes to it for its whole life
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.proc = subprocess.Popen([gunicorn, "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log_path.read_text()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not come up:\n{self.log_path.read_text()}")


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
    finally:
        client.close()


def test_gunicorn_stops_cleanly_on_sigterm(gunicorn_server):
    gunicorn_server.proc.terminate()
    assert gunicorn_server.proc.wait(20) == 0
    log = gunicorn_server.log_path.read_text()
    assert "Traceback" not in log, log
