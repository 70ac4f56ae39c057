"""The host's look at what runs in its terminals: `terminal-process` for the terminals someone looks at.

One greenlet samples, once every PROCESS_SAMPLE_SECONDS, each running local terminal that a socket
is attached to or whose workspace a socket watches (`watch-terminals`), and sends a web process a
terminal's figures when they changed, or when that web process has just begun to look at it.
Nobody looking: nothing is read. A sample reads a few small /proc files per process
(aict.terminals.processes: ~32 µs of CPU for an idle bash, measured over 50 of them); the round
lets the loop run between terminals once it has worked for YIELD_SECONDS, so 200 terminals never
hold the loop longer than one terminal's sample. Measured with 200 attached terminals:
bench/process_sampling.py.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import gevent

from aict.terminals.processes import Sample, TreeSampler, command_of, started_at

if TYPE_CHECKING:
    from aict.host.service import HostService, WebLink
    from aict.terminals.live import LiveTerminal

log = logging.getLogger(__name__)
YIELD_SECONDS = 0.0005
FIRST_LOOK_SECONDS = 0.25  # a tree never sampled is sampled twice this far apart, for its CPU


def process_event(session_id: str, sample: Sample) -> dict:
    """The `terminal-process` payload (docs/api.md)."""
    foreground = None
    if sample.foreground_pid is not None:
        foreground = {"pid": sample.foreground_pid, "command": sample.foreground_command}
    return {"sessionId": session_id, "foreground": foreground, "processes": len(sample.processes),
            "cpu_percent": sample.cpu_percent, "rss_bytes": sample.rss_bytes}


def process_list(sample: Sample) -> list[dict]:
    """GET /api/sessions/<id>/processes: the tree, parents first."""
    listed = []
    for proc in sample.processes:
        command = command_of(proc.pid)
        if command is None:  # ended since the sample
            continue
        listed.append({"pid": proc.pid, "ppid": proc.ppid, "command": command,
                       "cpu_percent": sample.cpu.get(proc.pid, 0.0), "rss_bytes": proc.rss_bytes,
                       "started_at": started_at(proc)})
    return listed


class ProcessWatch:
    def __init__(self, host: HostService, interval: float):
        self.host = host
        self.interval = interval  # 0: never sampled (terminal-process is not sent)
        self._samplers: dict[str, TreeSampler] = {}
        self._last: dict[str, dict] = {}  # session id -> the payload sent last
        self._told: dict[str, set[WebLink]] = {}  # session id -> links that have the last payload
        self._runner: gevent.Greenlet | None = None
        self.rounds = 0
        self.sampled = 0  # terminals sampled, all rounds together (the bench reads these through stats)
        self.busy_seconds = 0.0  # CPU spent sampling and sending (the host's one thread's)

    def start(self) -> None:
        if self.interval > 0 and self._runner is None:
            self._runner = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.kill(block=False)
            self._runner = None

    def _run(self) -> None:
        while True:
            began = time.monotonic()
            try:
                self.round()
            except Exception:
                log.exception("sampling the terminals' processes failed")
            gevent.sleep(max(0.05, self.interval - (time.monotonic() - began)))

    # ---- who looks at what ------------------------------------------------------------------
    def interest(self) -> dict[str, set[WebLink]]:
        """Session id -> the links with a socket attached to it or watching its workspace."""
        wanted: dict[str, set[WebLink]] = {}
        watched: dict[str, set[WebLink]] = {}
        for link in self.host.links:
            for session_id, _key in link.viewers:
                wanted.setdefault(session_id, set()).add(link)
            for workspace_id in link.watched:
                watched.setdefault(workspace_id, set()).add(link)
        if watched:
            for terminal in self.host.terminals.all():
                links = watched.get(self.host.terminals.placement_of(terminal.id)[1])
                if links:
                    wanted.setdefault(terminal.id, set()).update(links)
        return wanted

    # ---- sampling ---------------------------------------------------------------------------
    def round(self) -> None:
        wanted = self.interest()
        for session_id in [s for s in self._samplers if s not in wanted]:
            self._forget(session_id)
        slice_began = time.monotonic()
        for session_id, links in wanted.items():
            terminal = self.host.terminals.get(session_id)
            if terminal is None or not terminal.running:
                self._forget(session_id)
                continue
            began = time.thread_time()  # CPU time: nothing else runs in between (no switch)
            sampler = self._sampler(terminal)
            if sampler is None:
                continue
            self._send(session_id, process_event(session_id, sampler.sample()), links)
            self.sampled += 1
            self.busy_seconds += time.thread_time() - began
            if time.monotonic() - slice_began >= YIELD_SECONDS:
                gevent.idle()  # everything else that is ready runs first
                slice_began = time.monotonic()
        self.rounds += 1

    def _sampler(self, terminal: LiveTerminal) -> TreeSampler | None:
        sampler = self._samplers.get(terminal.id)
        if sampler is None:
            make = getattr(terminal.backend, "process_sampler", None)  # local terminals only
            sampler = make() if make is not None else None
            if sampler is not None:
                self._samplers[terminal.id] = sampler
        return sampler

    def _send(self, session_id: str, payload: dict, links: set[WebLink]) -> None:
        told = self._told.setdefault(session_id, set())
        if payload != self._last.get(session_id):
            self._last[session_id] = payload
            told.clear()
        body = None
        for link in links - told:
            if body is None:
                body = {"ev": "proc", "session": session_id, "process": payload}
            link.frames.send_message(body)
            told.add(link)
        told.intersection_update(links)

    def _forget(self, session_id: str) -> None:
        self._samplers.pop(session_id, None)
        self._last.pop(session_id, None)
        self._told.pop(session_id, None)

    def forget_link(self, link: WebLink) -> None:
        for told in self._told.values():
            told.discard(link)

    # ---- the tree, asked for ----------------------------------------------------------------
    def processes(self, terminal: LiveTerminal) -> list[dict]:
        """The terminal's process tree with each process's CPU; [] where it cannot be seen (SSH)."""
        if not terminal.running:
            return []
        sampler = self._samplers.get(terminal.id)
        if sampler is None:
            make = getattr(terminal.backend, "process_sampler", None)
            sampler = make() if make is not None else None
            if sampler is None:
                return []
        if not sampler.sampled_before:
            sampler.sample()
            gevent.sleep(FIRST_LOOK_SECONDS)
        return process_list(sampler.sample())

    def stats(self) -> dict:
        return {"rounds": self.rounds, "sampled": self.sampled, "busySeconds": round(self.busy_seconds, 4),
                "watching": len(self._samplers)}
