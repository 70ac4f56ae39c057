"""TerminalManager: its lifetime policy (idle detached terminals are ended, exited ones forgotten after
retention, a cap per owner) and its callbacks. No Flask app and no database: only scripted backends.
"""

import dataclasses
import time

import pytest

from aict.config import Settings
from aict.errors import AppError
from aict.services.sessions import manager_for
from aict.terminals.live import LiveTerminal, TerminalLimits
from aict.terminals.manager import LifetimePolicy, TerminalManager
from tests.unit.session_doubles import RecordingViewer, ScriptedBackend, wait_until

IDLE, RETENTION = 60, 600


@pytest.fixture
def manager():
    ended: list[str] = []
    manager = TerminalManager(TerminalLimits(ring_bytes=64 * 1024, window_bytes=16 * 1024),
                              LifetimePolicy(idle_timeout=IDLE, retention=RETENTION, max_per_owner=3),
                              on_exit=lambda terminal: ended.append(terminal.id))
    manager.ended = ended
    yield manager
    manager.shutdown()


def add(manager: TerminalManager, session_id: str, workspace_id: str = "w1",
        owner_id: str = "u1") -> tuple[LiveTerminal, ScriptedBackend]:
    backend = ScriptedBackend()
    session = manager.start(session_id, backend, owner_id=owner_id, workspace_id=workspace_id, cols=80, rows=24)
    return session, backend


def test_the_manager_takes_its_limits_and_policy_from_the_settings():
    settings = Settings(RING_BYTES=64 * 1024, FLOW_WINDOW_BYTES=16 * 1024, COALESCE_MS=4, STREAM_COALESCE_MS=16,
                        IDLE_TIMEOUT_SECONDS=IDLE, EXITED_RETENTION_SECONDS=RETENTION, MAX_SESSIONS_PER_USER=7)
    manager = manager_for(settings, on_exit=None)
    assert manager.limits == TerminalLimits(ring_bytes=64 * 1024, window_bytes=16 * 1024, coalesce_seconds=0.004,
                                            stream_coalesce_seconds=0.016)
    assert manager.policy == LifetimePolicy(idle_timeout=IDLE, retention=RETENTION, max_per_owner=7)


def test_an_owner_starts_at_most_the_cap_and_an_ended_terminal_frees_its_place(manager):
    terminals = [add(manager, f"s{n}")[1] for n in range(3)]
    add(manager, "other", owner_id="u2")  # another owner's count is their own
    with pytest.raises(AppError) as refused:
        add(manager, "s3")
    assert refused.value.code == "too_many_sessions" and manager.get("s3") is None
    terminals[0].finish()
    wait_until(lambda: manager.ended == ["s0"])  # the callback heard of it
    add(manager, "s3")


def test_a_revoked_viewer_is_detached_and_told(manager):
    session, _ = add(manager, "s1")
    revoked, kept = RecordingViewer("a", user_id="u9"), RecordingViewer("b", user_id="u1")
    session.attach(revoked, "operator", 0)
    session.attach(kept, "operator", 0)
    assert manager.set_access("u9", "w1", "viewer") == [] and session.access_of("a") == "viewer"
    assert manager.set_access("u9", "w1", None) == [("s1", "a")]
    assert revoked.revoked == ["s1"] and kept.revoked == [] and session.viewer_count == 1


def test_a_detached_session_is_ended_once_its_idle_timeout_passes(manager):
    session, backend = add(manager, "s1")
    manager.sweep(now=session.last_detached + IDLE - 1)
    assert not backend.terminated
    manager.sweep(now=session.last_detached + IDLE + 1)
    assert backend.terminated
    wait_until(lambda: session.status == "exited")
    assert manager.get("s1") is session  # still listed (and attachable) until its retention passes


def test_a_watched_session_is_never_idle(manager):
    session, backend = add(manager, "s1")
    session.attach(RecordingViewer("v"), "operator", 0)
    manager.sweep(now=time.monotonic() + 100 * IDLE)
    assert not backend.terminated


def test_the_idle_clock_starts_when_the_last_viewer_detaches(manager):
    session, backend = add(manager, "s1")
    for key in ("a", "b"):
        session.attach(RecordingViewer(key), "operator", 0)
    session.detach("a")
    session.detach("b")
    detached_at = time.monotonic()
    manager.sweep(now=detached_at + IDLE - 1)
    assert not backend.terminated
    manager.sweep(now=detached_at + IDLE + 1)
    assert backend.terminated


def test_an_idle_timeout_of_zero_never_ends_a_session(manager):
    manager.policy = dataclasses.replace(manager.policy, idle_timeout=0)
    session, backend = add(manager, "s1")
    manager.sweep(now=time.monotonic() + 10**9)
    assert not backend.terminated


def test_an_exited_session_is_forgotten_after_its_retention_only(manager):
    old, old_backend = add(manager, "old")
    recent, recent_backend = add(manager, "recent")
    for backend in (old_backend, recent_backend):
        backend.finish()
    wait_until(lambda: old.status == recent.status == "exited")
    recent.ended = old.ended + RETENTION  # ended later
    manager.sweep(now=old.ended + RETENTION + 1)
    assert manager.get("old") is None
    assert manager.get("recent") is recent
    assert [s.id for s in manager.in_workspace("w1")] == ["recent"]
