"""Command history of SSH terminals: the lines typed and echoed back, marked capture "typed"; a secret
typed at a prompt that does not echo (`read -s`) is never recorded."""

from __future__ import annotations

import secrets

import pytest

from tests.integration.contract import wait_until
from tests.integration.test_history import MARKS, history, run

pytestmark = pytest.mark.ssh


def test_a_typed_command_is_recorded_and_a_secret_typed_without_echo_is_not(server, client, ssh_workspace):
    c = client()
    session_id = c.create(ssh_workspace["id"])
    tag = secrets.token_hex(4)
    secret = f"hunter-{secrets.token_hex(6)}"
    for key in f"echo typed-{tag}":  # key by key, as a person types
        c.send(session_id, key)
    run(c, session_id, "")
    c.send(session_id, f"read -r -s -p 'Password-{tag}: ' PW\n")
    c.wait_for(session_id, f"Password-{tag}: ")
    c.send(session_id, secret + "\r")
    run(c, session_id, f"echo length-${{#PW}}-{tag}")
    c.wait_for(session_id, f"length-{len(secret)}-{tag}")
    c.send(session_id, f"echo edXY\x7f\x7fited-{tag}\r")  # backspace: what ran is "echo edited-..."
    run(c, session_id, f"echo not-this-{tag}\x1b[D\x1b[C # with cursor keys")
    # Typed ahead: the second line sent before the first one's echo can have come back
    c.send(session_id, f"echo ahead-1-{tag}\recho ahead-2-{tag}\r")
    c.wait_for(session_id, f"ahead-2-{tag}\r\n")

    def typed() -> list[dict]:
        return [item for item in history(server, ssh_workspace["id"]) if tag in item["command"]]

    wait_until(lambda: len(typed()) >= 6, message="the typed commands in the history",
               seen=lambda: [(item["command"], item["capture"]) for item in typed()])
    items = typed()
    commands = [item["command"] for item in items]
    assert f"echo typed-{tag}" in commands
    assert f"read -r -s -p 'Password-{tag}: ' PW" in commands
    assert f"echo edited-{tag}" in commands and f"echo length-${{#PW}}-{tag}" in commands
    assert f"echo ahead-1-{tag}" in commands and f"echo ahead-2-{tag}" in commands
    assert not any("not-this" in command for command in commands)  # cursor keys: given up on
    assert all(item["capture"] == "typed" and "exit_code" not in item and item["cwd"] is None for item in items)
    everything = server.api("GET", "/api/audit", server.admin_token, params={"type": "command"}).text
    assert secret not in str(history(server, ssh_workspace["id"], limit=1000)) and secret not in everything
    assert not any(mark in bytes(c.streams[session_id]) for mark in MARKS)


def test_marks_a_remote_shell_prints_are_stripped_and_record_nothing(server, client, ssh_workspace):
    c = client()
    session_id = c.create(ssh_workspace["id"])
    tag = secrets.token_hex(4)
    run(c, session_id, f"printf '\\033]633;E;x;remote-{tag};/\\007\\033]133;D;0\\007'; echo after-{tag}")
    c.wait_for(session_id, f"after-{tag}")
    assert not any(mark in bytes(c.streams[session_id]) for mark in MARKS)
    assert [i for i in history(server, ssh_workspace["id"]) if i["command"] == f"remote-{tag}"] == []
