import pytest

from tests.server import RunningServer


@pytest.fixture(scope="session")
def user_workspace_server(tmp_path_factory):
    """A server where non-admins may create local workspaces under the workspace root (so own them)."""
    running = RunningServer(tmp_path_factory.mktemp("aict-userws"),
                            {"AICT_USER_LOCAL_WORKSPACES": "1", "AICT_LOGIN_RATE": "10000 per minute"}).start()
    yield running
    running.stop()
