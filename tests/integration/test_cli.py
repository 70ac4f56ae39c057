"""The `flask aict` commands an operator runs beside a live server: users made and passwords reset."""

import secrets
import subprocess

import pytest

from tests.integration.contract import assert_error, audit_events


def _flask_fails(server, *args: str) -> str:
    with pytest.raises(subprocess.CalledProcessError) as failed:
        server.flask(*args)
    return failed.value.stderr


def test_create_user_then_set_password_take_effect_on_the_running_server(server):
    username = f"cli{secrets.token_hex(4)}"
    made = server.flask("aict", "create-user", username, "--password", "first-password")
    assert f"Created user {username}." in made.stdout
    before = server.api("POST", "/api/auth/login", json={"username": username, "password": "first-password"}).json()

    changed = server.flask("aict", "set-password", username, "--password", "second-password")
    assert f"Password of {username} changed; every login of theirs has ended." in changed.stdout
    assert server.login(username, "second-password")
    # The logins made with the old password end with it: access and refresh tokens alike.
    assert_error(server.api("GET", "/api/me", before["access_token"]), 401, "token_revoked")
    assert_error(server.api("POST", "/api/auth/refresh", before["refresh_token"]), 401, "token_revoked")
    assert {"user": username, "source": "cli"} in [e["detail"] for e in audit_events(server, "password_change")]
    created = [e["detail"] for e in audit_events(server, "user_create")]
    assert {"user": username, "role": "user", "source": "cli"} in created
    refused = server.api("POST", "/api/auth/login", json={"username": username, "password": "first-password"})
    assert_error(refused, 401, "invalid_credentials")


def test_the_commands_say_what_is_wrong(server):
    assert "No user named nobody-here." in _flask_fails(server, "aict", "set-password", "nobody-here",
                                                        "--password", "whatever-123")
    assert "already exists" in _flask_fails(server, "aict", "create-user", server.admin_username,
                                            "--password", "whatever-123")
    assert "at least 8 characters" in _flask_fails(server, "aict", "create-user", "shorty", "--password", "short")


def test_a_port_in_use_is_said_in_a_sentence_and_nothing_is_left_running(tmp_path):
    import socket as sockets

    from tests.server import RunningServer

    with sockets.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        server = RunningServer(tmp_path / "instance", {"AICT_PORT": str(port)})
        server.instance.mkdir(parents=True)
        done = subprocess.run(server.command(), cwd=server.root, env=server.env, capture_output=True, text=True,
                              timeout=60)
    assert done.returncode == 1
    assert f"aict cannot listen on 127.0.0.1:{port}: another program uses that port" in done.stderr
    assert f"AICT_PORT={port + 10} make run" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
