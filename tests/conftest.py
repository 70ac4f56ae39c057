import os

import pytest

from tests.cluster import ClusterServer
from tests.integration.shared import own_redis_prefix
from tests.integration.streams import ClientPool
from tests.server import RunningServer, TerminalClient

# Under pytest-xdist (make test: -n N --dist loadscope) every worker has its own session fixtures
# (server, sshd, browser), ports, temporary folders and PostgreSQL database; a module's tests run on
# one worker in their order, so a module-scoped fixture starts once, as without xdist.


CLUSTER = os.environ.get("AICT_TEST_CLUSTER") == "1"

# Whole modules go to the workers in this order (the Makefile's --no-loadscope-reorder; xdist's own
# order, most tests first, put few but long modules last): the longest first, so that the run does
# not end waiting on one long module handed out at the end. The modules that took 70 s or more in a
# run of the main pass (their tests' time, setup included), longest first (the 300 MB flood, one
# test, before all); modules not named follow in their own order.
LONGEST_MODULES = [
    "integration/test_recording_flood.py", "integration/test_audit_log.py", "integration/test_postgres.py",
    "integration/test_shared_state.py", "browser/test_login_tokens.py", "browser/test_terminal_sessions.py",
    "browser/test_terminal_page.py", "browser/test_accounts.py", "browser/test_review_pages.py",
    "integration/test_gunicorn.py", "integration/test_privilege.py", "integration/test_workspace_watch.py",
    "integration/test_cluster.py", "integration/test_totp.py", "ssh/test_ssh_access.py",
    "integration/test_terminal_host.py", "integration/test_user_admin.py", "integration/test_recording_retention.py",
    "integration/test_socket_token_expiry.py", "integration/test_cli.py", "integration/test_stream_reattach.py",
    "integration/test_authz_matrix.py", "integration/test_deploy_docs.py", "browser/test_workspaces_page.py",
    "browser/test_session_list.py", "integration/test_http_limits.py", "integration/test_history.py",
    "integration/test_metrics.py", "integration/test_files.py", "integration/test_bad_input.py",
    "integration/test_auth.py", "ssh/test_shared_host_keys.py", "integration/test_login_lockout.py",
    "integration/test_host_restart.py", "browser/test_terminal_panes.py", "integration/test_nodes.py",
    "browser/test_terminal_rendering.py", "integration/test_workspaces.py", "ssh/test_ssh_secrets.py",
    "integration/test_revocation_across_nodes.py", "browser/test_terminal_compression.py",
    "integration/test_file_modes.py", "browser/test_cluster_page.py", "integration/test_sessions_http.py",
    "browser/test_terminal_settings.py",
]


def pytest_collection_modifyitems(config, items):
    rank = {f"tests/{name}": n for n, name in enumerate(LONGEST_MODULES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: in-module order kept
    if CLUSTER:
        # Only tests on the shared `server` meet the cluster; the others start servers of their own,
        # the same as in the main pass, and ran there already.
        own = [item for item in items if "server" not in item.fixturenames]
        config.hook.pytest_deselected(items=own)
        items[:] = [item for item in items if "server" in item.fixturenames]


# A failing test shows the end of each log of the servers and hosts it used: a race seen once in CI
# is then explained by the run that saw it, not only by a rerun that may not.
LOG_LINES_ON_FAILURE = 60


def _processes_in(value, depth: int = 0):
    if hasattr(value, "log_path"):
        yield value
    elif callable(value) and isinstance(getattr(value, "started", None), list):  # a factory fixture
        yield from _processes_in(value.started, depth + 1)
    elif isinstance(value, (tuple, list)) and depth < 2:
        for item in value:
            yield from _processes_in(item, depth + 1)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and call.when == "call":
        seen = set()
        for value in getattr(item, "funcargs", {}).values():
            for process in _processes_in(value):
                path = process.log_path
                if path in seen or not path.exists():
                    continue
                seen.add(path)
                lines = [line for line in path.read_text(errors="replace").splitlines()
                         if " /socket.io/" not in line]  # engineio's polling requests say nothing here
                report.sections.append((f"log {path.name} (last {LOG_LINES_ON_FAILURE} lines)",
                                        "\n".join(lines[-LOG_LINES_ON_FAILURE:])))
    return report


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One real server for the whole run (tests that need other settings start their own)."""
    # The whole suite logs in from 127.0.0.1: the per-IP request limit on /api/auth/login (default
    # 30 a minute) would throttle unrelated tests. Failure throttling keeps its defaults.
    # AICT_TEST_CLUSTER=1 (make test's last run): the production shape instead, `make cluster` with
    # nginx in front of two web processes, the terminal host and Redis: the contract through nginx.
    kind = ClusterServer if CLUSTER else RunningServer
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

    start.started = started  # their logs show when the test fails
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
