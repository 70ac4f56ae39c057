"""LiveTerminal: one terminal's byte stream, its ring buffer, its viewers, and flow control.

Knows neither Flask nor Socket.IO: viewers are anything with send_output/send_exit/send_resized,
and the backend is anything that follows aict.terminals.backend.Backend.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import gevent
from gevent.event import Event
from gevent.hub import get_hub

from aict.errors import AppError, bad_request
from aict.terminals.backend import Backend, ExitStatus
from aict.terminals.ring import RingBuffer
from aict.terminals.shell_marks import MarkFilter

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024
MAX_CHUNK = 256 * 1024  # largest single terminal-output frame
# Output waits for the viewer's connection to have room for this much (or for all there is to send):
# sending whatever little room there is would cut a replay into slivers.
MIN_ROOM = 64 * 1024
# Reading longer than this without a pause lets everything else that is ready run first: a flooding
# terminal then delays another session's echo by a fraction of a millisecond (8 reads: ~5 ms p50).
YIELD_AFTER_SECONDS = 0.0002
# Work queued with after_output() (keystroke acks) waits at most this long for output to follow.
AFTER_OUTPUT_SECONDS = 0.003
# A flush that carried at least this much means a stream is running: the next one gathers for
# stream_coalesce_seconds instead. Half as many flushes, writer wake-ups and client wake-ups per MB
# (paired runs, 20 rounds: +7% MB/s, a tenth less server CPU per MB); an echo after small output
# never waits longer.
STREAM_FLUSH_BYTES = 64 * 1024


class Viewer(Protocol):
    """Where a session's stream goes: one attached socket (or a test double)."""

    key: str
    user_id: str

    def send_output(self, session_id: str, offset: int, data: bytes) -> None: ...

    def send_exit(self, session_id: str, status: ExitStatus) -> None: ...

    def send_resized(self, session_id: str, cols: int, rows: int) -> None: ...

    def send_revoked(self, session_id: str) -> None: ...

    def room(self) -> int:
        """Bytes of output the viewer's connection takes now (what it holds unsent is bounded)."""
        ...

    def when_room(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the connection has sent what it holds."""
        ...


@dataclass(eq=False)
class _Attachment:
    viewer: Viewer
    access: str
    sent: int  # next offset to send
    acked: int  # everything before this was rendered
    exit_sent: bool = False
    busy: bool = False  # a send is in progress (guards re-entrant pumps)
    again: bool = False
    resume: Callable[[], None] | None = None  # pumps again once the viewer's connection has room


@dataclass
class AttachResult:
    status: str
    cols: int
    rows: int
    offset: int
    replay_from: int
    viewer_id: str | None = None  # how others name this attachment (terminal-viewers), where known


@dataclass
class TerminalLimits:
    ring_bytes: int = 4 * 1024 * 1024
    window_bytes: int = 1024 * 1024
    coalesce_seconds: float = 0.004
    stream_coalesce_seconds: float | None = None  # while a stream runs (None: coalesce_seconds)


OutputHook = Callable[[int, bytes], None]


@dataclass(eq=False)
class LiveTerminal:
    id: str
    backend: Backend
    cols: int = 80
    rows: int = 24
    limits: TerminalLimits = field(default_factory=TerminalLimits)
    on_exit: Callable[[LiveTerminal], None] | None = None

    def __post_init__(self):
        self.ring = RingBuffer(self.limits.ring_bytes)
        self.status = "starting"
        self.exit_status: ExitStatus | None = None
        self.created = time.monotonic()
        self.ended: float | None = None
        self.last_detached = time.monotonic()
        self._attachments: dict[str, _Attachment] = {}
        self._read_gate = Event()
        self._read_gate.set()
        self._holds: set[str] = set()  # reasons to stop reading (a recording catching up)
        self._ending = False
        self._flush_pending = False
        self._flush_later: gevent.Greenlet | None = None  # the pending flush
        self._input_since_output = False  # written to since the last read: what is read next is its answer
        self._last_flush = 0.0
        self._flushed_to = 0  # the ring's end at the last flush
        self._window = self.limits.coalesce_seconds  # how long the next flush gathers
        self._hooks: list[OutputHook] = []
        self._input_hooks: list[Callable[[bytes], None]] = []
        # Shell-integration marks never reach the ring, a viewer or a hook; set_mark_filter() gives the
        # terminal one that knows its shell's nonce.
        self._marks = MarkFilter()
        self._resize_hooks: list[Callable[[int, int], None]] = []
        self._sized_by: str | None = None  # the attachment that set the size last: the tab in use
        self._after_output: list[Callable[[], None]] = []
        self._after_output_timer = None
        self._reader = None

    # ---- lifetime -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the backend (may raise AppError) and the reader greenlet."""
        self.backend.start(self.cols, self.rows)
        self.status = "running"
        self._reader = gevent.spawn(self._read_loop)
        ended = getattr(self.backend, "ended", None)
        if ended is not None:
            gevent.spawn(self._read_on_once_ended, ended)

    def _read_on_once_ended(self, ended) -> None:
        # A process that died on its own (kill -9 from elsewhere) while every window was full
        # would otherwise go unnoticed until a viewer acks: read its last bytes and its end.
        ended.wait()
        self._ending = True
        self._read_gate.set()

    def kill(self) -> None:
        if self.status == "running":
            self._ending = True
            self._read_gate.set()  # read to the end even if every window is full, or the exit is never seen
            self.backend.terminate()

    @property
    def running(self) -> bool:
        return self.status == "running"

    def _read_loop(self) -> None:
        backend, monotonic, loop = self.backend, time.monotonic, get_hub().loop
        streak_began = monotonic()
        try:
            while True:
                if not self._read_gate.is_set():
                    self._read_gate.wait()
                passes = loop.iteration
                data = backend.read(READ_SIZE)
                if loop.iteration != passes:  # the read waited, and whatever else was ready ran meanwhile:
                    streak_began = monotonic()  # an echo after a quiet spell needs no extra pass of the loop
                if not data:
                    break
                self._feed(data)
                if monotonic() - streak_began >= YIELD_AFTER_SECONDS:  # let everything else that is ready run
                    # Not sleep(0): that resumes this greenlet before the loop polls for I/O again, so a
                    # flooding terminal starved other sockets' input and output (echo p99 ~100-200 ms).
                    gevent.idle()
                    streak_began = monotonic()
        except Exception:
            log.exception("session %s: reading the terminal failed", self.id)
        status = ExitStatus()
        try:
            status = backend.wait()
        except Exception:
            log.exception("session %s: waiting for the terminal failed", self.id)
        finally:
            backend.close()
        self._finish(status)

    def _finish(self, status: ExitStatus) -> None:
        held = self._marks.finish()  # the start of a mark that never ended: shown as it came
        if held:
            self._append(held)
        self.status = "exited"
        self.exit_status = status
        self.ended = time.monotonic()
        self._flush()
        if self.on_exit is not None:
            try:
                self.on_exit(self)
            except Exception:
                log.exception("session %s: exit hook failed", self.id)

    # ---- output path ----------------------------------------------------------------------
    def add_output_hook(self, hook: OutputHook) -> None:
        """Call hook(offset, data) for every byte read from now on (recording, audit)."""
        self._hooks.append(hook)

    def add_resize_hook(self, hook: Callable[[int, int], None]) -> None:
        """Call hook(cols, rows) after every size change (recording)."""
        self._resize_hooks.append(hook)

    def add_input_hook(self, hook: Callable[[bytes], None]) -> None:
        """Call hook(data) with everything written to the terminal (typed-line capture)."""
        self._input_hooks.append(hook)

    def set_mark_filter(self, marks: MarkFilter) -> None:
        """Before start(): the filter that strips this terminal's marks and reports its shell's."""
        self._marks = marks

    @property
    def mark_filter(self) -> MarkFilter:
        return self._marks

    def _feed(self, data: bytes) -> None:
        data = self._marks.strip(data)
        if data:
            self._append(data)

    def _append(self, data: bytes) -> None:
        offset = self.ring.end
        self.ring.append(data)
        for hook in self._hooks:
            try:
                hook(offset, data)
            except Exception:
                log.exception("session %s: output hook failed", self.id)
        self._update_read_gate()  # now, not at the next flush: reads must not run past full windows meanwhile
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        """Send at once after a quiet spell or input (keystroke echo); gather for a few ms while busy.

        Output read right after input is its answer (an echo, a completion, a prompt) and leaves at
        once whatever the window: someone typing fast, or a client sending the next key the moment
        the echo arrives, would otherwise wait out the window on every key."""
        if self._input_since_output:
            self._input_since_output = False
            if self._flush_pending:
                self._flush_later.kill(block=False)  # not started yet: it never runs
            self._flush()
            return
        if self._flush_pending:
            return
        delay = self._last_flush + self._window - time.monotonic()
        if delay <= 0:
            self._flush()
        else:
            self._flush_pending = True
            # a greenlet, not a hub callback: sends may yield
            self._flush_later = gevent.spawn_later(delay, self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        self._flush_later = None
        self._last_flush = time.monotonic()
        end, limits = self.ring.end, self.limits
        streaming = end - self._flushed_to >= STREAM_FLUSH_BYTES and limits.stream_coalesce_seconds
        self._window, self._flushed_to = limits.stream_coalesce_seconds if streaming else limits.coalesce_seconds, end
        for attachment in list(self._attachments.values()):
            self._pump(attachment)
        self._update_read_gate()
        if self._after_output:  # once the loop has run the socket writers: the output leaves first
            get_hub().loop.run_callback(self._run_after_output)

    def after_output(self, callback: Callable[[], None]) -> None:
        """Call `callback` right after the next output is sent, or within AFTER_OUTPUT_SECONDS.

        For a keystroke's ack: sent behind its echo, the two leave together (one wake-up for the
        client, and none competing with the shell while it echoes)."""
        self._after_output.append(callback)
        if self._after_output_timer is None:
            self._after_output_timer = get_hub().loop.timer(AFTER_OUTPUT_SECONDS)
            self._after_output_timer.start(self._run_after_output)

    def _run_after_output(self) -> None:
        # Runs in a flush or as a timer callback in the hub: callbacks must not block.
        timer, self._after_output_timer = self._after_output_timer, None
        if timer is not None:
            timer.stop()
        callbacks, self._after_output = self._after_output, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("session %s: after-output callback failed", self.id)

    def _pump(self, a: _Attachment) -> None:
        """Send this viewer what it may have: contiguous, within its window, then exit if done."""
        if a.busy:
            a.again = True
            return
        a.busy = True
        try:
            while True:
                a.again = False
                if self._attachments.get(a.viewer.key) is not a:  # detached or re-attached while a send yielded
                    break
                behind = a.sent < self.ring.start
                if behind and a.acked == a.sent:  # fell behind the ring: a visible jump, never silent,
                    a.sent = a.acked = self.ring.start  # once what it has in flight is rendered (the window holds)
                    behind = False
                limit = min(self.ring.end, a.acked + self.limits.window_bytes, a.sent + MAX_CHUNK)
                if not behind and limit > a.sent:
                    room = a.viewer.room()
                    if room < min(limit - a.sent, MIN_ROOM):  # its connection holds enough unsent
                        a.viewer.when_room(a.resume)
                        break
                    limit = min(limit, a.sent + room)
                    begin, data = a.sent, self.ring.read(a.sent, limit)
                    a.sent = limit
                    a.viewer.send_output(self.id, begin, data)
                    continue
                if self.status == "exited" and not a.exit_sent and a.sent == self.ring.end:
                    a.exit_sent = True
                    a.viewer.send_exit(self.id, self.exit_status)
                if not a.again:
                    break
        except Exception:
            log.exception("session %s: sending to viewer %s failed", self.id, a.viewer.key)
        finally:
            a.busy = False

    def hold_reading(self, reason: str) -> None:
        """Stop reading the terminal (its program waits) until release_reading(reason)."""
        self._holds.add(reason)
        self._update_read_gate()

    def release_reading(self, reason: str) -> None:
        if reason in self._holds:
            self._holds.discard(reason)
            self._update_read_gate()

    def _update_read_gate(self) -> None:
        """Read while anyone has room (or nobody watches) and nothing holds reading; pause when every
        window is full. A terminal that is ending is read to its end whatever holds it."""
        if self._holds and not self._ending:
            self._read_gate.clear()
            return
        if not self._ending and self._attachments:
            end, window = self.ring.end, self.limits.window_bytes
            for a in self._attachments.values():  # a loop, not any(): no generator on every read
                if end - a.acked < window:
                    break
            else:
                self._read_gate.clear()
                return
        self._read_gate.set()

    # ---- viewers --------------------------------------------------------------------------
    def attach(self, viewer: Viewer, access: str, since: int | None = None) -> AttachResult:
        """Attach (or re-attach) a viewer; replay starts at `since` or the oldest held byte."""
        end = self.ring.end
        if since is not None and not 0 <= since <= end:
            raise bad_request(f"'since' must be between 0 and the stream's end ({end}).")
        replay_from = self.ring.start if since is None else max(since, self.ring.start)
        self._attachments.pop(viewer.key, None)
        attachment = _Attachment(viewer, access, sent=replay_from, acked=replay_from)
        attachment.resume = functools.partial(self._pump, attachment)
        self._attachments[viewer.key] = attachment
        result = AttachResult(self.status, self.cols, self.rows, end, replay_from)
        self._pump(attachment)
        self._update_read_gate()
        return result

    def detach(self, key: str) -> bool:
        attachment = self._attachments.pop(key, None)
        if attachment is None:
            return False
        if not self._attachments:
            self.last_detached = time.monotonic()
        self._update_read_gate()
        return True

    def ack(self, key: str, offset: int) -> None:
        a = self._attachments.get(key)
        if a is None:
            return
        offset = min(offset, a.sent)  # an ack past what was sent is clamped
        if offset > a.acked:
            a.acked = offset
            if not self._flush_pending:  # else the pending flush sends it, coalesced
                self._pump(a)
            self._update_read_gate()

    def access_of(self, key: str) -> str | None:
        a = self._attachments.get(key)
        return a.access if a else None

    def set_access(self, user_id: str, access: str | None) -> list[str]:
        """Change (or, with None, end) a user's attachments; returns the keys that were detached."""
        detached = []
        for key, a in list(self._attachments.items()):
            if a.viewer.user_id == user_id:
                if access is None:
                    self.detach(key)
                    a.viewer.send_revoked(self.id)
                    detached.append(key)
                else:  # a watch asked read-only stays one
                    a.access = "viewer" if getattr(a.viewer, "read_only", False) else access
        return detached

    @property
    def viewer_count(self) -> int:
        return len(self._attachments)

    def viewers(self) -> list[tuple[Viewer, str]]:
        """Every attached viewer with its access, oldest attachment first."""
        return [(a.viewer, a.access) for a in self._attachments.values()]

    # ---- input and size -------------------------------------------------------------------
    def write(self, data: bytes, promised: bool = False) -> None:
        if not self.running:
            raise AppError("conflict", "The terminal has exited.")
        self._input_since_output = True
        self.backend.write(data, promised)
        for hook in self._input_hooks:
            try:
                hook(data)
            except Exception:
                log.exception("session %s: input hook failed", self.id)

    def input_backlog(self) -> int:
        """Bytes of input the process has not taken yet (0 for a backend that queues none)."""
        backlog = getattr(self.backend, "input_backlog", None)
        return backlog() if backlog is not None else 0

    def resize(self, cols: int, rows: int, by_key: str | None = None) -> None:
        """Set the size; the other attached sockets hear of it. A tab that takes the terminal over
        at the size it already has (focused or typed into) is announced too, without resizing the
        program: the tab that set the size last is the one in use, and the only one that answers
        the program's queries (cursor position, colours, ...)."""
        if not self.running:
            raise AppError("conflict", "The terminal has exited.")
        if (cols, rows) == (self.cols, self.rows):
            if by_key is None or by_key == self._sized_by:
                return
        else:
            self.backend.resize(cols, rows)
            self.cols, self.rows = cols, rows
            for hook in self._resize_hooks:
                hook(cols, rows)
        self._sized_by = by_key
        for key, a in list(self._attachments.items()):
            if key != by_key:
                a.viewer.send_resized(self.id, cols, rows)

    def announce(self, text: bytes) -> None:
        """Add a line of aict's own to the stream (viewers, replay and recording see it as output)."""
        self._append(text)

    def memory_bytes(self) -> int:
        return self.ring.memory_bytes()
