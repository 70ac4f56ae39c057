"""Privilege separation of local shells, as a member of a shared local workspace sees it: the shell
runs as the shell account and reaches none of the server's secrets; each workspace has its own
home and history; a shell that could read the secrets is for admins only, and production starts
none as root."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import jwt
import pytest

from tests.integration.contract import assert_ack_error, assert_error, login_tokens, new_user, server_secret
from tests.server import SHELL_ACCOUNT, RunningServer

PROMPT_TIMEOUT = 20


def _member(server, workspace_id: str, access: str = "operator") -> tuple[str, str]:
    username, password = new_user(server)
    granted = server.api("POST", f"/api/workspaces/{workspace_id}/members", server.admin_token,
                         json={"username": username, "access": access})
    assert granted.status_code == 201, granted.text
    return username, login_tokens(server, username, password)["access_token"]


def _run(client, session_id: str, command: str, timeout: float = PROMPT_TIMEOUT) -> str:
    """Type `command`, wait for its end marker; the output after the typed line."""
    marker = secrets.token_hex(4)
    start = len(client.streams.get(session_id, b""))
    client.send(session_id, f"{command}; echo END-{marker}-$((6*7))\n")
    client.wait_for(session_id, f"END-{marker}-42", timeout)
    out = bytes(client.streams[session_id][start:]).decode("utf-8", "replace")
    end = out.index(f"END-{marker}-42")
    # Wait for the next prompt too: keys sent before readline is back are echoed by the tty, not read by it.
    deadline = time.monotonic() + timeout
    while not re.search(r"[$#] ", bytes(client.streams[session_id][start:]).decode("utf-8", "replace")[end:]):
        assert time.monotonic() < deadline, client.text(session_id)[-500:]
        time.sleep(0.02)
    return out[:end]


def _server_processes(server: RunningServer) -> list[int]:
    """The server's process and its children that run as root (a terminal host, gunicorn workers)."""
    pids = [server.proc.pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if ppid == server.proc.pid and entry.stat().st_uid == 0:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return pids


@pytest.fixture
def connect_to():
    """connect_to(server, token): a socket to any server, closed at the end of the test."""
    opened = []

    def connect(server: RunningServer, token: str):
        opened.append(server.socket(token))
        return opened[-1]

    yield connect
    for socket in opened:
        socket.close()


@pytest.fixture(scope="module")
def default_layout_server():
    """A server with the default layout: workspaces (and their homes) in <instance>/workspaces, the
    instance folder made by mkdtemp (0700) where any account may pass through /tmp to it."""
    instance = Path(tempfile.mkdtemp(prefix="aict-privilege-"))
    running = RunningServer(instance, {"AICT_WORKSPACE_ROOT": ""}).start()
    yield running
    running.stop()
    shutil.rmtree(instance, ignore_errors=True)


def test_a_members_shell_runs_as_the_shell_account_and_reads_no_secret(default_layout_server, client):
    server = default_layout_server
    workspace = server.create_local_workspace()
    assert workspace["runs_as"] == SHELL_ACCOUNT and workspace["admins_only"] is False, workspace
    assert workspace["path"].startswith(str(server.instance / "workspaces")), workspace
    _, token = _member(server, workspace["id"])
    terminal = server.socket(token)
    sid = terminal.create(workspace["id"], cols=200)
    assert _run(terminal, sid, "id -un").split()[-1] == SHELL_ACCOUNT

    instance = server.instance
    secret_paths = [instance / "secret_key", instance / "encryption_key", instance / "aict.db",
                    *(Path(f"/proc/{pid}/environ") for pid in _server_processes(server))]
    assert all(p.exists() for p in secret_paths), secret_paths
    probe = "; ".join(f'if cat {p} >/dev/null 2>&1; then echo "READ:{p}"; else echo "DENIED:{p}"; fi'
                      for p in secret_paths)
    out = _run(terminal, sid, probe + f'; ls {instance} >/dev/null 2>&1 || echo "UNLISTED:{instance}"')
    for path in secret_paths:
        assert f"DENIED:{path}\r\n" in out and f"READ:{path}\r\n" not in out, out
    assert f"UNLISTED:{instance}\r\n" in out, out
    # Nor can it talk to the terminal host that started it (the socket is the web processes' only).
    host_socket = instance / "host.sock"
    assert host_socket.exists()
    connect = (f"/usr/bin/python3 -c \"import socket; socket.socket(socket.AF_UNIX).connect('{host_socket}')\" "
               f"2>&1 | tail -1")
    assert "PermissionError" in _run(terminal, sid, connect)
    # Its own environment holds nothing of the server's.
    env = _run(terminal, sid, "env | sort")
    assert "AICT_" not in env.replace("env | sort", ""), env
    assert f"HOME={server.instance / 'workspaces' / '.homes' / workspace['id'] / SHELL_ACCOUNT}\r\n" in env, env
    terminal.close()


def test_a_member_cannot_forge_a_token_from_what_the_shell_reads(server, client):
    workspace = server.create_local_workspace()
    _, token = _member(server, workspace["id"])
    admin_claims = jwt.decode(server.admin_token, options={"verify_signature": False})
    blob = base64.b64encode(json.dumps(admin_claims).encode()).decode()
    candidates = [str(server.instance / name) for name in ("secret_key", "encryption_key", "config.py",
                                                             "aict.db", "server.log")]
    candidates.append(f"/proc/{server.proc.pid}/environ")
    # In the shell: sign the admin's claims with every key it can get hold of, and with none.
    script = (
        "import base64,hashlib,hmac,json\n"
        f"claims=json.loads(base64.b64decode('{blob}'))\n"
        "b=lambda d: base64.urlsafe_b64encode(d).rstrip(b'=').decode()\n"
        "h=b(json.dumps({'alg':'HS256','typ':'JWT'}).encode()); p=b(json.dumps(claims).encode())\n"
        "keys=[b'']\n"
        f"for f in {candidates!r}:\n"
        "    try: keys+=[line.strip() for line in open(f,'rb').read().replace(b'\\0',b'\\n').splitlines()]\n"
        "    except OSError: print('UNREADABLE '+f)\n"
        "for k in keys: print('FORGED='+h+'.'+p+'.'+b(hmac.new(k,(h+'.'+p).encode(),hashlib.sha256).digest()))\n")
    terminal = client(token)
    sid = terminal.create(workspace["id"], cols=1000)
    encoded = base64.b64encode(script.encode()).decode()
    out = _run(terminal, sid, f"echo {encoded} | base64 -d > /tmp/forge-$$.py && /usr/bin/python3 /tmp/forge-$$.py"
                              f"; rm -f /tmp/forge-$$.py")
    for path in candidates:
        assert f"UNREADABLE {path}\r\n" in out, out
    forged = re.findall(r"FORGED=([\w-]+\.[\w-]+\.[\w-]+)", out)
    assert forged, out
    for candidate in forged:
        assert server.api("GET", "/api/me", candidate).status_code == 401
    # The same claims signed with the key the shell could not read make an admin: the check can fail.
    real = jwt.encode(admin_claims, server_secret(server), algorithm="HS256")
    me = server.api("GET", "/api/me", real)
    assert me.status_code == 200 and me.json()["role"] == "admin", me.text


def _wait_after(client, session_id: str, start: int, needle: str, timeout: float = PROMPT_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while needle.encode() not in client.streams[session_id][start:]:
        assert time.monotonic() < deadline, client.text(session_id)[-500:]
        time.sleep(0.02)


def _history_lines(text: str, marker: str) -> list[str]:
    return re.findall(rf"^\s*\d+\s+echo {marker};", text, re.MULTILINE)


def test_each_workspace_has_its_own_history_that_carries_across_its_sessions(server, client):
    name = f"same-name-{secrets.token_hex(3)}"
    first, second = server.create_local_workspace(name=name), server.create_local_workspace(name=name)
    assert first["path"] != second["path"]
    _, token = _member(server, first["id"])
    granted = server.api("POST", f"/api/workspaces/{second['id']}/members", server.admin_token,
                         json={"username": server.api("GET", "/api/me", token).json()["username"],
                               "access": "operator"})
    assert granted.status_code == 201, granted.text
    terminal = client(token)
    marker = f"marker-{secrets.token_hex(4)}"
    pattern = "[m]" + marker[1:]  # matches the marker, not the line that searches for it

    one = terminal.create(first["id"])
    _run(terminal, one, f"echo {marker}")  # session 1 stays open: its history is written as it runs

    two = terminal.create(first["id"])
    terminal.wait_for(two, "$ ")
    start = len(terminal.streams[two])
    terminal.send(two, "!!\n")  # the last command of the workspace, typed in session 1
    terminal.wait_for(two, f"\r\n{marker}\r\n")
    assert bytes(terminal.streams[two][start:]).decode().count(f"echo {marker}") >= 1
    assert len(_history_lines(_run(terminal, two, f"history | grep 'echo {pattern}'"), marker)) >= 1
    start = len(terminal.streams[two])
    terminal.send(two, "\x12" + marker[:10])  # Ctrl+R finds it; Enter runs it again
    terminal.wait_for(two, "reverse-i-search")
    terminal.send(two, "\r")
    _wait_after(terminal, two, start, f"{marker}\r\nEND-")

    other = terminal.create(second["id"])
    assert _history_lines(_run(terminal, other, f"history | grep 'echo {pattern}'"), marker) == []
    terminal.send(other, "\x12" + marker[:10])
    terminal.wait_for(other, "failed reverse-i-search")
    terminal.send(other, "\x03")
    homes = {_run(terminal, sid, "echo HOME=$HOME HISTFILE=$HISTFILE").strip().splitlines()[-1]
             for sid in (one, other)}
    assert len(homes) == 2, homes


def test_a_shell_as_the_servers_own_account_is_for_admins_only(start_server, connect_to):
    server = start_server({"AICT_SHELL_ACCOUNT": ""})  # the server's own account: root here
    workspace = server.api("POST", "/api/workspaces", server.admin_token,
                           json={"name": "mine", "kind": "local", "shell_account": SHELL_ACCOUNT}).json()
    assert workspace["shell_account"] == SHELL_ACCOUNT and workspace["admins_only"] is False, workspace
    member, token = _member(server, workspace["id"])  # a member while it had an account of its own
    # The admin takes the account away: its shells run as the server's account, root.
    patched = server.api("PATCH", f"/api/workspaces/{workspace['id']}", server.admin_token,
                         json={"shell_account": None})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["shell_account"] is None and body["runs_as"] == "root" and body["admins_only"] is True, body
    assert "only administrators" in body["shell_note"], body
    # The member sees it before trying, and is refused with the reason.
    seen = server.api("GET", f"/api/workspaces/{workspace['id']}", token).json()
    assert seen["admins_only"] is True and seen["shell_note"] == body["shell_note"], seen
    member_socket = connect_to(server, token)
    refused = assert_ack_error(member_socket.call("create-terminal", {"workspaceId": workspace["id"]}),
                               "no_shell_account")
    assert "root" in refused["message"] and "only administrators" in refused["message"], refused

    admin_socket = connect_to(server, server.admin_token)
    sid = admin_socket.create(workspace["id"])
    assert _run(admin_socket, sid, "id -un").split()[-1] == "root"
    assert_ack_error(member_socket.call("attach-terminal", {"sessionId": sid}), "no_shell_account")
    other, _ = new_user(server)
    error = assert_error(server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                                    json={"username": other, "access": "viewer"}), 403, "no_shell_account")
    assert other in error["message"] and "only administrators" in error["message"], error


def test_only_admins_assign_shell_accounts_and_only_existing_ones(permissive_server, server):
    _, owner = login_tokens_for_new_user(permissive_server)
    workspace = permissive_server.create_local_workspace(owner)
    assert workspace["shell_account"] is None and workspace["runs_as"] == SHELL_ACCOUNT, workspace
    assert_error(permissive_server.api("PATCH", f"/api/workspaces/{workspace['id']}", owner,
                                       json={"shell_account": "root"}), 403, "forbidden")
    assert_error(permissive_server.api("POST", "/api/workspaces", owner,
                                       json={"name": "x", "kind": "local", "shell_account": "root"}),
                 403, "forbidden")
    missing = f"nobody-{secrets.token_hex(3)}"
    error = assert_error(server.api("POST", "/api/workspaces", server.admin_token,
                                    json={"name": "x", "kind": "local", "shell_account": missing}),
                         400, "bad_request")
    assert missing in error["message"], error
    created = server.api("POST", "/api/workspaces", server.admin_token,
                         json={"name": "x", "kind": "local", "shell_account": SHELL_ACCOUNT})
    assert created.status_code == 201 and created.json()["shell_account"] == SHELL_ACCOUNT, created.text
    fetched = server.api("GET", f"/api/workspaces/{created.json()['id']}", server.admin_token).json()
    assert fetched == created.json()


def login_tokens_for_new_user(server) -> tuple[str, str]:
    username, password = new_user(server)
    return username, login_tokens(server, username, password)["access_token"]


PRODUCTION = {"AICT_ENV": "production", "AICT_TEST_HOOKS": "0", "AICT_METRICS_TOKEN": secrets.token_urlsafe(24),
              "AICT_SECRET_KEY": secrets.token_urlsafe(40),
              "AICT_ENCRYPTION_KEY": "x8N7m3bQ0fP7bVxqkq1t6V1Hq0ZlOaHbL1W6N9y3Zq0="}


def test_production_refuses_a_shell_as_root(tmp_path_factory, client):
    with pytest.raises(RuntimeError) as refused:
        RunningServer(tmp_path_factory.mktemp("aict-prod-root"), {**PRODUCTION, "AICT_SHELL_ACCOUNT": "root"}).start()
    assert "AICT_SHELL_ACCOUNT is root: production starts no shell as root" in str(refused.value)

    # A workspace assigned root in development: in production its shells do not start, not even an admin's.
    instance = tmp_path_factory.mktemp("aict-prod-workspace")
    development = RunningServer(instance, {"AICT_ENCRYPTION_KEY": PRODUCTION["AICT_ENCRYPTION_KEY"],
                                           "AICT_SECRET_KEY": PRODUCTION["AICT_SECRET_KEY"]}).start()
    try:
        workspace = development.api("POST", "/api/workspaces", development.admin_token,
                                    json={"name": "as-root", "kind": "local", "shell_account": "root"}).json()
        assert workspace["shell_account"] == "root" and workspace["admins_only"] is True, workspace
    finally:
        development.stop()
    production = RunningServer(instance, PRODUCTION)
    production.admin_password = development.admin_password
    production.env["AICT_ADMIN_PASSWORD"] = development.admin_password
    production.start()
    try:
        shown = production.api("GET", f"/api/workspaces/{workspace['id']}", production.admin_token).json()
        assert "production" in shown["shell_note"], shown
        socket = production.socket()
        try:
            error = assert_ack_error(socket.call("create-terminal", {"workspaceId": workspace["id"]}),
                                     "no_shell_account")
        finally:
            socket.close()
        assert "production" in error["message"] and "root" in error["message"], error
        assert_error(production.api("PATCH", f"/api/workspaces/{workspace['id']}", production.admin_token,
                                    json={"shell_account": "root"}), 403, "no_shell_account")
    finally:
        production.stop()


def test_the_kernel_keeps_a_root_process_environment_from_another_account(server):
    """What the shells rely on: /proc/<pid>/environ of another uid's process is unreadable."""
    import pwd
    import subprocess

    account = pwd.getpwnam(SHELL_ACCOUNT)
    done = subprocess.run(["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups",
                           "cat", f"/proc/{server.proc.pid}/environ"], capture_output=True, text=True)
    assert done.returncode != 0 and "Permission denied" in done.stderr, (done.returncode, done.stderr)
    assert "AICT_ADMIN_PASSWORD" in Path(f"/proc/{server.proc.pid}/environ").read_bytes().decode(errors="replace")
    assert os.geteuid() == 0
