"""A real aict server in a child process, on an ephemeral port, with its own instance folder."""

from __future__ import annotations

import fcntl
import hashlib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import engineio
import engineio.payload
import pytest
import requests
import socketio

from aict.db_pool import HOLD_WARNING

ROOT = Path(__file__).resolve().parent.parent
# AICT_TEST_FAST_PATHS=0 runs every test server on the libraries' own transport (FAST_PATHS off);
# unset, servers run the default. Like every AICT_* variable, it is not passed on as it is.
FAST_PATHS = os.environ.get("AICT_TEST_FAST_PATHS")
FAST_PATHS_ON = FAST_PATHS is None or FAST_PATHS.strip().lower() in ("1", "true", "yes", "on")


# The OS account test servers run local shells as (AICT_SHELL_ACCOUNT): a real account of its own,
# as production needs, so that members may type in local shells (a shell as the server's own
# account, root here, is for admins only). Made once with useradd; the suite runs as root.
SHELL_ACCOUNT = "aict-shell"
_shell_account_ready = False


@contextmanager
def accounts_lock():
    """Held while a test changes the machine's accounts: useradd and chpasswd fail ("cannot lock
    /etc/passwd") rather than wait when another process (an xdist worker, another run) holds the files."""
    with open(Path(tempfile.gettempdir()) / "aict-test-accounts.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_shell_account(name: str = SHELL_ACCOUNT) -> str:
    """The account, created unless it exists (idempotent, also across concurrent runs)."""
    global _shell_account_ready
    if not _shell_account_ready:
        with accounts_lock():
            if name not in {entry.pw_name for entry in pwd.getpwall()}:
                done = subprocess.run(["useradd", "--system", "--user-group", "--shell", "/bin/bash",
                                       "--home-dir", "/nonexistent", "--no-create-home", name],
                                      capture_output=True, text=True)
                if done.returncode not in (0, 9):  # 9: made meanwhile by a run that does not lock
                    raise RuntimeError(f"useradd {name} failed: {done.stderr}")
        _shell_account_ready = True
    return name


def passable_workspace_root(instance: Path) -> Path:
    """Where a test server's workspaces live when its shells run as the shell account: out of pytest's
    temporary folders (pytest keeps its base 0700, tightened again by every run), one per instance,
    passable by the account like a real server's workspace root. Roots unused for two days go."""
    base = Path(tempfile.gettempdir()) / "aict-test-workspaces"
    base.mkdir(mode=0o711, exist_ok=True)
    for old in base.iterdir():
        try:
            if time.time() - old.stat().st_mtime > 2 * 86400:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    return base / hashlib.sha256(str(instance.resolve()).encode()).hexdigest()[:16]


TOKEN_RENEW_SECONDS = 300  # access tokens last ACCESS_TOKEN_MINUTES (15 by default)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningServer:
    admin_username = "admin"

    def __init__(self, instance: Path, settings: dict[str, str] | None = None, root: Path = ROOT,
                 log_name: str = "server.log"):
        self.instance = instance
        self.root = root  # the source tree served (bench.paired compares checkouts)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_password = secrets.token_urlsafe(12)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AICT_")}
        self.env.update(AICT_INSTANCE_DIR=str(instance), AICT_PORT=str(self.port), AICT_HOST="127.0.0.1",
                        AICT_ADMIN_USER=self.admin_username, AICT_ADMIN_PASSWORD=self.admin_password,
                        AICT_ENV="development", PYTHONUNBUFFERED="1",
                        # The account's login scripts are not ours to test, and may be slow or hang
                        # (a stale pyenv rehash lock makes every `bash -l` wait 60 s).
                        AICT_SHELL_ARGS='["--noprofile", "--norc"]',
                        # The shared server outlives hundreds of tests whose terminals keep running.
                        AICT_MAX_SESSIONS_PER_USER="10000",
                        # The terminal page hands its terminal to the browser tests (window.aictTest).
                        AICT_TEST_HOOKS="1",
                        # A run logs in and makes users thousands of times: scrypt at ~1 ms, not ~160
                        # (test_auth's throttle server keeps the real cost and checks what it stores).
                        AICT_TEST_CHEAP_PASSWORD_HASHES="1",
                        # Servers of one run share a database now and then: each is a node of its own.
                        AICT_NODE=f"test-{self.port}")
        if os.geteuid() == 0:  # shells run as an account of their own, like production
            self.env["AICT_SHELL_ACCOUNT"] = ensure_shell_account()
            self.env["AICT_WORKSPACE_ROOT"] = str(passable_workspace_root(instance))
        if FAST_PATHS is not None:  # the transport this run tests (Makefile: the contract on both paths)
            self.env["AICT_FAST_PATHS"] = FAST_PATHS
        self.env.update(settings or {})
        if self.env.get("AICT_ENV") == "production":  # production refuses cheap hashes: it gets the real cost
            self.env.pop("AICT_TEST_CHEAP_PASSWORD_HASHES", None)
        self.log_path = instance / log_name
        self.proc: subprocess.Popen | None = None
        self._tokens: dict[str, tuple[str, float]] = {}

    @property
    def workspace_root(self) -> Path:
        """Where the server makes local workspaces' directories (AICT_WORKSPACE_ROOT or its default)."""
        return Path(self.env.get("AICT_WORKSPACE_ROOT") or self.instance / "workspaces")

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, check=True, timeout=120)

    def command(self) -> list[str]:
        # --setup migrates and creates the admin in the serving process: one interpreter start, not three.
        return [sys.executable, "wsgi.py", "--setup"]

    def start(self) -> RunningServer:
        self.instance.mkdir(parents=True, exist_ok=True)
        # noqa: SIM115 -- the child writes to it for its whole life; the server's alone, like its files
        log = os.fdopen(os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
        self.proc = subprocess.Popen(self.command(), cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180  # a deadline against a hang: on a starved machine a start takes a minute
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except (requests.ConnectionError, requests.Timeout):  # gunicorn accepts before its worker is up
                time.sleep(0.1)
        # Stopped, not left behind: no fixture holds it yet, and a server left running (with its
        # terminal host) would slow every later test on a machine already too slow for this one.
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        raise RuntimeError(f"server did not come up:\n{self.log_path.read_text()}")

    def wait_for_host(self, timeout: float = 60) -> RunningServer:
        """Until the web process is linked to its terminal host (it serves before: requests that need
        a terminal wait). For tests whose clock starts with their first terminal."""
        deadline = time.monotonic() + timeout
        while requests.get(self.url + "/healthz", timeout=5).json().get("terminalHost") != "ok":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.url}: no terminal host after {timeout} s:\n{self.log_path.read_text()}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Stop the server; fails if it ever held a database connection across a wait (aict.db_pool):
        every test's server checks what no single test asserts."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if not self.log_path.exists():  # never started
            return
        records = re.split(r"\n(?=\d{4}-\d\d-\d\d )", self.log_path.read_text(errors="replace"))
        held = [record for record in records if HOLD_WARNING in record]
        assert not held, f"{self.url} {HOLD_WARNING} across a wait ({len(held)}x); the first:\n{held[0]}"

    # ---- HTTP helpers ---------------------------------------------------------------------
    def api(self, method: str, path: str, token: str | None = None, json=None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.url + path, json=json, headers=headers, timeout=30, **kwargs)

    def login(self, username: str | None = None, password: str | None = None) -> str:
        username = username or self.admin_username
        response = self.api("POST", "/api/auth/login",
                            json={"username": username, "password": password or self.admin_password})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    @property
    def admin_token(self) -> str:
        """The admin's access token, renewed before it expires (the shared server outlives the
        default 15 minutes of a token)."""
        token, made = self._tokens.get("admin", ("", None))
        # No token yet is `made is None`, not "made at 0": monotonic time starts at boot, so on a machine
        # up for less than TOKEN_RENEW_SECONDS a zero would pass for a fresh token.
        if made is None or time.monotonic() - made > TOKEN_RENEW_SECONDS:
            token = self.login()
            self._tokens["admin"] = (token, time.monotonic())
        return token

    def create_user(self, username: str | None = None, password: str = "password-123",
                    role: str = "user") -> tuple[str, str]:
        """Create a user as admin; returns (username, access token)."""
        username = username or f"user{secrets.token_hex(4)}"
        response = self.api("POST", "/api/users", self.admin_token,
                            json={"username": username, "password": password, "role": role})
        assert response.status_code == 201, response.text
        return username, self.login(username, password)

    def create_local_workspace(self, token: str | None = None, name: str | None = None) -> dict:
        response = self.api("POST", "/api/workspaces", token or self.admin_token,
                            json={"name": name or f"ws-{secrets.token_hex(4)}", "kind": "local"})
        assert response.status_code == 201, response.text
        return response.json()

    # ---- sockets --------------------------------------------------------------------------
    def socket(self, token: str | None = None, **connect_kwargs) -> TerminalClient:
        client = TerminalClient()
        client.connect(self.url, token or self.admin_token, **connect_kwargs)
        return client


class HostProcess:
    """A terminal host on its own (`python host.py`), for web processes started with AICT_HOST_CHILD=0."""

    def __init__(self, instance: Path, env: dict[str, str], root: Path = ROOT, log_name: str = "host.log"):
        self.instance, self.env, self.root = instance, dict(env), root
        self.log_path = instance / log_name
        self.socket_path = Path(env.get("AICT_TERMINAL_HOST") or instance / "host.sock")
        self.proc: subprocess.Popen | None = None

    def start(self) -> HostProcess:
        self.instance.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 -- the child writes to it for its whole life
        before, started = log.tell(), time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "host.py"], cwd=self.root, env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT)
        while time.monotonic() - started < 60:
            if self.proc.poll() is not None:
                raise RuntimeError(f"host exited early:\n{self.log_path.read_text()}")
            if b"terminal host of node" in self.log_path.read_bytes()[before:] and self.socket_path.exists():
                return self
            time.sleep(0.05)
        raise RuntimeError(f"host did not come up:\n{self.log_path.read_text()}")

    def stop(self, sig: int = 15) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None


# The test clients' own engineio decodes polling responses with the same 16-packet limit as the
# server had (aict/realtime/__init__.py): answers to a burst come back in one response.
engineio.payload.Payload.max_decode_packets = 4096


class _InOrderEngineIOClient(engineio.Client):
    """python-engineio hands every received message to a new thread, so a binary event's header and
    its attachment can be decoded out of order under load: the chunk is dropped (ValueError in a
    thread) or its data lands on the next chunk's offset. Handle messages on the reading thread."""

    def _trigger_event(self, event, *args, **kwargs):
        # A server's DISCONNECT packet ("1") stays on a thread of its own: handling it joins the
        # reading thread (RuntimeError: cannot join current thread, and the client half closed).
        if event == "message" and not (args and isinstance(args[0], str) and args[0][:1] == "1"):
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class InOrderClient(socketio.Client):
    """socketio.Client that decodes messages in arrival order (handlers must not block on call())."""

    def _engineio_client_class(self):
        return _InOrderEngineIOClient


class TerminalClient:
    """A python-socketio client that reassembles each session's stream by offset."""

    def __init__(self, auto_ack: bool = True):
        self.sio = InOrderClient(reconnection=False, websocket_extra_options={"skip_utf8_validation": True})
        self.auto_ack = auto_ack
        self.streams: dict[str, bytearray] = {}
        self.stream_base: dict[str, int] = {}  # offset of each stream's first received byte
        self.chunks: dict[str, list[tuple[int, int]]] = {}
        self.exits: dict[str, dict] = {}
        self.resized: list[dict] = []
        self.errors: list[dict] = []
        self.sio.on("terminal-output", self._on_output)
        self.sio.on("terminal-exit", lambda m: self.exits.__setitem__(m["sessionId"], m))
        self.sio.on("terminal-resized", self.resized.append)
        self.sio.on("error", self.errors.append)

    def connect(self, url: str, token: str, headers: dict | None = None, transports=None) -> None:
        # AICT_TEST_TRANSPORT=polling runs the contract over long-polling (make test, through nginx)
        transports = transports or (os.environ.get("AICT_TEST_TRANSPORT", "websocket"),)
        self.sio.connect(url, auth={"token": token}, headers=headers or {}, transports=list(transports),
                         wait_timeout=10)

    def _on_output(self, message: dict) -> None:
        sid, offset, data = message["sessionId"], message["offset"], message["data"]
        self.chunks.setdefault(sid, []).append((offset, len(data)))
        stream = self.streams.setdefault(sid, bytearray())
        base = self.stream_base.setdefault(sid, offset)
        stream[offset - base:] = data
        if self.auto_ack:
            self.ack(sid, offset + len(data))

    def ack(self, session_id: str, offset: int) -> None:
        self.sio.emit("terminal-ack", {"sessionId": session_id, "offset": offset})

    def call(self, event: str, payload=None, timeout: float = 15) -> dict:
        return self.sio.call(event, payload, timeout=timeout)

    def create(self, workspace_id: str, cols: int = 80, rows: int = 24) -> str:
        answer = self.call("create-terminal", {"workspaceId": workspace_id, "cols": cols, "rows": rows})
        assert answer["ok"], answer
        return answer["sessionId"]

    def send(self, session_id: str, data: str | bytes) -> dict:
        return self.call("terminal-input", {"sessionId": session_id, "data": data})

    def text(self, session_id: str) -> str:
        return bytes(self.streams.get(session_id, b"")).decode("utf-8", "replace")

    def wait_for(self, session_id: str, needle: str | bytes, timeout: float = 15) -> None:
        needle_bytes = needle.encode() if isinstance(needle, str) else needle
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle_bytes in self.streams.get(session_id, b""):
                return
            time.sleep(0.02)
        raise AssertionError(f"{needle!r} not seen; got tail {self.text(session_id)[-500:]!r}")

    def wait_exit(self, session_id: str, timeout: float = 15) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if session_id in self.exits:
                return self.exits[session_id]
            time.sleep(0.02)
        raise AssertionError(f"session {session_id} did not exit")

    def close(self) -> None:
        self.sio.disconnect()


@pytest.fixture(scope="module", name="server")
def own_server_failing_logins(tmp_path_factory):
    """A module's own server, for tests that fail logins on purpose: on the shared server they
    would add up to the per-IP block (20 failures from 127.0.0.1) and lock the rest of the suite
    out. A module takes it as its `server` with `server = own_server_failing_logins`."""
    running = RunningServer(tmp_path_factory.mktemp("aict-accounts"), {
        "AICT_LOGIN_RATE": "10000 per minute", "AICT_LOGIN_IP_FAILURES": "100000"}).start()
    yield running
    running.stop()
