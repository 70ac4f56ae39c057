"""A Redis that answers without a password lets every account of the machine, a workspace's shell
included, read what crosses web processes and drive the terminal host (found by trying the README's
deployment: a shell started a terminal in another workspace and typed into it). Production refuses
to start with one; development says so in its log."""

from __future__ import annotations

import secrets
import subprocess
import time

import pytest

from tests.integration.test_privilege import PRODUCTION
from tests.server import RunningServer, free_port


@pytest.fixture
def private_redis(tmp_path):
    """Start a redis-server of the test's own (never the machine's): {password or None: url}."""
    started = []

    def start(password: str | None) -> str:
        port = free_port()
        conf = tmp_path / f"redis-{port}.conf"
        lines = [f"port {port}", "bind 127.0.0.1", 'save ""', "appendonly no", f"dir {tmp_path}"]
        if password:
            lines.append(f"requirepass {password}")
        conf.write_text("\n".join(lines) + "\n")
        started.append(subprocess.Popen(["redis-server", str(conf)], stdout=subprocess.DEVNULL))
        deadline = time.monotonic() + 20
        while subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True).stdout.strip() \
                not in ("PONG", "NOAUTH Authentication required."):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        return f"redis://:{password}@127.0.0.1:{port}/0" if password else f"redis://127.0.0.1:{port}/0"

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(10)


def test_production_refuses_a_redis_that_answers_without_a_password(tmp_path_factory, private_redis):
    url = private_redis(None)
    with pytest.raises(RuntimeError) as refused:
        RunningServer(tmp_path_factory.mktemp("aict-open-redis"), {**PRODUCTION, "AICT_REDIS_URL": url}).start()
    assert "aict refuses to start in production" in str(refused.value)
    assert "answers clients that give no password" in str(refused.value)


def test_production_serves_with_a_redis_that_asks_for_a_password(tmp_path_factory, private_redis):
    url = private_redis(secrets.token_urlsafe(16))
    running = RunningServer(tmp_path_factory.mktemp("aict-closed-redis"), {**PRODUCTION, "AICT_REDIS_URL": url})
    running.start().wait_for_host()
    try:
        socket = running.socket()
        try:
            assert socket.call("list-terminals", {})["ok"]
        finally:
            socket.close()
        assert "no password" not in running.log_path.read_text()
    finally:
        running.stop()


def test_development_serves_with_an_open_redis_and_says_so(start_server, private_redis):
    running = start_server({"AICT_REDIS_URL": private_redis(None)}).wait_for_host()
    log = running.log_path.read_text()
    assert "answers clients that give no password" in log and "Production refuses to start so." in log
