"""What runs in a local terminal: its process tree, its foreground program, their CPU and memory.

Read from /proc directly, a few small files per process: the tree is walked down from the shell
through /proc/<pid>/task/<tid>/children, so a sample costs the same whatever else runs on the
machine (psutil's children() reads /proc/<pid>/stat of every process on it, once per call). Linux
only, as the PTY backend is. The shell is a session leader (setsid) on the terminal, so the
terminal's foreground process group (tcgetpgrp on its master) names what the user runs now.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
COMMAND_MAX = 512  # characters of a command line kept: enough to recognise it, never a wall of text
TREE_MAX = 2000  # processes walked per terminal: a fork bomb is counted this far and no further


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgrp: int
    ticks: int  # user + system CPU time, in clock ticks
    rss_bytes: int
    start_ticks: int  # since boot, in clock ticks: with pid, names one process whatever pids are reused
    threads: int = 1
    name: bytes = b""  # the kernel's name for it (comm): changes when it executes another program


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:  # gone meanwhile, or not ours to read
        return None


def read_proc(pid: int) -> Proc | None:
    """One process's /proc/<pid>/stat, or None when it has gone."""
    data = _read(f"/proc/{pid}/stat")
    if data is None:
        return None
    # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after its last ")".
    end = data.rfind(b")")
    fields = data[end + 2:].split()
    try:
        return Proc(pid=pid, ppid=int(fields[1]), pgrp=int(fields[2]), ticks=int(fields[11]) + int(fields[12]),
                    start_ticks=int(fields[19]), rss_bytes=int(fields[21]) * PAGE, threads=int(fields[17]),
                    name=data[data.find(b"(") + 1:end])
    except (IndexError, ValueError):
        return None


def children(pid: int, threads: int = 0) -> list[int]:
    """The pids whose parent is `pid` (any of its threads), as the kernel lists them. A process
    known to have one thread (`threads` 1, from its stat) has one list: no folder to read first."""
    tasks = [str(pid)] if threads == 1 else _listdir(f"/proc/{pid}/task")
    found: list[int] = []
    for tid in tasks:
        data = _read(f"/proc/{pid}/task/{tid}/children")
        if data:
            found.extend(int(child) for child in data.split())
    return found


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def tree(root: int) -> list[Proc]:
    """The process `root` and every descendant still running, parents before their children."""
    first = read_proc(root)
    if first is None:
        return []
    found, queue = [first], [first]
    while queue and len(found) < TREE_MAX:
        parent = queue.pop(0)
        for child in children(parent.pid, parent.threads):
            proc = read_proc(child)
            if proc is not None:
                found.append(proc)
                queue.append(proc)
    return found


def command_of(pid: int) -> str | None:
    """A process's command line as one string (its name in brackets when it has none, as ps shows
    kernel-like processes), or None when it has gone."""
    data = _read(f"/proc/{pid}/cmdline")
    if data is None:
        return None
    line = data.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")
    if not line:
        comm = _read(f"/proc/{pid}/comm")
        line = f"[{comm.decode('utf-8', 'replace').strip()}]" if comm else ""
    return line[:COMMAND_MAX]


def foreground_group(master_fd: int) -> int | None:
    """The terminal's foreground process group, or None when it cannot be told (closed, no group)."""
    if master_fd < 0:
        return None
    try:
        pgrp = os.tcgetpgrp(master_fd)
    except OSError:
        return None
    return pgrp if pgrp > 0 else None


_boot_time: float | None = None


def boot_time() -> float:
    """When the machine booted (Unix time): process start times are counted from it."""
    global _boot_time
    if _boot_time is None:
        for line in (_read("/proc/stat") or b"").splitlines():
            if line.startswith(b"btime "):
                _boot_time = float(line.split()[1])
                break
        else:
            _boot_time = time.time() - time.monotonic()
    return _boot_time


def started_at(proc: Proc) -> str:
    moment = datetime.fromtimestamp(boot_time() + proc.start_ticks / TICKS, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Sample:
    """One look at a terminal: its foreground program, and its tree's size, CPU and memory."""

    foreground_pid: int | None
    foreground_command: str | None
    processes: list[Proc]
    cpu: dict[int, float]  # pid -> percent of one CPU since the previous sample (0 for the first)

    @property
    def cpu_percent(self) -> float:
        return round(sum(self.cpu.values()), 1)

    @property
    def rss_bytes(self) -> int:
        return sum(proc.rss_bytes for proc in self.processes)


class TreeSampler:
    """Samples one terminal's tree; CPU is the time its processes used since the previous sample."""

    def __init__(self, root: int, master_fd: Callable[[], int]):
        self.root, self.master_fd = root, master_fd  # the PTY master's descriptor now (-1 once closed)
        self._ticks: dict[tuple[int, int], int] = {}  # (pid, start) -> CPU ticks at the previous sample
        self._at: float | None = None  # seconds since boot, at the previous sample
        self._command: tuple[tuple[int, int, bytes], str] | None = None  # the foreground's, read last

    def sample(self) -> Sample:
        procs = tree(self.root)
        now = time.clock_gettime(time.CLOCK_BOOTTIME)
        elapsed = now - self._at if self._at is not None else 0.0
        cpu: dict[int, float] = {}
        ticks: dict[tuple[int, int], int] = {}
        for proc in procs:
            key = (proc.pid, proc.start_ticks)
            ticks[key] = proc.ticks
            before = self._ticks.get(key)
            if before is None:  # new since the previous sample: all its time is since then (if it began after it)
                before = proc.ticks if self._at is None or proc.start_ticks / TICKS < self._at else 0
            cpu[proc.pid] = round(100.0 * (proc.ticks - before) / TICKS / elapsed, 1) if elapsed > 0 else 0.0
        self._ticks, self._at = ticks, now
        pgrp = foreground_group(self.master_fd())
        leader = None
        if pgrp is not None:  # the group's leader, or a member of it when the leader has gone
            leader = next((p.pid for p in procs if p.pid == pgrp), None) or next(
                (p.pid for p in procs if p.pgrp == pgrp), None)
        if leader == self.root:  # the shell at its prompt: its name, not the command line that started it
            command = next(p.name for p in procs if p.pid == leader).decode(errors="replace")
        else:
            command = self._command_of(next(p for p in procs if p.pid == leader)) if leader is not None else None
        return Sample(leader if command is not None else None, command, procs, cpu)

    def _command_of(self, proc: Proc) -> str | None:
        """The foreground's command line, read again only when it is another process or program
        (at the prompt, the same shell every second: one file read fewer per sample)."""
        key = (proc.pid, proc.start_ticks, proc.name)
        if self._command is not None and self._command[0] == key:
            return self._command[1]
        command = command_of(proc.pid)
        self._command = (key, command) if command is not None else None
        return command

    @property
    def sampled_before(self) -> bool:
        return self._at is not None
