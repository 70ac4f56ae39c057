"""The LiveTerminal core with a scripted backend and recording viewers (gevent, in process)."""

import random

import gevent
import pytest

from aict.errors import AppError
from aict.terminals import live
from aict.terminals.backend import ExitStatus
from aict.terminals.live import MAX_CHUNK, STREAM_FLUSH_BYTES, LiveTerminal, TerminalLimits
from tests.unit.session_doubles import RecordingViewer, ScriptedBackend, settle, wait_until

KiB = 1024


@pytest.fixture
def make_session():
    sessions = []

    def make(ring_bytes: int = 64 * KiB, window_bytes: int = 16 * KiB, coalesce_seconds: float = 0.0,
             cols: int = 80, rows: int = 24, stream_coalesce_seconds: float | None = None
             ) -> tuple[LiveTerminal, ScriptedBackend]:
        backend = ScriptedBackend()
        session = LiveTerminal("s1", backend, cols=cols, rows=rows,
                          limits=TerminalLimits(ring_bytes=ring_bytes, window_bytes=window_bytes,
                                               coalesce_seconds=coalesce_seconds,
                                               stream_coalesce_seconds=stream_coalesce_seconds))
        session.start()
        sessions.append(session)
        return session, backend

    yield make
    for session in sessions:
        if session.running:
            session.kill()
            wait_until(lambda s=session: s.status == "exited")


def viewer(session, key="v1", user_id="u1", auto_ack=False) -> RecordingViewer:
    return RecordingViewer(key, user_id, session=session, auto_ack=auto_ack)


# ---- stream shape ---------------------------------------------------------------------------
def test_every_viewer_gets_the_whole_stream_in_contiguous_chunks_without_duplicates(make_session):
    session, backend = make_session(coalesce_seconds=0.002)
    fast, other = viewer(session, "a", auto_ack=True), viewer(session, "b", auto_ack=True)
    session.attach(fast, "operator", 0)
    session.attach(other, "viewer", 0)
    rng = random.Random(7)
    expected = bytearray()
    for i in range(400):
        chunk = rng.randbytes(rng.randint(1, 3000))
        expected += chunk
        backend.output(chunk)
        if i % 25 == 0:
            settle(0.005)
    wait_until(lambda: fast.received == len(expected) and other.received == len(expected))
    assert fast.contiguous_stream() == (0, bytes(expected))
    assert other.contiguous_stream() == (0, bytes(expected))


def test_output_hooks_see_every_byte_with_its_offset(make_session):
    session, backend = make_session()
    seen = []
    session.add_output_hook(lambda offset, data: seen.append((offset, data)))
    backend.output(b"abc", b"de")
    wait_until(lambda: session.ring.end == 5)
    assert seen == [(0, b"abc"), (3, b"de")]


def test_after_output_runs_right_after_the_next_output_is_sent(make_session):
    session, backend = make_session()
    v = viewer(session, auto_ack=True)
    session.attach(v, "operator", 0)
    session.after_output(lambda: v.events.append(("ack",)))
    backend.output(b"echo")
    wait_until(lambda: ("ack",) in v.events)
    assert v.events == [("output", 0, b"echo"), ("ack",)]


def test_after_output_runs_anyway_when_no_output_follows(make_session):
    session, _backend = make_session()
    events = []
    session.after_output(lambda: events.append("ack"))
    session.after_output(lambda: events.append("second"))
    wait_until(lambda: len(events) == 2, timeout=1)
    assert events == ["ack", "second"]


# ---- attach, replay, re-attach --------------------------------------------------------------
def test_attach_since_replays_from_that_offset(make_session):
    session, backend = make_session()
    backend.output(b"0123456789")
    wait_until(lambda: session.ring.end == 10)
    v = viewer(session)
    result = session.attach(v, "operator", since=4)
    assert (result.status, result.offset, result.replay_from, result.cols, result.rows) == ("running", 10, 4, 80, 24)
    settle()
    assert v.contiguous_stream() == (4, b"456789")


def test_attach_since_the_end_replays_nothing_and_then_follows(make_session):
    session, backend = make_session()
    backend.output(b"old")
    wait_until(lambda: session.ring.end == 3)
    v = viewer(session)
    assert session.attach(v, "operator", since=3).replay_from == 3
    settle()
    assert v.chunks == []
    backend.output(b"new")
    wait_until(lambda: v.received == 3)
    assert v.contiguous_stream() == (3, b"new")


def test_attach_without_since_starts_at_the_oldest_held_byte(make_session):
    session, backend = make_session(ring_bytes=16, window_bytes=8)
    backend.output(b"a" * 20, b"0123456789abcdef")
    wait_until(lambda: session.ring.end == 36)
    v = viewer(session)
    result = session.attach(v, "operator")
    assert (result.replay_from, result.offset) == (20, 36)
    session.ack("v1", 28)
    settle()
    assert v.contiguous_stream() == (20, b"0123456789abcdef")


def test_since_older_than_the_ring_replays_from_the_oldest_byte_and_says_so(make_session):
    session, backend = make_session(ring_bytes=16, window_bytes=8)
    backend.output(bytes(range(40)))
    wait_until(lambda: session.ring.end == 40)
    v = viewer(session, auto_ack=True)
    result = session.attach(v, "operator", since=5)
    assert result.replay_from == 24  # the client knows it missed [5, 24) exactly
    settle()
    assert v.contiguous_stream() == (24, bytes(range(24, 40)))


@pytest.mark.parametrize("since", [-1, 11, 10**12])
def test_since_out_of_range_is_a_bad_request(make_session, since):
    session, backend = make_session()
    backend.output(b"0123456789")
    wait_until(lambda: session.ring.end == 10)
    with pytest.raises(AppError) as info:
        session.attach(viewer(session), "operator", since=since)
    assert info.value.code == "bad_request"
    assert session.viewer_count == 0


def test_reattach_is_detach_then_attach_with_a_fresh_replay(make_session):
    session, backend = make_session()
    v = viewer(session, auto_ack=True)
    session.attach(v, "operator", 0)
    backend.output(b"first ")
    wait_until(lambda: v.received == 6)
    before = len(v.chunks)
    result = session.attach(v, "viewer", since=2)
    assert result.replay_from == 2
    assert session.viewer_count == 1
    assert session.access_of("v1") == "viewer"
    backend.output(b"second")
    wait_until(lambda: v.next_offset == 12)
    # The old stream stopped before the replay began: what follows the re-attach is one contiguous stream from 2.
    assert v.contiguous_stream(v.chunks[before:]) == (2, b"rst second")


def test_refused_reattach_leaves_the_old_attachment_as_it_was(make_session):
    session, backend = make_session()
    v = viewer(session, auto_ack=True)
    session.attach(v, "operator", 0)
    backend.output(b"abc")
    wait_until(lambda: v.received == 3)
    with pytest.raises(AppError):
        session.attach(v, "viewer", since=99)
    assert session.access_of("v1") == "operator"
    backend.output(b"def")
    wait_until(lambda: v.received == 6)
    assert v.contiguous_stream() == (0, b"abcdef")  # no replay, no gap


def test_detach_stops_the_stream(make_session):
    session, backend = make_session()
    v = viewer(session, auto_ack=True)
    session.attach(v, "operator", 0)
    backend.output(b"one")
    wait_until(lambda: v.received == 3)
    assert session.detach("v1") is True
    assert session.detach("v1") is False
    backend.output(b"two")
    wait_until(lambda: session.ring.end == 6)
    settle()
    assert v.contiguous_stream() == (0, b"one")
    assert session.viewer_count == 0


class YieldingViewer(RecordingViewer):
    """A viewer whose sends let other greenlets run, as a send to a busy socket may."""

    def send_output(self, session_id: str, offset: int, data: bytes) -> None:
        super().send_output(session_id, offset, data)
        gevent.sleep(0.005)


def _backlog(session, backend, size: int = 1_800_000) -> None:
    backend.output(*[b"x" * 60_000] * (size // 60_000))
    wait_until(lambda: session.ring.end == size)


def test_no_output_reaches_a_viewer_after_its_detach_even_while_sends_yield(make_session):
    session, backend = make_session(ring_bytes=4 * 1024 * KiB, window_bytes=2 * 1024 * KiB)
    _backlog(session, backend)  # several MAX_CHUNK frames to replay
    v = YieldingViewer("v", session=session)
    gevent.spawn(session.attach, v, "operator", 0)
    wait_until(lambda: v.chunks)
    session.detach("v")
    sent = len(v.chunks)
    settle(0.1)
    assert len(v.chunks) == sent < 1_800_000 // MAX_CHUNK


def test_a_reattach_while_sends_yield_stops_the_old_stream_before_the_new_replay(make_session):
    session, backend = make_session(ring_bytes=4 * 1024 * KiB, window_bytes=2 * 1024 * KiB)
    _backlog(session, backend)
    v = YieldingViewer("v", session=session)
    gevent.spawn(session.attach, v, "operator", 0)
    wait_until(lambda: v.chunks)
    before = len(v.chunks)
    session.attach(v, "operator", since=1_000_000)
    wait_until(lambda: v.next_offset == 1_800_000)
    settle(0.05)
    assert v.contiguous_stream(v.chunks[before:]) == (1_000_000, b"x" * 800_000)


# ---- flow control ---------------------------------------------------------------------------
def test_a_viewer_that_never_acks_gets_exactly_one_window(make_session):
    session, backend = make_session(ring_bytes=64 * KiB, window_bytes=4 * KiB)
    v = viewer(session)
    session.attach(v, "operator", 0)
    other = viewer(session, "other", user_id="u2", auto_ack=True)  # keeps the stream moving
    session.attach(other, "operator", 0)
    stream = random.Random(3).randbytes(40 * KiB)
    backend.output(*(stream[i:i + 1000] for i in range(0, len(stream), 1000)))
    wait_until(lambda: other.received == len(stream))
    settle()
    assert v.contiguous_stream() == (0, stream[:4 * KiB])
    backend.output(b"more")
    wait_until(lambda: other.received == len(stream) + 4)
    settle()
    assert v.received == 4 * KiB


def test_acks_open_the_window_and_an_ack_past_what_was_sent_is_clamped(make_session):
    session, backend = make_session(ring_bytes=64 * KiB, window_bytes=4 * KiB)
    v = viewer(session)
    session.attach(v, "operator", 0)
    stream = random.Random(4).randbytes(20 * KiB)
    backend.output(*(stream[i:i + 1024] for i in range(0, len(stream), 1024)))
    wait_until(lambda: v.received == 4 * KiB)
    session.ack("v1", 1000)
    wait_until(lambda: v.received == 4 * KiB + 1000)
    session.ack("v1", 10**9)  # clamped to what was sent: one more window, not everything
    wait_until(lambda: v.received == 2 * 4 * KiB + 1000)
    settle()
    assert v.received == 2 * 4 * KiB + 1000
    session.ack("v1", 0)  # going backwards changes nothing
    session.ack("unknown", 10)  # an ack for an unattached key is ignored
    settle()
    assert v.contiguous_stream() == (0, stream[:v.received])


@pytest.mark.parametrize("coalesce_seconds", [0.0, 0.004])
def test_the_backend_is_not_read_while_every_viewer_is_full(make_session, coalesce_seconds):
    session, backend = make_session(ring_bytes=64 * KiB, window_bytes=4 * KiB, coalesce_seconds=coalesce_seconds)
    v = viewer(session)
    session.attach(v, "operator", 0)
    chunk = 100
    backend.output(*[b"y" * chunk] * 1000)
    wait_until(lambda: v.received == 4 * KiB)
    settle(0.1)
    # At most the read that filled the window goes past it; the rest waits in the process.
    assert session.ring.end <= 4 * KiB + chunk
    assert backend.unread_bytes >= 1000 * chunk - 4 * KiB - chunk
    session.ack("v1", 4 * KiB)
    wait_until(lambda: v.received == 8 * KiB)
    settle(0.1)
    assert session.ring.end <= 8 * KiB + chunk
    assert session.ring.start == 0  # nothing was dropped: one viewer never misses a byte


def test_reading_continues_with_no_viewer_and_the_ring_keeps_the_tail(make_session):
    session, backend = make_session(ring_bytes=8 * KiB, window_bytes=4 * KiB)
    stream = random.Random(5).randbytes(50 * KiB)
    backend.output(*(stream[i:i + 1000] for i in range(0, len(stream), 1000)))
    wait_until(lambda: session.ring.end == len(stream))
    assert backend.unread_bytes == 0
    assert session.ring.start == len(stream) - 8 * KiB
    assert session.ring.read(session.ring.start, session.ring.end) == stream[-8 * KiB:]


def test_reading_resumes_when_the_last_full_viewer_detaches(make_session):
    session, backend = make_session(ring_bytes=64 * KiB, window_bytes=4 * KiB)
    v = viewer(session)
    session.attach(v, "operator", 0)
    backend.output(*[b"z" * 1000] * 30)
    wait_until(lambda: v.received == 4 * KiB)
    settle()
    assert backend.unread_bytes > 0
    session.detach("v1")
    wait_until(lambda: session.ring.end == 30_000)


def test_a_slow_viewer_behind_the_ring_gets_a_visible_jump_while_a_fast_one_keeps_the_stream(make_session):
    session, backend = make_session(ring_bytes=8 * KiB, window_bytes=2 * KiB)
    fast, slow = viewer(session, "fast", auto_ack=True), viewer(session, "slow")
    session.attach(fast, "operator", 0)
    session.attach(slow, "operator", 0)
    stream = random.Random(6).randbytes(40 * KiB)
    backend.output(*(stream[i:i + 500] for i in range(0, len(stream), 500)))
    wait_until(lambda: fast.received == len(stream))
    assert fast.contiguous_stream() == (0, stream)  # the fast viewer was never held back nor skipped
    settle()
    assert slow.contiguous_stream() == (0, stream[:2 * KiB])  # still only its one window
    first_window = len(slow.chunks)
    session.ack("slow", 2 * KiB)
    settle()
    after = slow.chunks[first_window:]
    assert after, "the ack did not resume the slow viewer"
    jump_to = after[0][0]
    assert jump_to == session.ring.start == len(stream) - 8 * KiB  # past the expected 2 KiB: visible
    assert slow.contiguous_stream(after) == (jump_to, stream[jump_to:jump_to + 2 * KiB])


# ---- exit -----------------------------------------------------------------------------------
def test_an_attached_viewer_gets_all_output_then_the_exit(make_session):
    session, backend = make_session()
    v = viewer(session, auto_ack=True)
    session.attach(v, "operator", 0)
    backend.output(b"bye")
    backend.finish(ExitStatus(exit_code=3))
    wait_until(lambda: v.exits)
    assert v.events == [("output", 0, b"bye"), ("exit", ExitStatus(exit_code=3))]
    assert session.status == "exited" and session.exit_status == ExitStatus(exit_code=3)
    assert backend.closed


def test_attaching_to_an_exited_session_replays_the_ring_then_sends_the_exit(make_session):
    session, backend = make_session(ring_bytes=16, window_bytes=8)
    backend.output(b"x" * 10, b"0123456789abcdef")
    backend.finish(ExitStatus(signal="SIGKILL"))
    wait_until(lambda: session.status == "exited")
    v = viewer(session, auto_ack=True)
    result = session.attach(v, "viewer")
    assert (result.status, result.replay_from, result.offset) == ("exited", 10, 26)
    settle()
    assert v.contiguous_stream() == (10, b"0123456789abcdef")
    assert v.events[-1] == ("exit", ExitStatus(signal="SIGKILL"))
    assert len(v.exits) == 1


def test_the_exit_waits_until_the_replay_fits_the_window(make_session):
    session, backend = make_session(ring_bytes=64, window_bytes=16)
    backend.output(b"a" * 40)
    backend.finish(ExitStatus(exit_code=0))
    wait_until(lambda: session.status == "exited")
    v = viewer(session)
    session.attach(v, "operator", 0)
    settle()
    assert v.received == 16 and v.exits == []
    session.ack("v1", 16)
    settle()
    assert v.received == 32 and v.exits == []
    session.ack("v1", 32)
    settle()
    assert v.received == 40 and v.events[-1] == ("exit", ExitStatus(exit_code=0))


def test_input_and_resize_after_exit_are_conflicts(make_session):
    session, backend = make_session()
    backend.finish()
    wait_until(lambda: session.status == "exited")
    for call in (lambda: session.write(b"x"), lambda: session.resize(100, 40)):
        with pytest.raises(AppError) as info:
            call()
        assert info.value.code == "conflict"


def test_kill_ends_the_backend(make_session):
    session, backend = make_session()
    session.kill()
    wait_until(lambda: session.status == "exited")
    assert backend.terminated and session.exit_status == ExitStatus(signal="SIGHUP")


# ---- input, size, access --------------------------------------------------------------------
def test_input_reaches_the_backend(make_session):
    session, backend = make_session()
    session.write(b"ls\r")
    session.write("é".encode())
    assert bytes(backend.input) == b"ls\r\xc3\xa9"


def test_a_resize_is_announced_to_the_other_viewers_not_to_the_one_that_resized(make_session):
    session, backend = make_session(cols=80, rows=24)
    a, b = viewer(session, "a"), viewer(session, "b")
    session.attach(a, "operator", 0)
    session.attach(b, "operator", 0)
    session.resize(120, 40, by_key="a")
    assert backend.sizes == [(80, 24), (120, 40)]
    assert (session.cols, session.rows) == (120, 40)
    assert ("resized", 120, 40) in b.events
    assert not [e for e in a.events if e[0] == "resized"]
    session.resize(120, 40, by_key="a")  # the same tab, no change: no announcement
    assert len([e for e in b.events if e[0] == "resized"]) == 1
    assert backend.sizes == [(80, 24), (120, 40)]


def test_a_tab_that_takes_over_at_the_same_size_is_announced_without_resizing_the_program(make_session):
    """The other tabs learn that they are no longer the one in use (which answers the program's
    queries); the program gets no SIGWINCH."""
    session, backend = make_session(cols=80, rows=24)
    a, b = viewer(session, "a"), viewer(session, "b")
    session.attach(a, "operator", 0)
    session.attach(b, "operator", 0)
    session.resize(80, 24, by_key="b")
    assert [e for e in a.events if e[0] == "resized"] == [("resized", 80, 24)]
    assert not [e for e in b.events if e[0] == "resized"]
    session.resize(80, 24, by_key="b")  # still b's: nothing new to say
    session.resize(80, 24)  # not from a tab
    assert len([e for e in a.events if e[0] == "resized"]) == 1
    session.resize(80, 24, by_key="a")
    assert [e for e in b.events if e[0] == "resized"] == [("resized", 80, 24)]
    assert backend.sizes == [(80, 24)]


def test_set_access_downgrades_or_detaches_one_users_viewers_only(make_session):
    session, backend = make_session()
    a1, a2 = viewer(session, "a1", "alice", auto_ack=True), viewer(session, "a2", "alice", auto_ack=True)
    b = viewer(session, "b", "bob", auto_ack=True)
    for v in (a1, a2, b):
        session.attach(v, "operator", 0)
    assert session.set_access("alice", "viewer") == []
    assert [session.access_of(k) for k in ("a1", "a2", "b")] == ["viewer", "viewer", "operator"]
    assert sorted(session.set_access("alice", None)) == ["a1", "a2"]
    assert session.viewer_count == 1
    assert session.access_of("a1") is None
    backend.output(b"after")
    wait_until(lambda: b.received == 5)
    settle()
    assert a1.chunks == [] and a2.chunks == []


# ---- coalescing -----------------------------------------------------------------------------
def test_a_flood_of_tiny_writes_becomes_few_frames(make_session):
    session, backend = make_session(coalesce_seconds=0.2)
    v = viewer(session, auto_ack=True)
    session.attach(v, "operator", 0)
    backend.output(*[bytes([48 + i % 10]) for i in range(2000)])
    wait_until(lambda: v.received == 2000)
    assert len(v.chunks) <= 3
    assert v.contiguous_stream() == (0, bytes(48 + i % 10 for i in range(2000)))


def test_the_first_byte_after_a_quiet_spell_goes_out_at_once(make_session):
    session, backend = make_session(coalesce_seconds=0.5)
    v = viewer(session, auto_ack=True)
    session.attach(v, "operator", 0)
    backend.output(b"a")
    settle(0.02)
    assert v.received == 1  # not held for the coalescing delay
    backend.output(b"b")  # right behind it: gathered
    settle(0.05)
    assert v.received == 1
    wait_until(lambda: v.received == 2, timeout=1)
    settle(0.6)  # quiet again
    backend.output(b"c")
    settle(0.02)
    assert v.contiguous_stream() == (0, b"abc")


def test_output_that_follows_input_goes_out_at_once_even_right_after_a_flush(make_session):
    # Back-to-back keys: the next key is sent the moment the echo arrives, well within the window.
    session, backend = make_session(coalesce_seconds=0.5)
    v = viewer(session, auto_ack=True)
    session.attach(v, "operator", 0)
    for key in (b"a", b"b", b"c"):
        session.write(key)
        backend.output(key)  # its echo
        wait_until(lambda key=key: v.chunks and v.chunks[-1][1] == key, timeout=0.1)
    assert backend.input == b"abc"
    assert v.chunks == [(0, b"a"), (1, b"b"), (2, b"c")]


def test_only_the_first_read_after_input_skips_the_window(make_session):
    session, backend = make_session(coalesce_seconds=0.5)
    v = viewer(session, auto_ack=True)
    session.attach(v, "operator", 0)
    backend.output(b"$ ")  # the prompt, after a quiet spell: out at once
    wait_until(lambda: v.received == 2, timeout=0.1)
    session.write(b"x")
    backend.output(b"x", b" more")  # the echo, then output that nobody typed for
    wait_until(lambda: v.received == 3, timeout=0.1)
    settle(0.1)
    assert v.received == 3  # the rest is gathered as before
    wait_until(lambda: v.received == 8, timeout=1)
    assert v.contiguous_stream() == (0, b"$ x more")


def test_input_brings_a_gathering_flush_forward_and_its_ack_follows_the_echo(make_session):
    session, backend = make_session(coalesce_seconds=0.5)
    v = viewer(session, auto_ack=True)
    session.attach(v, "operator", 0)
    backend.output(b"1")  # out at once
    wait_until(lambda: v.received == 1, timeout=0.1)
    backend.output(b"2")  # gathering for the window
    settle(0.05)
    assert v.received == 1
    session.write(b"k")
    session.after_output(lambda: v.events.append(("ack",)))
    backend.output(b"k")  # the echo takes what was gathered along, in order, at once
    wait_until(lambda: ("ack",) in v.events, timeout=0.1)
    assert v.events[-2:] == [("output", 1, b"2k"), ("ack",)]
    backend.output(b"3")  # the flush that was pending is gone: the window counts from the echo
    settle(0.3)
    assert v.received == 3
    wait_until(lambda: v.received == 4, timeout=1)
    assert v.contiguous_stream() == (0, b"12k3")


@pytest.mark.parametrize("first, gathered_for", [(b"a", 0.1), (b"s" * STREAM_FLUSH_BYTES, 0.6)])
def test_a_stream_gathers_for_longer_than_other_output(make_session, first, gathered_for):
    session, backend = make_session(ring_bytes=256 * KiB, window_bytes=128 * KiB, coalesce_seconds=0.1,
                                    stream_coalesce_seconds=0.6)
    v = viewer(session, auto_ack=True)
    session.attach(v, "operator", 0)
    backend.output(first)  # after a quiet spell: out at once, whatever its size
    wait_until(lambda: v.received == len(first), timeout=0.05)
    backend.output(b"next")  # right behind it: gathered for as long as what went before asks
    settle(gathered_for - 0.05)
    assert v.received == len(first)
    wait_until(lambda: v.received == len(first) + 4, timeout=0.2)
    assert v.contiguous_stream() == (0, first + b"next")


# ---- sharing the loop -----------------------------------------------------------------------
@pytest.fixture
def idle_passes(monkeypatch):
    """How often the session's reader gave the rest of the loop a pass (gevent.idle)."""
    calls = []
    real_idle = gevent.idle

    def counting_idle(*args):
        calls.append(1)
        return real_idle(*args)

    monkeypatch.setattr(gevent, "idle", counting_idle)
    return calls


def test_a_stream_that_never_waits_lets_the_rest_of_the_loop_run_as_it_goes(make_session, idle_passes):
    session, backend = make_session(ring_bytes=1024 * KiB)  # nobody attached: it reads on into the ring
    ticks_during_stream = []

    def tick():
        while backend.reads < 3000:
            if backend.reads:
                ticks_during_stream.append(backend.reads)
            gevent.sleep(0.001)

    ticker = gevent.spawn(tick)
    backend.output(*[b"y\r\n" * 1000] * 3000)  # every read returns at once: the reader never waits
    wait_until(lambda: backend.reads == 3000)
    ticker.join(1)
    assert idle_passes and len(ticks_during_stream) >= 3, ticks_during_stream


def test_output_after_a_quiet_spell_costs_no_extra_pass_of_the_loop(make_session, idle_passes, monkeypatch):
    # The read waited, so everything else that was ready has run: yielding again after the echo
    # only delayed the server's going idle (and the client, woken onto its CPU, waited for that).
    # A streak of 20 ms, not 0.2: on a loaded machine one echo's handling can be preempted for longer
    # than 0.2 ms; 20 ms is still less than the 25 ms a streak never reset after a wait would span.
    monkeypatch.setattr(live, "YIELD_AFTER_SECONDS", 0.02)
    session, backend = make_session()
    v = viewer(session, auto_ack=True)
    session.attach(v, "operator", 0)
    for i in range(5):
        settle(0.005)
        backend.output(b"k")
        wait_until(lambda n=i + 1: v.received == n)
    assert idle_passes == []


# ---- what a viewer's connection holds, and reads held back ----------------------------------
def test_a_connection_without_room_gets_nothing_until_it_has_room_then_the_whole_stream(make_session):
    session, backend = make_session(ring_bytes=256 * KiB, window_bytes=128 * KiB)
    v = viewer(session, auto_ack=True)
    v.room_bytes = 0  # its socket holds a window of other sessions' output, unsent
    session.attach(v, "operator", 0)
    stream = random.Random(7).randbytes(100 * KiB)
    backend.output(*(stream[i:i + 4000] for i in range(0, len(stream), 4000)))
    wait_until(lambda: session.ring.end == len(stream))
    settle()
    assert v.received == 0 and v.waiting, "output went to a connection that had no room"
    v.make_room(70 * KiB)  # room for one piece, not the whole stream
    settle()
    assert 64 * KiB <= v.received <= 70 * KiB  # a piece that fits, not a sliver and not more
    v.make_room()
    wait_until(lambda: v.received == len(stream))
    assert v.contiguous_stream() == (0, stream)


def test_small_output_goes_out_while_a_connection_has_a_little_room(make_session):
    session, backend = make_session()
    v = viewer(session, auto_ack=True)
    session.attach(v, "operator", 0)
    v.room_bytes = 100
    backend.output(b"echo")
    wait_until(lambda: v.received == 4)
    assert not v.waiting


def test_held_reads_leave_the_output_in_the_process_until_released(make_session):
    session, backend = make_session()
    session.hold_reading("recording")
    backend.output(b"a" * 1000, b"b" * 1000)
    settle(0.05)
    assert session.ring.end <= 1000  # at most the read already under way
    session.release_reading("recording")
    wait_until(lambda: session.ring.end == 2000)


def test_a_terminal_that_ends_is_read_to_its_end_even_while_held(make_session):
    session, backend = make_session()
    session.hold_reading("recording")
    backend.output(b"last words")
    session.kill()
    wait_until(lambda: session.status == "exited")
    assert session.ring.read(0, session.ring.end) == b"last words"
