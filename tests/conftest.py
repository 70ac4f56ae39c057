import os

import pytest

from tests.cluster import ClusterServer
from tests.integration.shared import own_redis_prefix
from tests.integration.streams import ClientPool
from tests.server import RunningServer, TerminalClient

# Under pytest-xdist (make test: -n N --dist loadscope) every worker has its own session fixtures
# (server, sshd, browser), ports, temporary folders and PostgreSQL database; a module's tests run on
# one worker in their order, so a module-scoped fixture starts once, as without xdist.


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One real server for the whole run (tests that need other settings start their own)."""
    # The whole suite logs in from 127.0.0.1: the per-IP request limit on /api/auth/login (default
    # 30 a minute) would throttle unrelated tests. Failure throttling keeps its defaults.
    # AICT_TEST_CLUSTER=1 (make test's last run): the production shape instead, `make cluster` with
    # nginx in front of two web processes, the terminal host and Redis: the contract through nginx.
    kind = ClusterServer if os.environ.get("AICT_TEST_CLUSTER") == "1" else RunningServer
    running = kind(tmp_path_factory.mktemp("aict"), {"AICT_LOGIN_RATE": "10000 per minute"}).start()
    yield running
    running.stop()


@pytest.fixture
def start_server(tmp_path_factory):
    """Start a separate server with extra AICT_* settings: start_server({"AICT_RING_BYTES": "..."})."""
    started = []

    def start(settings: dict[str, str] | None = None) -> RunningServer:
        running = RunningServer(tmp_path_factory.mktemp("aict-custom"), settings).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def client(server):
    clients: list[TerminalClient] = []

    def connect(token: str | None = None, **kwargs) -> TerminalClient:
        c = server.socket(token, **kwargs)
        clients.append(c)
        return c

    yield connect
    for c in clients:
        c.close()


@pytest.fixture
def workspace(server):
    return server.create_local_workspace()


@pytest.fixture
def connect():
    """connect(server, token=None, auto_ack=True, compress=False): an OrderedClient (every chunk and
    exit in order; with compress, an InflatingClient), closed at the end of the test."""
    pool = ClientPool()
    yield pool.connect
    pool.close()


@pytest.fixture
def redis_prefix():
    """A Redis key prefix of the test's own (tests/integration/shared.py), its keys deleted after."""
    yield from own_redis_prefix()
