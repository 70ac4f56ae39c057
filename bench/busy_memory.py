"""Memory per busy terminal (issue 23): full rings, a surge of replays, then steady output.

60 terminals each print `seq 1 700000` (~5 MB) while nobody watches, so every 4 MiB ring fills;
then all of them are re-attached at once with `since: 0` over 6 sockets (a replay of a full ring
each), and keep printing a line every 100 ms while the sockets read and ack. The server's RSS (its
web process and its terminal host, summed) is sampled throughout; per terminal = (RSS - RSS before
the terminals) / terminals.

    python -m bench.busy_memory          # this part alone, a table on stdout
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from dataclasses import dataclass, field

import psutil

from bench.wire import WireClient

TERMINALS = int(os.environ.get("BENCH_BUSY_TERMINALS", 60))
SOCKETS = 6
FILL = "seq 1 700000"  # 5.3 MB with the PTY's \r\n: more than a 4 MiB ring
STEADY = "perl -e '$|=1; while (1) { print scalar(localtime), qq( tick\\n); select(undef, undef, undef, 0.1) }'"
STEADY_SECONDS = float(os.environ.get("BENCH_BUSY_SECONDS", 30))


@dataclass
class BusyMemory:
    terminals: int = 0
    ring_bytes: int = 0
    baseline_mb: float = 0.0
    filled_mb: float = 0.0  # rings full, nobody attached
    surge_peak_mb: float = 0.0  # highest RSS while the replays were sent
    settled_mb: float = 0.0  # after the replays, steady output (median of the last samples)
    replay_seconds: float = 0.0
    replayed_bytes: int = 0
    gaps: int = 0
    samples: list[tuple[float, float]] = field(default_factory=list)

    def per_terminal(self, mb: float) -> float:
        return (mb - self.baseline_mb) / max(1, self.terminals)

    def ratio(self, mb: float) -> float:
        return self.per_terminal(mb) * 1024 * 1024 / max(1, self.ring_bytes)


def serving_processes(pid: int) -> list[psutil.Process]:
    """A server (`python wsgi.py`) and the terminal host it started: since issue 17 the terminals,
    their rings and their replays live in the host, and the web process relays."""
    web = psutil.Process(pid)
    return [web, *(p for p in web.children() if "host.py" in " ".join(p.cmdline()))]


def rss_mb(processes: list[psutil.Process]) -> float:
    return sum(p.memory_info().rss for p in processes) / 2**20


class RssSampler:
    """The RSS of the server's processes (web and host, summed) every 50 ms, on a thread, so a
    short peak is not missed."""

    def __init__(self, pid: int):
        self.processes = serving_processes(pid)
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.samples.append((time.monotonic(), rss_mb(self.processes)))

    def now(self) -> float:
        return rss_mb(self.processes)

    def peak(self, since: float) -> float:
        return max((mb for t, mb in self.samples if t >= since), default=self.now())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(1)


def _pump_all(clients: list[WireClient], seconds: float) -> None:
    """Read (and ack) on every socket for a while, each on its own thread like separate browsers."""
    threads = [threading.Thread(target=c.settle, args=(seconds,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def measure(server, ring_bytes: int, log) -> BusyMemory:
    result = BusyMemory(terminals=TERMINALS, ring_bytes=ring_bytes)
    workspace = server.create_local_workspace()["id"]
    rss = RssSampler(server.proc.pid)
    try:
        time.sleep(1)
        result.baseline_mb = rss.now()
        log(f"busy terminals: creating {TERMINALS}, each filling its ring while detached")
        sessions: list[str] = []
        for _ in range(SOCKETS):
            client = WireClient(server.url, server.admin_token)
            for _ in range(TERMINALS // SOCKETS):
                sid = client.create(workspace)
                client.run(sid, "PS1='$ '; echo READY_$((6*7))", b"READY_42")
                # The fill runs once this socket is gone: nobody attached, reads run at full speed.
                client.type(sid, f"{FILL}; echo FILLED_$((6*7)); {STEADY}\n")
                sessions.append(sid)
            client.close()
        filled = _wait_filled(server, sessions)
        time.sleep(2)
        result.filled_mb = rss.now()
        log(f"rings full ({filled} of {len(sessions)}); RSS {result.filled_mb:.0f} MiB; re-attaching all at once")
        clients = [WireClient(server.url, server.admin_token) for _ in range(SOCKETS)]
        surge_began = time.monotonic()
        for i, sid in enumerate(sessions):
            clients[i % SOCKETS].emit("attach-terminal", {"sessionId": sid, "since": 0}, want_answer=False)
        # Every socket reads its replays in parallel until each has received a full ring per terminal.
        want = len(sessions) // SOCKETS * ring_bytes * 0.95
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(sum(c.received.values()) < want for c in clients):
            _pump_all(clients, 0.5)
        result.replay_seconds = time.monotonic() - surge_began
        result.replayed_bytes = sum(sum(c.received.values()) for c in clients)
        result.surge_peak_mb = rss.peak(surge_began)
        log(f"replayed {result.replayed_bytes / 2**20:.0f} MiB in {result.replay_seconds:.1f} s "
            f"(peak RSS {result.surge_peak_mb:.0f} MiB); steady output for {STEADY_SECONDS:.0f} s")
        steady_began = time.monotonic()
        _pump_all(clients, STEADY_SECONDS)
        tail = [mb for t, mb in rss.samples if t >= steady_began + STEADY_SECONDS / 2]
        result.settled_mb = statistics.median(tail) if tail else rss.now()
        result.gaps = sum(c.gaps for c in clients)
        result.samples = rss.samples[::20]
        for client in clients:
            client.close()
    finally:
        rss.stop()
    return result


def _wait_filled(server, sessions: list[str], timeout: float = 300) -> int:
    """Wait until no terminal's `seq` runs any more: every ring then holds its last 4 MiB."""
    deadline = time.monotonic() + timeout
    running = len(sessions)
    while time.monotonic() < deadline:
        running = sum(1 for p in psutil.Process(server.proc.pid).children(recursive=True) if _is_seq(p))
        if not running:
            break
        time.sleep(0.5)
    return len(sessions) - running


def _is_seq(process: psutil.Process) -> bool:
    try:
        return process.name() == "seq"
    except psutil.Error:
        return False


def rows(r: BusyMemory, idle_kb: float | None) -> list[str]:
    ring_mib = r.ring_bytes / 2**20
    idle = f"; idle session {idle_kb:.1f} KB" if idle_kb is not None else ""

    def cell(mb: float) -> str:
        return f"{r.per_terminal(mb):.2f} MiB ({r.ratio(mb):.2f}× ring)"

    worst = max(r.ratio(r.surge_peak_mb), r.ratio(r.settled_mb))
    return [
        f"| Server memory per busy terminal, {r.terminals} full {ring_mib:.0f} MiB rings: filled / replay surge "
        f"peak / steady (MiB) | {cell(r.filled_mb)} / {cell(r.surge_peak_mb)} / {cell(r.settled_mb)}{idle} | | | "
        f"≤ 1.25× ring | {'✅ pass' if worst <= 1.25 else '❌ fail'} |",
    ]


def conditions(r: BusyMemory) -> str:
    return (f"- Busy terminals: {r.terminals} local bash terminals each ran `{FILL}` while detached (its "
            f"{r.ring_bytes / 2**20:.0f} MiB ring full), then all were re-attached at once with `since: 0` over "
            f"{SOCKETS} sockets (replays of {r.replayed_bytes / 2**20:.0f} MiB in {r.replay_seconds:.1f} s, acked "
            f"as read), then printed a line every 100 ms for {STEADY_SECONDS:.0f} s; RSS of the web process and its "
            "terminal host (summed) "
            f"sampled every 50 ms: {r.baseline_mb:.0f} MiB before the terminals, {r.filled_mb:.0f} with full rings, "
            f"{r.surge_peak_mb:.0f} at the surge's peak, {r.settled_mb:.0f} in steady output (median of its second "
            f"half); {r.gaps} chunk(s) out of order.")


def main() -> int:
    import shutil
    import tempfile
    from pathlib import Path

    from bench.main import Processes, log, raise_fd_limit, start_aict

    raise_fd_limit()
    procs = Processes()
    workdir = Path(tempfile.mkdtemp(prefix="aict-bench-busy-"))
    try:
        # BENCH_AICT_X=v runs the server with AICT_X=v (for trying settings; the record uses defaults).
        extra = {k.removeprefix("BENCH_"): v for k, v in os.environ.items() if k.startswith("BENCH_AICT_")}
        server = start_aict(procs, workdir, "aict-busy", **extra)
        result = measure(server, 4 * 2**20, log)
    finally:
        procs.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(["| Measure | aict | | | Target | Result |", "| --- | ---: | --- | --- | --- | --- |",
                     *rows(result, None)]))
    print()
    print(conditions(result))
    print("\nRSS samples (s, MiB): " + ", ".join(f"{t - result.samples[0][0]:.0f}:{mb:.0f}"
                                                for t, mb in result.samples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
