"""SessionRegistry.sweep: idle detached sessions are ended, exited ones forgotten after retention.

No Flask app is needed: the registry only reads its settings, and sessions are placed in it directly.
"""

import time
from types import SimpleNamespace

import pytest

from aict.terminals.live import LiveTerminal, TerminalLimits
from aict.terminals.registry import SessionRegistry
from tests.unit.session_doubles import RecordingViewer, ScriptedBackend, wait_until

IDLE, RETENTION = 60, 600


@pytest.fixture
def registry():
    settings = {"RING_BYTES": 64 * 1024, "FLOW_WINDOW_BYTES": 16 * 1024, "COALESCE_MS": 4, "STREAM_COALESCE_MS": 16,
                "IDLE_TIMEOUT_SECONDS": IDLE, "EXITED_RETENTION_SECONDS": RETENTION, "RECORDING_MAX_BYTES": 1024}
    reg = SessionRegistry(SimpleNamespace(config={"AICT": settings}))
    yield reg
    for session in reg.all():
        session.kill()


def add(registry: SessionRegistry, session_id: str, workspace_id: str = "w1") -> tuple[LiveTerminal, ScriptedBackend]:
    backend = ScriptedBackend()
    session = LiveTerminal(session_id, backend, limits=registry.limits)
    session.start()
    registry._sessions[session_id] = session
    registry._workspace_of[session_id] = workspace_id
    return session, backend


def test_the_registry_takes_its_limits_from_the_settings(registry):
    assert registry.limits == TerminalLimits(ring_bytes=64 * 1024, window_bytes=16 * 1024, coalesce_seconds=0.004,
                                            stream_coalesce_seconds=0.016)


def test_a_detached_session_is_ended_once_its_idle_timeout_passes(registry):
    session, backend = add(registry, "s1")
    registry.sweep(now=session.last_detached + IDLE - 1)
    assert not backend.terminated
    registry.sweep(now=session.last_detached + IDLE + 1)
    assert backend.terminated
    wait_until(lambda: session.status == "exited")
    assert registry.get("s1") is session  # still listed (and attachable) until its retention passes


def test_a_watched_session_is_never_idle(registry):
    session, backend = add(registry, "s1")
    session.attach(RecordingViewer("v"), "operator", 0)
    registry.sweep(now=time.monotonic() + 100 * IDLE)
    assert not backend.terminated


def test_the_idle_clock_starts_when_the_last_viewer_detaches(registry):
    session, backend = add(registry, "s1")
    for key in ("a", "b"):
        session.attach(RecordingViewer(key), "operator", 0)
    session.detach("a")
    session.detach("b")
    detached_at = time.monotonic()
    registry.sweep(now=detached_at + IDLE - 1)
    assert not backend.terminated
    registry.sweep(now=detached_at + IDLE + 1)
    assert backend.terminated


def test_an_idle_timeout_of_zero_never_ends_a_session(registry):
    registry.settings["IDLE_TIMEOUT_SECONDS"] = 0
    session, backend = add(registry, "s1")
    registry.sweep(now=time.monotonic() + 10**9)
    assert not backend.terminated


def test_an_exited_session_is_forgotten_after_its_retention_only(registry):
    old, old_backend = add(registry, "old")
    recent, recent_backend = add(registry, "recent")
    for backend in (old_backend, recent_backend):
        backend.finish()
    wait_until(lambda: old.status == recent.status == "exited")
    recent.ended = old.ended + RETENTION  # ended later
    registry.sweep(now=old.ended + RETENTION + 1)
    assert registry.get("old") is None
    assert registry.get("recent") is recent
    assert [s.id for s in registry.in_workspace("w1")] == ["recent"]
