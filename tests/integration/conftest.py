import socket

import pytest

from tests.integration.contract import EXTRA_ORIGIN
from tests.integration.databases import ensure_database, postgres_dsn
from tests.server import RunningServer


@pytest.fixture(scope="session")
def permissive_server(tmp_path_factory):
    """The non-default, more permissive settings in one server (each test touches only one of them):
    non-admins may create local workspaces under the root (so own workspaces), one extra browser
    origin is allowed, and one reverse proxy's X-Forwarded-* headers are trusted."""
    running = RunningServer(tmp_path_factory.mktemp("aict-permissive"), {
        "AICT_USER_LOCAL_WORKSPACES": "1", "AICT_ALLOWED_ORIGINS": EXTRA_ORIGIN, "AICT_TRUSTED_PROXIES": "1",
        "AICT_LOGIN_RATE": "10000 per minute"}).start()
    yield running
    running.stop()


@pytest.fixture
def postgres_url():
    """The real PostgreSQL's test database (127.0.0.1:5432, trust auth; postgres_dsn()), emptied; its
    AICT_DATABASE_URL."""
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", 5432)) != 0:
            pytest.fail("no PostgreSQL on 127.0.0.1:5432: the suite runs against the real service")
    import psycopg

    dsn = postgres_dsn()
    ensure_database(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")  # a run stopped midway may have left none
        conn.execute("CREATE SCHEMA public")
    return dsn.replace("postgresql://", "postgresql+psycopg://", 1)
