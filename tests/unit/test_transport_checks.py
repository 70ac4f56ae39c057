"""The transport's start-up check: a library version the patches were not written for, or anything
they replace in another shape, refuses to start and says what to do; FAST_PATHS off checks no version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import engineio.socket
import pytest
import socketio
from flask import Flask
from flask_socketio import SocketIO

from aict.realtime import transport
from aict.realtime.transport import TransportMismatch, versions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app():
    """A Flask app with its own Flask-SocketIO, as create_app() sets it up (not the shared one)."""
    app = Flask("probe")
    SocketIO(app, async_mode="gevent")
    return app


@pytest.fixture
def newer_engineio(monkeypatch):
    real = versions.installed
    monkeypatch.setattr(versions, "installed", lambda package: "4.16.0" if package == "python-engineio"
                        else real(package))


def test_the_installed_libraries_are_those_the_patches_were_written_for(app):
    # Fails when requirements.txt moves a version on and KNOWN_GOOD does not follow (read the patches first).
    transport.check(app, fast_paths=True)


def test_another_version_refuses_naming_the_package_both_versions_and_the_switch(app, newer_engineio):
    with pytest.raises(TransportMismatch) as refused:
        transport.check(app, fast_paths=True)
    message = str(refused.value)
    assert "python-engineio 4.16.0 is installed; the patches were written for python-engineio 4.15.1" in message
    assert "FAST_PATHS = False" in message and "AICT_FAST_PATHS=0" in message
    assert message.count("\n  - ") == 1  # only what differs


def test_with_fast_paths_off_no_version_is_checked(app, monkeypatch):
    monkeypatch.setattr(versions, "installed", lambda package: "0.0.1")
    transport.check(app, fast_paths=False)


def test_a_replaced_method_of_another_shape_refuses(app, monkeypatch):
    monkeypatch.setattr(engineio.socket.Socket, "poll", lambda self, timeout: [])
    with pytest.raises(TransportMismatch, match=r"engineio\.socket\.Socket\.poll takes \(self, timeout\), "
                                                r"expected \(self\)"):
        transport.check(app, fast_paths=True)
    transport.check(app, fast_paths=False)  # a fast path's: not used with FAST_PATHS off


def test_the_contracts_own_overrides_are_checked_with_fast_paths_off_too(app, monkeypatch):
    # ContractServer answers reserved and unknown events: if python-socketio stopped calling what it
    # overrides, those would silently reach the handlers again, so no setting starts without it.
    monkeypatch.setattr(socketio.Server, "_handle_event", lambda self, eio_sid, namespace, id, data, extra: None)
    with pytest.raises(TransportMismatch, match="(?s)_handle_event takes .* run with FAST_PATHS off too"):
        transport.check(app, fast_paths=False)


def test_the_message_queue_is_checked_when_there_is_one(monkeypatch):
    # RedisQueue carries aict's notices (logouts, memberships) by reading the manager's _listen: if
    # python-socketio stopped calling it so, other processes would hear of nothing.
    from aict.realtime.transport.message_queue import RedisQueue

    queued = Flask("queued")
    SocketIO(queued, async_mode="gevent", client_manager=RedisQueue("redis://127.0.0.1:6379/0", "probe"))
    transport.check(queued, fast_paths=False)
    monkeypatch.setattr(socketio.RedisManager, "_listen", lambda self, channel: iter(()))
    with pytest.raises(TransportMismatch, match=r"RedisManager\._listen takes \(self, channel\)"):
        transport.check(queued, fast_paths=False)
    plain = Flask("plain")
    SocketIO(plain, async_mode="gevent")
    transport.check(plain, fast_paths=False)  # no queue: nothing of it to check


def _start(code: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AICT_")}
    environ.update(env)
    prelude = "from gevent import monkey; monkey.patch_all()\nimport importlib.metadata as m\n"
    return subprocess.run([sys.executable, "-c", prelude + code], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=60)


NEWER_ENGINEIO = ("real = m.version\nm.version = lambda p: '4.16.0' if p == 'python-engineio' else real(p)\n"
                  "from aict import create_app\n")


def test_the_server_refuses_to_start_on_another_version(tmp_path):
    started = _start(NEWER_ENGINEIO + "create_app()", AICT_INSTANCE_DIR=str(tmp_path))
    assert started.returncode != 0
    assert "TransportMismatch: aict's transport patches do not fit the installed libraries" in started.stderr
    assert "python-engineio 4.16.0 is installed" in started.stderr


def test_with_fast_paths_off_it_starts_and_patches_nothing(tmp_path):
    started = _start(NEWER_ENGINEIO + (
        "import engineio.socket\n"
        "original = engineio.socket.Socket._websocket_handler, engineio.socket.Socket.poll\n"
        "create_app()\n"
        "from aict.extensions import socketio\n"
        "print(type(socketio.server).__name__, (engineio.socket.Socket._websocket_handler,\n"
        "      engineio.socket.Socket.poll) == original)"), AICT_INSTANCE_DIR=str(tmp_path), AICT_FAST_PATHS="0")
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["ContractServer", "True"]  # the contract's server, engineio's own Socket
