"""Paired throughput comparison: is a change faster, on this machine, today?

    .venv/bin/python -m bench.paired [--rounds N] VARIANT [VARIANT ...]

A VARIANT is `label=PATH[@NAME=VALUE,...]`: an aict checkout (`git worktree add /tmp/base HEAD~1`
gives the previous commit one) and environment for its server (AICT_* settings, or a knob a probe
reads). Every variant gets its own server and session; each round runs the raw PTY loop, every
variant (in alternating order), the raw loop relaying to a socket (bench/rawpty.py) and terminado
back to back, so that the machine's drift, which is larger than most changes here (the raw loop
swings 63-106 MB/s between rounds), hits all of them alike. Prints medians, ratios, the server's
CPU per MB and how busy the machine's cores were.
BENCH_BYTES sets the stream's size, as for `make bench`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench import main as bench
from bench import rawpty
from bench.terminado_ref import TerminadoServer, terminado_throughput
from bench.wire import WireClient


@dataclass
class Contender:
    label: str
    rates: list[float] = field(default_factory=list)  # MB/s per round
    server_ms_per_mb: list[float] = field(default_factory=list)
    cores: list[float] = field(default_factory=list)  # busy cores over the round, machine-wide


@dataclass
class Variant:
    contender: Contender
    root: Path
    settings: dict[str, str]
    client: WireClient | None = None
    session: str = ""
    server: psutil.Process | None = None


def parse_variant(spec: str) -> Variant:
    label, sep, rest = spec.partition("=")
    if not sep or not label:
        raise argparse.ArgumentTypeError(f"{spec!r}: expected label=PATH[@NAME=VALUE,...]")
    path, _, assignments = rest.partition("@")
    root = Path(path or ".").resolve()
    if not (root / "wsgi.py").is_file():
        raise argparse.ArgumentTypeError(f"{root} is not an aict checkout (no wsgi.py)")
    settings = {}
    for item in filter(None, assignments.split(",")):
        name, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"{item!r}: expected NAME=VALUE")
        settings[name] = value
    return Variant(Contender(label), root, settings)


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def measured(contender: Contender, run, server: psutil.Process | None = None) -> None:
    """Run one round of `run()` (returns MB/s) and note its rate, CPU and busy cores."""
    before_cpu = sum(server.cpu_times()[:2]) if server else 0.0
    busy_before, total_before = machine_busy()
    rate = run()
    busy_after, total_after = machine_busy()
    contender.rates.append(rate)
    contender.cores.append((busy_after - busy_before) / max(1, total_after - total_before) * psutil.cpu_count())
    if server:
        seconds = sum(server.cpu_times()[:2]) - before_cpu
        contender.server_ms_per_mb.append(seconds * 1000 / (bench.PRODUCE_BYTES / 1e6))


def report(raw: Contender, relay: Contender, terminado: Contender, variants: list[Variant]) -> str:
    raw_rate, terminado_rate = statistics.median(raw.rates), statistics.median(terminado.rates)
    lines = ["| Contender | MB/s (median) | × raw PTY | × terminado | reader's CPU ms/MB | busy cores | rounds |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for contender in [raw, *(v.contender for v in variants), relay, terminado]:
        rate = statistics.median(contender.rates)
        cpu = f"{statistics.median(contender.server_ms_per_mb):.1f}" if contender.server_ms_per_mb else ""
        rounds = ", ".join(f"{r:.1f}" for r in contender.rates)
        lines.append(f"| {contender.label} | {rate:.1f} | {rate / raw_rate:.2f} | {rate / terminado_rate:.2f} | {cpu} "
                     f"| {statistics.median(contender.cores):.2f} | {rounds} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paired", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("variants", nargs="+", type=parse_variant, metavar="label=PATH[@NAME=VALUE,...]")
    args = parser.parse_args(argv)
    bench.raise_fd_limit()
    procs, workdir = bench.Processes(), Path(tempfile.mkdtemp(prefix="aict-paired-"))
    raw, relay, terminado = Contender("raw PTY"), Contender("raw PTY → socket"), Contender("terminado")
    try:
        for variant in args.variants:
            server = bench.start_aict(procs, workdir, variant.contender.label, root=variant.root,
                                      AICT_SHELL="/bin/bash", AICT_SHELL_ARGS=bench.PLAIN_BASH_ARGS, **variant.settings)
            variant.client = WireClient(server.url, server.admin_token)
            variant.session = bench.prepared_session(variant.client, server.create_local_workspace()["id"])
            variant.server = psutil.Process(server.proc.pid)
        reference = TerminadoServer(procs, bench.BENCH)
        reference.start(["/bin/bash", "--noprofile", "--norc"])
        myself = psutil.Process()  # the raw loops run here: their CPU is this process's
        for round_ in range(args.rounds):
            measured(raw, lambda: rawpty.throughput(bench.PRODUCER), myself)
            for variant in args.variants if round_ % 2 == 0 else reversed(args.variants):
                stream = lambda v=variant: bench.aict_throughput(v.client, v.session)  # noqa: E731
                measured(variant.contender, stream, variant.server)
            measured(relay, lambda: rawpty.throughput(bench.PRODUCER, relay=True), myself)
            measured(terminado, lambda: terminado_throughput(reference.url, bench.PRODUCER, bench.MARK))
            contenders = [raw, *(v.contender for v in args.variants), relay, terminado]
            bench.log(f"round {round_ + 1}/{args.rounds}: "
                      + ", ".join(f"{c.label} {c.rates[-1]:.1f}" for c in contenders))
    finally:
        procs.cleanup()
    print(report(raw, relay, terminado, args.variants))
    return 0


if __name__ == "__main__":
    sys.exit(main())
