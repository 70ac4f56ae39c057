"""Through the terminal host (issue 17): one terminal's output and echo along each way a socket reaches it.

Two nodes share one SQLite database, one set of secrets and the machine's Redis (a prefix of this
run's own). Node A is a terminal host (`python host.py`) with two web processes (AICT_HOST_CHILD=0);
node B is a web process with its host as its child. Three bash terminals run on node A's host, read
by a socket on:

  (a) web process 1, which created the terminal (host -> Unix socket -> web 1 -> WebSocket);
  (b) web process 2 of the same node (the terminal created through web 1; the same path from web 2);
  (c) node B's web process (host A -> Redis pub/sub -> web B -> WebSocket).

Rounds take turns with the bare PTY loop and terminado, as the stream rows do: the producer and the
echo are the main bench's; the echo is typed at a fixed 30 ms between keys (typing pace). The CPU
each process spent per MB of a round says where a path's time goes.

    BENCH_PARTS=host .venv/bin/python -m bench      # this part alone (RESULTS.md left as it is)
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from cryptography.fernet import Fernet

from bench import rawpty
from bench.terminado_ref import TerminadoServer, terminado_echo, terminado_throughput
from bench.wire import WireClient, aict_echo

ROUNDS = int(os.environ.get("BENCH_HOST_ROUNDS", 5))
ECHO_SAMPLES = int(os.environ.get("BENCH_HOST_ECHO_SAMPLES", 400))
ECHO_BLOCKS = 4
TYPING_GAP = 0.030  # seconds between keystrokes: typing pace (issue 17)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PATHS = {
    "a": "(a) the web process that created it",
    "b": "(b) another web process of the node",
    "c": "(c) a web process of another node (Redis)",
}
CONTENDERS = ("raw PTY", "a", "b", "c", "terminado")
ON_PATH = {"a": ("host A", "web 1"), "b": ("host A", "web 2"), "c": ("host A", "Redis", "web B")}  # what carries it


@dataclass
class HostResults:
    throughput: dict[str, list[float]] = field(default_factory=dict)  # MB/s per round
    echo: dict[str, list[float]] = field(default_factory=dict)  # ms per keystroke
    cpu: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # path -> process -> ms per MB, per round
    gaps: int = 0
    rounds: int = 0
    notes: list[str] = field(default_factory=list)


class Topology:
    """Node A (host + web 1 + web 2) and node B (a web process and its child host)."""

    def __init__(self, procs, workdir: Path, settings: dict[str, str]):
        from tests.server import HostProcess, RunningServer

        self.prefix = f"aict-bench-{secrets.token_hex(4)}"
        shared = {"AICT_DATABASE_URL": f"sqlite:///{workdir / 'shared.db'}",
                  "AICT_SECRET_KEY": secrets.token_urlsafe(48), "AICT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                  "AICT_REDIS_URL": REDIS_URL, "AICT_REDIS_PREFIX": self.prefix, **settings}
        socket_path = workdir / "node-a" / "host.sock"
        node_a = {**shared, "AICT_NODE": "bench-a", "AICT_HOST_CHILD": "0", "AICT_TERMINAL_HOST": str(socket_path)}
        self.procs = procs
        self.web1 = RunningServer(workdir / "node-a", node_a, log_name="web1.log")
        self.web2 = RunningServer(workdir / "node-a", node_a, log_name="web2.log")
        self.web2.admin_password = self.web1.admin_password
        self.web2.env["AICT_ADMIN_PASSWORD"] = self.web1.admin_password
        self.web_b = RunningServer(workdir / "node-b", {**shared, "AICT_NODE": "bench-b"})
        self.web_b.admin_password = self.web1.admin_password
        self.web_b.env["AICT_ADMIN_PASSWORD"] = self.web1.admin_password
        self.host = HostProcess(workdir / "node-a", {**self.web1.env})

    def start(self) -> None:
        self.web1.instance.mkdir(parents=True, exist_ok=True)
        self.web1.flask("db", "upgrade")
        self.host.start()
        self.procs.procs.append(self.host.proc)
        for web in (self.web1, self.web2, self.web_b):
            self.procs.servers.append(web)
            web.start()

    def pids(self) -> dict[str, int]:
        """The processes whose CPU a round accounts for."""
        pids = {"host A": self.host.proc.pid, "web 1": self.web1.proc.pid, "web 2": self.web2.proc.pid,
                "web B": self.web_b.proc.pid}
        for child in psutil.Process(self.web_b.proc.pid).children():
            if "host.py" in " ".join(child.cmdline()):
                pids["host B"] = child.pid
        for proc in psutil.process_iter(["name"]):
            if proc.info["name"] == "redis-server":
                pids["Redis"] = proc.pid
                break
        return pids

    def stop(self) -> None:
        for web in (self.web_b, self.web2, self.web1):
            self.procs.stop_server(web)
        self.host.stop()
        try:
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(match=f"{self.prefix}:*", count=1000):
                client.delete(key)
            client.close()
        except Exception:  # noqa: BLE001 - leftover keys of a bench run are harmless
            pass


def _cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    seconds = {}
    for label, pid in pids.items():
        try:
            times = psutil.Process(pid).cpu_times()
            seconds[label] = times.user + times.system
        except psutil.Error:
            pass
    return seconds


def typed_echo(client: WireClient, sid: str, samples: int, gap: float = TYPING_GAP) -> list[float]:
    """One character at a time, `gap` apart; ms until its echo arrives (as aict_echo)."""
    return aict_echo(client, sid, samples, (gap, gap))


def attached_session(client: WireClient, sid: str, timeout: float = 30) -> None:
    """Attach `client` to a terminal made elsewhere (another node's web process may need a few
    seconds to find the host through Redis), and wait for a clean prompt."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.call("attach-terminal", {"sessionId": sid})
            break
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            client.settle(0.2)
    client.run(sid, "PS1='$ '; echo READY_$((2*3))", b"READY_6")
    client.settle(0.1)


def run(procs, workdir: Path, bench, log) -> HostResults:
    """`bench` is bench.main (its producer, settings and helpers)."""
    results = HostResults(rounds=ROUNDS)
    settings = {"AICT_SOCKET_EVENT_RATE": "100000 per second", "AICT_MAX_SESSIONS_PER_USER": "5000",
                "AICT_LOGIN_RATE": "1000 per minute", "AICT_SHELL": "/bin/bash",
                "AICT_SHELL_ARGS": bench.PLAIN_BASH_ARGS}
    log("through the host: node A (host, web 1, web 2) and node B (web, host) on one Redis; terminado")
    nodes = Topology(procs, workdir / "nodes", settings)
    terminado = TerminadoServer(procs, bench.BENCH)
    clients: dict[str, WireClient] = {}
    try:
        nodes.start()
        terminado.start(["/bin/bash", *json.loads(bench.PLAIN_BASH_ARGS)])
        token = nodes.web1.admin_token
        workspace = nodes.web1.create_local_workspace()["id"]
        maker = WireClient(nodes.web1.url, token)
        sids = {"a": bench.prepared_session(maker, workspace)}
        clients["a"] = maker
        for path, web in (("b", nodes.web2), ("c", nodes.web_b)):
            creator = WireClient(nodes.web1.url, token)  # made through web 1, then left (the terminal runs on)
            sids[path] = creator.create(workspace)
            creator.settle(0.3)
            creator.close()
            clients[path] = WireClient(web.url, token)
            attached_session(clients[path], sids[path])
        pids = nodes.pids()

        for name in CONTENDERS:
            results.throughput[name] = []
        for round_ in range(ROUNDS):
            log(f"through the host, throughput round {round_ + 1}/{ROUNDS} ({bench.PRODUCE_BYTES / 1e6:.0f} MB each)")
            for name in CONTENDERS if round_ % 2 == 0 else reversed(CONTENDERS):
                if name == "raw PTY":
                    rate = rawpty.throughput(bench.PRODUCER)
                elif name == "terminado":
                    rate = terminado_throughput(terminado.url, bench.PRODUCER, bench.MARK)
                else:
                    before, moved = _cpu_seconds(pids), clients[name].received.get(sids[name], 0)
                    rate = bench.aict_throughput(clients[name], sids[name])
                    moved = clients[name].received[sids[name]] - moved
                    after = _cpu_seconds(pids)
                    per_mb = results.cpu.setdefault(name, {})
                    for label, spent in after.items():
                        per_mb.setdefault(label, []).append((spent - before.get(label, spent)) * 1000 / (moved / 1e6))
                results.throughput[name].append(rate)
            log("  " + ", ".join(f"{k} {v[-1]:.1f} MB/s" for k, v in results.throughput.items()))

        log(f"through the host, echo at typing pace ({TYPING_GAP * 1000:.0f} ms apart, {ECHO_BLOCKS} blocks)")
        for name in CONTENDERS:
            results.echo[name] = []
        share, gap = ECHO_SAMPLES // ECHO_BLOCKS, (TYPING_GAP, TYPING_GAP)
        for block in range(ECHO_BLOCKS):
            for name in CONTENDERS if block % 2 == 0 else reversed(CONTENDERS):
                if name == "raw PTY":
                    results.echo[name] += rawpty.echo(share, gap)
                elif name == "terminado":
                    results.echo[name] += terminado_echo(terminado.url, share, gap)
                else:
                    results.echo[name] += typed_echo(clients[name], sids[name], share)
        results.gaps += sum(client.gaps for client in clients.values())
    finally:
        for client in clients.values():
            client.close()
        terminado.stop()
        nodes.stop()
    return results


# ---- report ---------------------------------------------------------------------------------
def _p(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def _mark(ok: bool) -> str:
    return "✅ pass" if ok else "❌ fail"


def table(h: HostResults) -> str:
    tp = {k: statistics.median(v) for k, v in h.throughput.items()}
    e = {k: (_p(v, 50), _p(v, 99)) for k, v in h.echo.items()}
    raw, term = tp["raw PTY"], tp["terminado"]
    rows = [
        f"| Through the terminal host | {PATHS['a']} | {PATHS['b']} | {PATHS['c']} | raw PTY | terminado | "
        "Target | Result |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        f"| Output throughput, MB/s (median of {h.rounds}) | "
        + " | ".join(f"{tp[p]:.1f} ({tp[p] / raw:.2f}× raw, {tp[p] / term:.2f}× terminado)" for p in "abc")
        + f" | {raw:.1f} | {term:.1f} | (a) and (b): ≥ 0.8× raw PTY, ≥ 1.2× terminado | "
        + ", ".join(f"({p}) {_mark(tp[p] >= 0.8 * raw and tp[p] >= 1.2 * term)}" for p in "ab") + " |",
        f"| Echo p50 / p99 at typing pace, keys {TYPING_GAP * 1000:.0f} ms apart (ms) | "
        + " | ".join(f"{e[p][0]:.2f} / {e[p][1]:.2f}" for p in "abc")
        + f" | {e['raw PTY'][0]:.2f} / {e['raw PTY'][1]:.2f} | {e['terminado'][0]:.2f} / {e['terminado'][1]:.2f} | "
        "(a) and (b): p50 ≤ terminado's | "
        + ", ".join(f"({p}) {_mark(e[p][0] <= e['terminado'][0])}" for p in "ab") + " |",
    ]
    if h.cpu:
        cells = []
        for p in "abc":
            per = h.cpu.get(p, {})
            spent = [(label, statistics.median(per[label])) for label in ON_PATH[p] if label in per]
            cells.append(", ".join(f"{label} {ms:.1f}" for label, ms in spent))
        rows.append("| CPU per MB of the stream, ms (median of the rounds) | " + " | ".join(cells)
                    + " | | | (context: where the time goes) | |")
    return "\n".join(rows)


def conditions(h: HostResults) -> str:
    return (
        f"- Through the terminal host: node A is `python host.py` and two `python wsgi.py` with "
        "AICT_HOST_CHILD=0 on its Unix socket; node B is a `python wsgi.py` with its own host as its child; "
        "one SQLite database, the machine's Redis (pub/sub between nodes). Three bash terminals on node A's "
        "host: (a) read by a socket on web 1, which created it; (b) created through web 1, read by a socket "
        "on web 2; (c) created through web 1, read by a socket on node B's web process. Throughput: the "
        f"stream rows' producer, {h.rounds} rounds, each round the bare PTY loop, (a), (b), (c) and terminado "
        f"back to back (reversed every other round). Echo: {ECHO_SAMPLES} keystrokes per column, "
        f"{TYPING_GAP * 1000:.0f} ms apart, in {ECHO_BLOCKS} blocks that take turns. CPU per MB: user + "
        "system time of each process over a round, per MB received by the socket. Every round (MB/s): "
        + "; ".join(f"{PATHS.get(k, k)} {', '.join(f'{x:.1f}' for x in v)}" for k, v in h.throughput.items())
        + f". {h.gaps} chunk(s) out of order or with a gap."
    )


def targets(h: HostResults | None, main_results) -> list[str]:
    """Issue 17's targets, each from the row of this run that measures it (every row runs through the host)."""
    lines = []
    echo = getattr(main_results, "echo", {})
    ratios = []  # (which row, × terminado, × the bare loop): the same path measured by two parts of the run
    if getattr(main_results, "throughput", None):
        tp = {k: statistics.median(v) for k, v in main_results.throughput.items()}
        ratios.append((f"the stream row (median of {len(main_results.throughput['aict'])})",
                       tp["aict"] / tp["terminado"], tp["aict"] / tp["raw PTY"]))
    if h is not None:
        tp = {k: statistics.median(v) for k, v in h.throughput.items()}
        ratios.append((f"(a) above (median of {h.rounds})", tp["a"] / tp["terminado"], tp["a"] / tp["raw PTY"]))
    for label, vs_terminado, vs_raw in ratios:
        lines.append(f"throughput, {label}: {vs_terminado:.2f}× terminado (≥ 1.2), {vs_raw:.2f}× the bare PTY loop "
                     f"(≥ 0.8): {_mark(vs_terminado >= 1.2 and vs_raw >= 0.8)}")
    if h is not None:
        e = {k: _p(v, 50) for k, v in h.echo.items()}
        lines.append(f"echo p50 at typing pace (a) {e['a']:.2f} ms against terminado's {e['terminado']:.2f}: "
                     f"{_mark(e['a'] <= e['terminado'])}")
    if "aict flood" in echo:
        p99 = _p(echo["aict flood"], 99)
        lines.append(f"echo p99 while another terminal floods {p99:.2f} ms (≤ 10): {_mark(p99 <= 10)}")
    if "aict many" in echo:
        p99 = _p(echo["aict many"], 99)
        lines.append(f"echo p99 with {main_results.sessions} terminals on the node {p99:.2f} ms (≤ 10): "
                     f"{_mark(p99 <= 10 and main_results.sessions >= 1000)}")
    return lines
