"""Bursts that wait (terminals ending, SSH hosts that never answer) never take the database from others.

While one user ends 50 terminals at once and an admin 200, or 30 SSH connections hang, another user
keeps typing and /healthz keeps answering, probed every 100 ms; on SQLite and on PostgreSQL.
Every test server also fails if it ever held a database connection across a wait (tests/server.py)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from tests.integration.contract import new_user, wait_until
from tests.server import RunningServer, TerminalClient

# Bounds on how long a loaded server takes to answer: make test runs these alone, after the parallel
# pass, so that other tests' servers do not take the CPU they measure (pyproject.toml: serial).
pytestmark = pytest.mark.serial

PROBE_EVERY = 0.1
PROBE_BOUND = 1.0  # seconds: what a user would call "the server stalled"
SSH_TIMEOUT = 4


class Probes:
    """Every 100 ms: GET /healthz, and a keystroke echoed through another user's terminal."""

    def __init__(self, server: RunningServer, typist: TerminalClient, session_id: str):
        self.server, self.typist, self.session_id = server, typist, session_id
        self.health: list[float] = []
        self.echo: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._health, daemon=True),
                         threading.Thread(target=self._keystrokes, daemon=True)]

    def __enter__(self) -> Probes:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(15)

    def _health(self) -> None:
        while not self._stop.wait(PROBE_EVERY):
            started = time.monotonic()
            try:
                response = requests.get(self.server.url + "/healthz", timeout=10)
                if response.status_code != 200:
                    self.failures.append(f"/healthz answered {response.status_code}: {response.text}")
            except requests.RequestException as exc:
                self.failures.append(f"/healthz: {exc}")
            self.health.append(time.monotonic() - started)

    def _keystrokes(self) -> None:
        number = 0
        while not self._stop.wait(PROBE_EVERY):
            number += 1
            token = f"k{number:04d}"
            started = time.monotonic()
            try:
                self.typist.send(self.session_id, token + "\n")
                self.typist.wait_for(self.session_id, token, timeout=10)
            except Exception as exc:  # a lost echo is a finding, reported with the rest
                self.failures.append(f"keystroke {token}: {exc}")
            self.echo.append(time.monotonic() - started)

    def assert_never_stalled(self) -> None:
        print(f"probes: /healthz max {max(self.health, default=0) * 1000:.0f} ms of {len(self.health)}, "
              f"echo max {max(self.echo, default=0) * 1000:.0f} ms of {len(self.echo)}")  # shown with -s
        assert not self.failures, self.failures[:5]
        assert len(self.health) >= 10 and len(self.echo) >= 10, (len(self.health), len(self.echo))
        assert max(self.health) < PROBE_BOUND, f"/healthz waited {max(self.health):.2f} s"
        assert max(self.echo) < PROBE_BOUND, f"a keystroke's echo waited {max(self.echo):.2f} s"


@pytest.fixture(params=["sqlite", "postgresql"])
def burst_server(request, start_server):
    settings = {"AICT_MAX_SESSIONS_PER_USER": "200", "AICT_SSH_CONNECT_TIMEOUT": str(SSH_TIMEOUT)}
    if request.param == "postgresql":
        settings["AICT_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    server = start_server(settings)
    yield server
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[log.index("Traceback") - 300:][:3000]


def _operator_of(server: RunningServer, workspace_id: str) -> str:
    """A new user the admin makes operator of the workspace; their access token."""
    username, password = new_user(server)
    granted = server.api("POST", f"/api/workspaces/{workspace_id}/members", server.admin_token,
                         json={"username": username, "access": "operator"})
    assert granted.status_code == 201, granted.text
    return server.login(username, password)


@pytest.fixture
def typist(burst_server, connect):
    """Another user typing into `cat`, in a workspace of its own."""
    workspace = burst_server.create_local_workspace()
    client = connect(burst_server, _operator_of(burst_server, workspace["id"]))
    session_id = client.create(workspace["id"])
    client.send(session_id, "echo 're'ady && exec cat\n")  # the quotes: only the output says "ready"
    client.wait_for(session_id, "ready\r\n")
    return client, session_id


def _open_terminals(clients: list[TerminalClient], workspace_id: str, count: int) -> list[tuple]:
    """`count` terminals spread over the clients; every other one ignores the hangup (ends 3 s later)."""
    opened = [(clients[i % len(clients)], clients[i % len(clients)].create(workspace_id)) for i in range(count)]
    for i, (client, session_id) in enumerate(opened):
        client.send(session_id, "trap '' HUP; echo armed\n" if i % 2 else "echo plain\n")
    for i, (client, session_id) in enumerate(opened):
        client.wait_for(session_id, "armed\r\n" if i % 2 else "plain\r\n")
    return opened


def _all_at_once(calls: list[tuple[TerminalClient, str, dict]], timeout: float) -> list[dict | None]:
    """Emit every event without waiting for the one before; their acknowledgements, in order."""
    answers: list[dict | None] = [None] * len(calls)
    done = threading.Semaphore(0)

    def answered(index):
        def callback(answer):
            answers[index] = answer
            done.release()
        return callback

    for index, (client, event, payload) in enumerate(calls):
        client.sio.emit(event, payload, callback=answered(index))
    deadline = time.monotonic() + timeout
    for _ in calls:
        assert done.acquire(timeout=max(0.0, deadline - time.monotonic())), \
            f"{answers.count(None)} of {len(calls)} events were never answered"
    return answers


@pytest.mark.parametrize("who,count", [("user", 50), ("admin", 200)])
def test_a_burst_of_kills_is_answered_while_others_are_served(burst_server, typist, connect, who, count):
    server = burst_server
    workspace = server.create_local_workspace()
    token = _operator_of(server, workspace["id"]) if who == "user" else server.admin_token
    clients = [connect(server, token) for _ in range(4)]
    opened = _open_terminals(clients, workspace["id"], count)

    with Probes(server, *typist) as probes:
        time.sleep(0.5)  # probes before the burst too
        answers = _all_at_once([(client, "kill-terminal", {"sessionId": sid}) for client, sid in opened],
                               timeout=30)
        time.sleep(0.5)
    assert answers == [{"ok": True}] * count, [a for a in answers if a != {"ok": True}][:3]
    probes.assert_never_stalled()

    ids = {sid for _, sid in opened}
    records = server.api("GET", f"/api/sessions?workspace_id={workspace['id']}", token).json()
    assert {r["id"]: r["status"] for r in records if r["id"] in ids} == dict.fromkeys(ids, "exited")
    assert burst_server.api("GET", "/healthz").json()["sessions"] == 1  # the typist's alone


@pytest.fixture
def black_hole():
    """A TCP port that accepts connections and never says a word (an SSH server that hangs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for sock in [*accepted, listener]:
        sock.close()


def test_ssh_connections_that_hang_leave_everyone_else_served(burst_server, typist, connect, black_hole):
    server = burst_server
    response = server.api("POST", "/api/workspaces", server.admin_token, json={
        "name": "hangs", "kind": "ssh", "host": "127.0.0.1", "port": black_hole, "username": "nobody",
        "password": "never-used"})
    assert response.status_code == 201, response.text
    workspace_id = response.json()["id"]
    clients = [connect(server) for _ in range(3)]

    with Probes(server, *typist) as probes:
        time.sleep(0.5)
        started = time.monotonic()
        answers = _all_at_once([(clients[i % 3], "create-terminal", {"workspaceId": workspace_id})
                                for i in range(30)], timeout=SSH_TIMEOUT + 10)
        took = time.monotonic() - started
        time.sleep(0.5)
    assert {a["ok"] for a in answers} == {False}, answers
    assert {a["error"]["code"] for a in answers} == {"ssh_unreachable"}, answers[:3]
    assert "no SSH handshake within 4 seconds" in answers[0]["error"]["message"], answers[0]
    assert took < SSH_TIMEOUT + 3, f"the creates took {took:.1f} s for a {SSH_TIMEOUT} s timeout"
    probes.assert_never_stalled()
    wait_until(lambda: server.api("GET", "/healthz").json()["sessions"] == 1, message="only the typist's terminal")


def test_a_database_that_really_is_the_bottleneck_answers_busy_at_once(start_server, postgres_url, connect):
    """One connection, taken by a query that waits on a lock inside PostgreSQL: the next callers get
    503 / ok: false with database_busy after the pool's 1 s, and all is well once the lock goes."""
    import psycopg

    server = start_server({"AICT_DATABASE_URL": postgres_url, "AICT_DB_POOL_SIZE": "1", "AICT_DB_POOL_OVERFLOW": "0",
                           "AICT_DB_POOL_TIMEOUT_SECONDS": "1",
                           "AICT_DB_HOLD_WARN_SECONDS": "60"})  # this hold is the database's, on purpose
    token = server.admin_token
    client = connect(server, token)
    with psycopg.connect(postgres_url.replace("+psycopg", "")) as outside:
        outside.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        stuck: list[requests.Response] = []
        waiter = threading.Thread(target=lambda: stuck.append(server.api("GET", "/api/me", token)))
        waiter.start()
        time.sleep(0.5)  # its query now holds the only connection, waiting for the lock
        started = time.monotonic()
        busy = server.api("GET", "/healthz")
        assert time.monotonic() - started < 2.5
        assert busy.status_code == 503 and busy.json()["error"]["code"] == "database_busy", busy.text
        assert busy.headers["Retry-After"] == "1"
        answer = client.call("list-terminals", {})
        assert answer["ok"] is False and answer["error"]["code"] == "database_busy", answer
        assert not stuck
        outside.rollback()
    waiter.join(10)
    assert stuck[0].status_code == 200 and stuck[0].json()["username"] == server.admin_username
    assert server.api("GET", "/healthz").json()["status"] == "ok"
    assert client.call("list-terminals", {})["ok"] is True
