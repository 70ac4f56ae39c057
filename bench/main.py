"""The benchmark of issue 3: throughput, keystroke echo latency, memory per session.

Everything runs on loopback, in one run, on this machine: a real aict server (a child process),
a raw PTY reader as the ceiling, and terminado in its own venv as the reference Python web
terminal. Prints a markdown table with targets and writes it to bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench import browser, busy_memory, framing, opening, rawpty, through_host
from bench.terminado_ref import TerminadoServer, terminado_echo, terminado_throughput
from bench.wire import WireClient, aict_echo  # noqa: F401  (bench.aict_echo: paired_echo uses it)

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable

# One producer for every throughput row: `yes` lines of 100 bytes (101 on the wire: the PTY
# turns \n into \r\n), cut by head; CPU-cheap, so the terminal path is what is measured.
PRODUCE_BYTES = int(os.environ.get("BENCH_BYTES", 100_000_000))
# Rounds swing ±20% on 2 shared cores (where the reader, the producer and the tty worker land):
# a median of 5 moved the aict/raw ratio by ±0.1 between runs of the same code.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 9))
LINE = "a" * 99
RELAY = "raw PTY → socket"  # the raw loop passing every byte to another process: context for the ratio
MARK = b"BENCH_42_END"
PRODUCER = f"yes {LINE} | head -c {PRODUCE_BYTES}; echo BENCH_$((6*7))_END"
# Plain interactive bash everywhere: the machine's rc files (pyenv init...) are not what is measured.
PLAIN_BASH_ARGS = '["--noprofile", "--norc"]'
ECHO_GAP = (0.010, 0.030)  # seconds between keystrokes: faster than any typist, slower than a paste
BACK_TO_BACK = (0.0, 0.0)  # the next key the moment the echo arrives: output that follows input leaves at once
ECHO_SAMPLES = int(os.environ.get("BENCH_ECHO_SAMPLES", 1000))  # p99 is then the 10th worst, not the 4th
ECHO_BLOCKS = 4  # idle echo: aict and terminado take turns, a quarter of the samples at a time
RING_BYTES = 4 * 1024 * 1024  # the server's default RING_BYTES
MANY_SESSIONS = int(os.environ.get("BENCH_SESSIONS", 1000))
MANY_SOCKETS = 10
PRODUCERS = int(os.environ.get("BENCH_PRODUCERS", 100))
# A steady trickle (a line every 100 ms) without forking twice per line as `date; sleep` would.
TRICKLE = "perl -e '$|=1; while (1) { print scalar(localtime), qq( tick\\n); select(undef, undef, undef, 0.1) }'"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # inherited by the servers


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


# ---- processes ------------------------------------------------------------------------------
class Processes:
    """Every process the bench starts, so that all of them end whatever happens."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []
        self.servers: list = []

    def spawn(self, args: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(args, cwd=ROOT, **kwargs)
        self.procs.append(proc)
        return proc

    def stop_server(self, server) -> None:
        descendants = _descendants(server.proc.pid) if server.proc else []
        server.stop()
        _kill_all(descendants)
        if server in self.servers:
            self.servers.remove(server)

    def cleanup(self) -> None:
        for server in list(self.servers):
            self.stop_server(server)
        for proc in self.procs:
            if proc.poll() is None:
                descendants = _descendants(proc.pid)
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                _kill_all(descendants)


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _kill_all(processes: list[psutil.Process]) -> None:
    for p in processes:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(processes, timeout=5)


class Worker:
    """A bench.worker child speaking JSON lines."""

    def __init__(self, procs: Processes, *args: str):
        self.proc = procs.spawn([PY, "-m", "bench.worker", *args], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)

    def read(self, timeout: float = 120) -> dict:
        import selectors

        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                raise TimeoutError("worker did not answer")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker ended (exit {self.proc.wait()})")
        return json.loads(line)

    def tell(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.read()

    def finish(self) -> dict:
        summary = self.tell("stop")
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        return summary


def start_aict(procs: Processes, workdir: Path, name: str, root: Path = ROOT, **settings: str):
    sys.path.insert(0, str(ROOT))
    from tests.server import RunningServer

    env = {"AICT_SOCKET_EVENT_RATE": "100000 per second", "AICT_MAX_SESSIONS_PER_USER": "5000",
           "AICT_LOGIN_RATE": "1000 per minute", **settings}
    server = RunningServer(workdir / name, env, root=root)
    procs.servers.append(server)
    server.start()
    return server


# ---- measurements ---------------------------------------------------------------------------
@dataclass
class Results:
    throughput: dict[str, list[float]] = field(default_factory=dict)
    echo: dict[str, list[float]] = field(default_factory=dict)
    flood_rate: dict[str, float] = field(default_factory=dict)
    memory_kb: float = 0.0
    create_seconds: float = 0.0
    sessions: int = 0
    producing: int = 0
    gaps: int = 0
    notes: list[str] = field(default_factory=list)
    load: list[float] = field(default_factory=list)  # 1-minute load average at start and end
    busy: busy_memory.BusyMemory | None = None
    opening: dict[str, list[float]] = field(default_factory=dict)  # seconds to open TERMINALS, per round
    host: through_host.HostResults | None = None  # issue 17: the paths through the terminal host
    framing: dict | None = None  # issue 17: the host link's framing against JSON and the bare socket
    browser: browser.BrowserResults | None = None  # issue 21: the page in Chromium against bare xterm.js


def profile(pid: int, label: str, seconds: float = 5) -> subprocess.Popen | None:
    """BENCH_PROFILE=DIR: record the server with py-spy (if installed) while a row is measured."""
    folder = os.environ.get("BENCH_PROFILE")
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not folder or not Path(spy).exists():
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([spy, "record", "-f", "raw", "-r", "250", "-d", str(seconds), "-p", str(pid),
                             "-o", str(Path(folder) / f"{label}.txt")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def aict_throughput(client: WireClient, sid: str) -> float:
    before = client.received.get(sid, 0)
    client.watch(sid, MARK)
    start = time.perf_counter()
    client.type(sid, PRODUCER + "\n")
    end = client.wait_seen(300)
    return (client.received[sid] - before) / (end - start) / 1e6




def prepared_session(client: WireClient, workspace: str, bash: bool = False) -> str:
    sid = client.create(workspace)
    deadline = time.monotonic() + 60
    while not client.received.get(sid) and time.monotonic() < deadline:  # the shell's first prompt
        client.settle(0.02)
    if bash:  # a plain interactive bash (readline echo) whatever the server's shell is
        client.type(sid, "exec bash --noprofile --norc\n")
        client.settle(0.5)
    client.run(sid, "PS1='$ '; echo READY_$((2*3))", b"READY_6")
    client.settle(0.1)
    return sid


def run(results: Results, procs: Processes, workdir: Path) -> None:
    parts = os.environ.get("BENCH_PARTS", "stream,b2b,open,many,busy,host,framing,browser").split(",")
    if "stream" in parts:
        run_stream(results, procs, workdir)
    if "b2b" in parts:
        run_back_to_back(results, procs, workdir)
    if "open" in parts:
        run_open(results, procs, workdir)
    if "many" in parts:
        run_many(results, procs, workdir)
    if "busy" in parts:
        run_busy(results, procs, workdir)
    if "host" in parts:
        results.host = through_host.run(procs, workdir, sys.modules[__name__], log)
        results.gaps += results.host.gaps
    if "framing" in parts:
        results.framing = framing.measure(framing.ROUNDS, log)
    if "browser" in parts:
        results.browser = browser.run(procs, workdir, sys.modules[__name__], log)


def run_stream(results: Results, procs: Processes, workdir: Path) -> None:
    terminado = TerminadoServer(procs, BENCH)
    log("starting aict (bash) and terminado (bash)")
    server = start_aict(procs, workdir, "aict-bash", AICT_SHELL="/bin/bash", AICT_SHELL_ARGS=PLAIN_BASH_ARGS)
    terminado.start(["/bin/bash", *json.loads(PLAIN_BASH_ARGS)])
    token = server.admin_token
    workspace = server.create_local_workspace()["id"]
    client = WireClient(server.url, token)
    sid = prepared_session(client, workspace)

    # 1. throughput, interleaved rounds so that machine noise hits every contender alike
    for name in ("raw PTY", RELAY, "aict", "terminado"):
        results.throughput[name] = []
    for round_ in range(ROUNDS):
        log(f"throughput round {round_ + 1}/{ROUNDS} ({PRODUCE_BYTES / 1e6:.0f} MB each)")
        results.throughput["raw PTY"].append(rawpty.throughput(PRODUCER))
        results.throughput[RELAY].append(rawpty.throughput(PRODUCER, relay=True))
        results.throughput["aict"].append(aict_throughput(client, sid))
        results.throughput["terminado"].append(terminado_throughput(terminado.url, PRODUCER, MARK))
        log("  " + ", ".join(f"{k} {v[-1]:.1f} MB/s" for k, v in results.throughput.items()))
    results.gaps += client.gaps

    # 2. echo latency: idle, then with another session flooding (acked by another process)
    log(f"echo latency, idle ({ECHO_BLOCKS} interleaved blocks each)")
    results.echo["aict idle"], results.echo["terminado idle"], results.echo["raw idle"] = [], [], []
    for _ in range(ECHO_BLOCKS):  # interleaved, like the throughput rounds
        results.echo["aict idle"] += aict_echo(client, sid, ECHO_SAMPLES // ECHO_BLOCKS, ECHO_GAP)
        results.echo["terminado idle"] += terminado_echo(terminado.url, ECHO_SAMPLES // ECHO_BLOCKS, ECHO_GAP)
        results.echo["raw idle"] += rawpty.echo(ECHO_SAMPLES // ECHO_BLOCKS, ECHO_GAP)
    log("echo latency, while another session floods")
    flood = Worker(procs, "aict-flood", server.url, token, workspace)
    flood.read()
    spy = profile(server.proc.pid, "flood")
    results.echo["aict flood"] = aict_echo(client, sid, ECHO_SAMPLES, ECHO_GAP)
    if spy:
        spy.wait()
    log("echo latency of a bare PTY, while the same session floods (the machine's floor)")
    results.echo["raw flood"] = rawpty.echo(ECHO_SAMPLES, ECHO_GAP)
    summary = flood.finish()
    results.flood_rate["aict"] = summary["mb_per_s"]
    results.gaps += summary["gaps"]
    flood = Worker(procs, "terminado-flood", terminado.url)
    flood.read()
    results.echo["terminado flood"] = terminado_echo(terminado.url, ECHO_SAMPLES, ECHO_GAP)
    results.flood_rate["terminado"] = flood.finish()["mb_per_s"]
    client.close()
    terminado.stop()
    procs.stop_server(server)


def run_back_to_back(results: Results, procs: Processes, workdir: Path) -> None:
    # 2b. back-to-back keystrokes: each key sent the moment the previous one's echo arrives
    terminado = TerminadoServer(procs, BENCH)
    log(f"back-to-back echo ({ECHO_BLOCKS} interleaved blocks each)")
    server = start_aict(procs, workdir, "aict-b2b", AICT_SHELL="/bin/bash", AICT_SHELL_ARGS=PLAIN_BASH_ARGS)
    terminado.start(["/bin/bash", *json.loads(PLAIN_BASH_ARGS)])
    client = WireClient(server.url, server.admin_token)
    sid = prepared_session(client, server.create_local_workspace()["id"])
    for name in ("aict b2b", "terminado b2b", "raw b2b"):
        results.echo[name] = []
    for _ in range(ECHO_BLOCKS):
        results.echo["aict b2b"] += aict_echo(client, sid, ECHO_SAMPLES // ECHO_BLOCKS, BACK_TO_BACK)
        results.echo["terminado b2b"] += terminado_echo(terminado.url, ECHO_SAMPLES // ECHO_BLOCKS, BACK_TO_BACK)
        results.echo["raw b2b"] += rawpty.echo(ECHO_SAMPLES // ECHO_BLOCKS, BACK_TO_BACK)
    results.gaps += client.gaps
    client.close()
    terminado.stop()
    procs.stop_server(server)


def run_open(results: Results, procs: Processes, workdir: Path) -> None:
    # 2c. opening many terminals at once, in rounds that take turns
    shell = ["/bin/bash", *json.loads(PLAIN_BASH_ARGS)]
    terminado = TerminadoServer(procs, BENCH)
    server = start_aict(procs, workdir, "aict-open", AICT_SHELL="/bin/bash", AICT_SHELL_ARGS=PLAIN_BASH_ARGS)
    terminado.start(shell, max_terminals=opening.TERMINALS + 10)
    token = server.admin_token
    workspace = server.create_local_workspace()["id"]
    warm = WireClient(server.url, token)  # the first terminal of a server warms its create path
    warm.call("kill-terminal", {"sessionId": prepared_session(warm, workspace)})
    warm.close()
    spy = profile(server.proc.pid, "open", 60) if os.environ.get("BENCH_PROFILE_OPEN") else None
    for name in ("aict", "terminado", "raw PTY"):
        results.opening[name] = []
    for round_ in range(opening.ROUNDS):
        log(f"opening {opening.TERMINALS} terminals {opening.PARALLEL} at a time, round {round_ + 1}/{opening.ROUNDS}")
        results.opening["aict"].append(opening.aict_open(server.url, token, workspace))
        results.opening["terminado"].append(opening.terminado_open(terminado.url))
        results.opening["raw PTY"].append(opening.raw_open(shell))
        log("  " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in results.opening.items()))
    if spy:
        spy.wait()
    terminado.stop()
    procs.stop_server(server)


def run_many(results: Results, procs: Processes, workdir: Path) -> None:
    # 3. many sessions: memory per idle session, then echo with a hundred of them busy
    log(f"{MANY_SESSIONS} sessions (/bin/sh)")
    server = start_aict(procs, workdir, "aict-many", AICT_SHELL="/bin/sh", AICT_SHELL_ARGS="[]")
    token = server.admin_token
    workspace = server.create_local_workspace()["id"]
    warm_client = WireClient(server.url, token)  # warm the create path before the baseline
    warm_client.call("kill-terminal", {"sessionId": prepared_session(warm_client, workspace)})
    warm_client.close()
    time.sleep(1)
    serving = busy_memory.serving_processes(server.proc.pid)  # the web process and its terminal host
    rss_before = busy_memory.rss_mb(serving)
    load = Worker(procs, "aict-load", server.url, token, workspace, str(MANY_SESSIONS), str(MANY_SOCKETS),
                  str(PRODUCERS), TRICKLE)
    created = load.read(timeout=240)
    results.sessions, results.create_seconds = created["created"], created["seconds"]
    if created["errors"]:
        results.notes.append(f"session creation errors: {created['errors']}")
    log(f"created {results.sessions} sessions in {results.create_seconds:.1f} s; letting them settle")
    time.sleep(3)
    rss_after = busy_memory.rss_mb(serving)
    results.memory_kb = (rss_after - rss_before) * 1024 / max(1, results.sessions)
    # The echo client connects now: a single-threaded client answers pings only while it reads.
    client = WireClient(server.url, token)
    sid = prepared_session(client, workspace, bash=True)
    results.producing = load.tell("produce")["producing"]
    client.settle(2)
    log(f"echo latency with {results.sessions} sessions, {results.producing} producing")
    spy = profile(server.proc.pid, "many")
    results.echo["aict many"] = aict_echo(client, sid, ECHO_SAMPLES, ECHO_GAP)
    if spy:
        spy.wait()
    log("echo latency of a bare PTY, with the same load (the machine's floor)")
    results.echo["raw many"] = rawpty.echo(ECHO_SAMPLES, ECHO_GAP)
    results.gaps += load.finish()["gaps"] + client.gaps
    client.close()
    procs.stop_server(server)


def run_busy(results: Results, procs: Processes, workdir: Path) -> None:
    # 4. busy terminals: memory per terminal with its ring full, through a surge of replays
    server = start_aict(procs, workdir, "aict-busy")
    results.busy = busy_memory.measure(server, RING_BYTES, log)
    results.gaps += results.busy.gaps
    procs.stop_server(server)


# ---- report ---------------------------------------------------------------------------------
def measured_commit() -> str:
    """The commit measured, "-dirty" if the code differs from it (not this bench's own RESULTS.md)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD") or "unknown"
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)bench/RESULTS.md")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if changed else "")


def mark(ok: bool) -> str:
    return "✅ pass" if ok else "❌ fail"


def table(r: Results) -> str:
    e = {k: (percentile(v, 50), percentile(v, 99)) for k, v in r.echo.items()}
    rows = [
        "| Measure | aict | raw PTY | terminado | Target | Result |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    if r.throughput:
        tp = {k: statistics.median(v) for k, v in r.throughput.items()}
        vs_raw, vs_term = tp["aict"] / tp["raw PTY"], tp["aict"] / tp["terminado"]
        rows += [
            f"| Output throughput, MB/s (median of {ROUNDS}) | {tp['aict']:.1f} | {tp['raw PTY']:.1f} | "
            f"{tp['terminado']:.1f} | ≥ 0.8× raw PTY, ≥ 1.2× terminado | {vs_raw:.2f}× raw, {vs_term:.2f}× "
            f"terminado: {mark(vs_raw >= 0.8 and vs_term >= 1.2)} |",
            f"| Raw PTY loop relaying every byte over loopback TCP to another process, MB/s | | {tp[RELAY]:.1f} "
            f"({tp[RELAY] / tp['raw PTY']:.2f}× raw) | | (context: the cost of delivering at all) | |",
            f"| Echo p50 / p99, idle (ms) | {e['aict idle'][0]:.2f} / {e['aict idle'][1]:.2f} | "
            f"{e['raw idle'][0]:.2f} / {e['raw idle'][1]:.2f} | "
            f"{e['terminado idle'][0]:.2f} / {e['terminado idle'][1]:.2f} | p50 ≤ terminado's | "
            f"{mark(e['aict idle'][0] <= e['terminado idle'][0])} |",
            f"| Echo p50 / p99 while another session floods (ms) | {e['aict flood'][0]:.2f} / "
            f"{e['aict flood'][1]:.2f} | {e['raw flood'][0]:.2f} / {e['raw flood'][1]:.2f} | "
            f"{e['terminado flood'][0]:.2f} / {e['terminado flood'][1]:.2f} | "
            f"p99 < 10 ms | {mark(e['aict flood'][1] < 10)} |",
            f"| Flood rate meanwhile (MB/s, `yes`, acked) | {r.flood_rate['aict']:.1f} | | "
            f"{r.flood_rate['terminado']:.1f} | (context) | |",
        ]
    if "aict b2b" in e:
        rows.append(
            f"| Echo p50 / p99, back to back: the next key the moment the echo arrives (ms) | "
            f"{e['aict b2b'][0]:.2f} / {e['aict b2b'][1]:.2f} | {e['raw b2b'][0]:.2f} / {e['raw b2b'][1]:.2f} | "
            f"{e['terminado b2b'][0]:.2f} / {e['terminado b2b'][1]:.2f} | p50 ≤ terminado's | "
            f"{mark(e['aict b2b'][0] <= e['terminado b2b'][0])} |")
    if r.opening:
        o = {k: statistics.median(v) for k, v in r.opening.items()}
        rows.append(
            f"| Opening {opening.TERMINALS} terminals, {opening.PARALLEL} at a time, s (median of "
            f"{len(r.opening['aict'])}) | {o['aict']:.2f} | {o['raw PTY']:.2f} | {o['terminado']:.2f} | "
            f"≤ 1.5× terminado | {o['aict'] / o['terminado']:.2f}× terminado: "
            f"{mark(o['aict'] <= 1.5 * o['terminado'])} |")
    if "aict many" in e:
        rows += [
            f"| Server memory per idle session, {r.sessions} sessions (KB) | {r.memory_kb:.1f} | | | ≤ 100 KB | "
            f"{mark(r.memory_kb <= 100 and r.sessions == MANY_SESSIONS)} |",
            f"| Echo p50 / p99, {r.sessions} sessions open, {r.producing} producing (ms) | "
            f"{e['aict many'][0]:.2f} / {e['aict many'][1]:.2f} | {e['raw many'][0]:.2f} / {e['raw many'][1]:.2f} "
            "| | p99 < 10 ms | "
            f"{mark(e['aict many'][1] < 10)} |",
        ]
    if r.busy is not None:
        rows += busy_memory.rows(r.busy, r.memory_kb if r.sessions else None)
    return "\n".join(rows)


def conditions(r: Results) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = measured_commit()
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} at commit {commit} on "
        f"{os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, loopback only, all rows in one run of `make bench`; "
        f"1-minute load average {' → '.join(f'{x:.1f}' for x in r.load)} (other work on the machine skews "
        "latency tails and throughput alike).",
        "",
        f"- Throughput: `{PRODUCER.replace(LINE, 'a×99')}` ({PRODUCE_BYTES / 1e6:.0f} MB of 100-byte lines, "
        "101 bytes each on the wire), timed from typing the command to its end marker; MB = 10⁶ bytes. "
        "raw PTY: a Python loop reading the PTY master in 64 KiB non-blocking reads woken by poll(). "
        "raw PTY → socket: the same loop also sending what it read over loopback TCP (256 KiB or 8 ms of "
        "output per send) to a process that reads and drops it: the ceiling of anything that delivers a "
        "terminal's output to a client, before any protocol, framing, flow control or client logic. "
        "Both clients connect and send with websocket-client and read with bench/wsframes.py (whatever "
        "the socket holds, in one recv) on the thread that waits. aict: bench/wire.py, a minimal "
        "Socket.IO client that acks every chunk. terminado 0.18.1: tornado app with UniqueTermManager, "
        "its JSON messages.",
        f"- Echo: one character typed into an interactive bash (readline echo), time until it comes back; "
        f"{ECHO_SAMPLES} samples per row, {ECHO_GAP[0] * 1000:.0f}–{ECHO_GAP[1] * 1000:.0f} ms apart; the idle rows "
        f"take turns in {ECHO_BLOCKS} blocks. "
        "Flood: another terminal runs `yes`, read and acked by a client in another process. "
        "raw PTY: the same keystrokes written straight to an interactive bash on a PTY and the echo "
        "read back by a Python loop, no web stack in between (during aict's flood): what the "
        "machine itself allows, the floor under every web terminal's numbers.",
        "- Back to back: the echo rows' keystrokes with no pause between them: the next key is sent the "
        "moment the previous one's echo arrives (aict, terminado and the bare PTY take turns in "
        f"{ECHO_BLOCKS} blocks).",
        f"- Opening: {opening.TERMINALS} terminals of a plain bash, {opening.PARALLEL} at a time, kept open "
        "until the last one is; a terminal is open when its shell's first output (the prompt) arrives. "
        f"aict: {opening.PARALLEL} sockets of one user, each `create-terminal` after another; terminado: a "
        "websocket each (UniqueTermManager); raw PTY: openpty and the shell started by subprocess, on "
        f"{opening.PARALLEL} threads. Rounds take turns; every round's seconds: " + "; ".join(
            f"{k} {', '.join(f'{x:.2f}' for x in v)}" for k, v in r.opening.items()) + ".",
        f"- Many sessions: {r.sessions} `/bin/sh` sessions over {MANY_SOCKETS} sockets (created in "
        f"{r.create_seconds:.0f} s); memory = growth of the RSS of the web process and its terminal host (not "
        "the shells) / sessions; "
        "rings are allocated lazily and hold only a prompt. Then "
        f"{r.producing} of them print a line every 100 ms (perl loop), read and acked by their sockets, "
        "while the echo is measured in a bash session of the same server (raw PTY: a bare bash PTY "
        "meanwhile, as above).",
        "- Throughput of every round (MB/s): " + "; ".join(
            f"{k} {', '.join(f'{x:.1f}' for x in v)}" for k, v in r.throughput.items()) + ". The raw PTY ceiling "
        "swings most from run to run (where the tty worker, the producer and the reader land on the 2 cores).",
        f"- Stream checks: {r.gaps} chunk(s) out of order or with a gap over all aict clients.",
    ]
    if r.busy is not None:
        lines.append(busy_memory.conditions(r.busy))
    if r.host is not None:
        lines.append(through_host.conditions(r.host))
    if r.framing is not None:
        lines.append(framing.conditions(framing.ROUNDS))
    lines += [f"- Note: {n}" for n in r.notes]
    return "\n".join(lines)


def main() -> int:
    started = time.monotonic()
    raise_fd_limit()
    procs = Processes()
    results = Results()
    workdir = Path(tempfile.mkdtemp(prefix="aict-bench-"))
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    results.load.append(os.getloadavg()[0])
    try:
        run(results, procs, workdir)
        results.load.append(os.getloadavg()[0])
    finally:
        procs.cleanup()
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(workdir, ignore_errors=True)
    text = table(results)
    if results.host is not None:
        text += "\n\n" + through_host.table(results.host)
    if results.framing is not None:
        text += "\n\n" + framing.table(results.framing)
    if results.browser is not None:
        text += "\n\n" + browser.table(results.browser)
    if checks := through_host.targets(results.host, results):
        text += "\n\n" + "\n".join(f"- Issue 17's target: {check}" for check in checks)
    body = f"{text}\n\n{conditions(results)}\n"
    print()
    print(body)
    whole = (results.throughput and results.sessions and results.busy and results.opening and "aict b2b" in results.echo
             and results.host and results.framing and results.browser)
    if whole:  # a partial run (BENCH_PARTS) keeps the record
        (BENCH / "RESULTS.md").write_text("# aict benchmark (issue 3)\n\n" + body)
        log(f"done in {time.monotonic() - started:.0f} s; table written to bench/RESULTS.md")
    else:
        log(f"done in {time.monotonic() - started:.0f} s (partial run: bench/RESULTS.md left as it was)")
    return 0
