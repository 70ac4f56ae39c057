import pytest

from tests.integration.contract import EXTRA_ORIGIN
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
