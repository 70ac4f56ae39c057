"""Compressed terminal output (issue 20): bytes on the wire, server CPU per MB, loopback throughput, echo.

    .venv/bin/python -m bench.compression [--rounds N] [--mb N] [--echo-samples N]

One aict server (plain bash). A mixed-text file of --mb MB (50 by default) is made once: a quarter
each of `ls -lR /usr`, `seq`, coloured log lines and base64 of random bytes (noise that hardly
compresses). Every round `cat`s it into one terminal attached without compression and one attached
with `compress: "deflate-raw"`, in alternating order, read, inflated and acked by a client in this
process: MB/s of terminal output, CPU seconds of the web process and of the terminal host per MB
(less swayed by the other work on the machine than MB/s; compression runs in the web process), and
bytes on the wire per MB. Then keystroke echo latency in blocks that take turns, idle and while
another session of the server floods the same text (read by another process), without and with.
Prints markdown tables; what a link of a given speed makes of the bytes is computed from them.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import psutil

from bench import main as bench
from bench.wire import WireClient, aict_echo

MARK = b"FLOOD_42_END"
SLOW_LINKS_MB_S = (2.0, 10.0)
KINDS = ("ls -lR /usr", "seq", "coloured log", "base64 noise")
VARIANTS = ("off", "deflate-raw")


def mixed_text(path: Path, total: int) -> dict[str, bytes]:
    """Write the flood's file (the four kinds, a quarter each, in blocks of 256 KiB taking turns, as
    a busy terminal mixes them); returns a sample of each kind for the per-kind table."""
    quarter = total // 4
    listing = subprocess.run(f"ls -lR /usr 2>/dev/null | head -c {quarter}", shell=True, capture_output=True,
                             check=False).stdout
    while len(listing) < quarter:  # a small /usr: the listing again
        listing += listing[:quarter - len(listing)]
    numbers = subprocess.run(f"seq 1 1000000000 | head -c {quarter}", shell=True, capture_output=True,
                             check=True).stdout
    rng, log_lines, size = random.Random(42), [], 0
    levels = (b"\x1b[32mINFO\x1b[0m ", b"\x1b[33mWARN\x1b[0m ", b"\x1b[31mERROR\x1b[0m")
    while size < quarter:
        i = len(log_lines)
        line = b"2024-05-01T12:%02d:%02d.%03dZ %s worker-%d handled request id=%08x in %d ms\n" % (
            i // 60 % 60, i % 60, i % 1000, rng.choice(levels), i % 8, rng.getrandbits(32), rng.randint(1, 900))
        log_lines.append(line)
        size += len(line)
    logs = b"".join(log_lines)[:quarter]
    noise = base64.encodebytes(os.urandom(quarter * 3 // 4 + 3))[:quarter]
    parts = dict(zip(KINDS, (listing[:quarter], numbers, logs, noise), strict=True))
    block = 256 * 1024
    with path.open("wb") as out:
        for start in range(0, quarter, block):
            for data in parts.values():
                out.write(data[start:start + block])
    return parts


def per_kind(parts: dict[str, bytes]) -> list[str]:
    """Deflated size per kind, in 64 KiB chunks through the server's own compressor."""
    from aict.realtime.output_compression import OutputCompressor

    rows = []
    for kind, data in parts.items():
        compressor, size, started = OutputCompressor(), 0, time.process_time()
        for start in range(0, len(data), 64 * 1024):
            size += len(compressor.encode(data[start:start + 64 * 1024]).data)
        ms_per_mb = (time.process_time() - started) / len(data) * 1e9
        rows.append(f"| {kind} | {size / len(data):.3f} | {ms_per_mb:.1f} |")
    return rows


def cpu_seconds(procs: list[psutil.Process]) -> float:
    return sum(sum(p.cpu_times()[:2]) for p in procs)


def flood(server, client: WireClient, session: str, path: Path) -> dict[str, float]:
    web = psutil.Process(server.proc.pid)
    host = web.children()  # the terminal host is the web process's child
    before_bytes, before_wire = client.received.get(session, 0), client.wire_bytes
    before_web, before_host = cpu_seconds([web]), cpu_seconds(host)
    client.watch(session, MARK)
    start = time.perf_counter()
    client.type(session, f"cat {path}; echo FLOOD_$((6*7))_END\n")
    end = client.wait_seen(600)
    if client.received[session] - before_bytes < path.stat().st_size:
        raise RuntimeError(f"the terminal printed less than {path} holds: can its shell account read it?")
    mb = (client.received[session] - before_bytes) / 1e6
    return {"mb": mb, "mb_s": mb / (end - start), "web_ms_mb": (cpu_seconds([web]) - before_web) * 1e3 / mb,
            "host_ms_mb": (cpu_seconds(host) - before_host) * 1e3 / mb,
            "wire_mb": (client.wire_bytes - before_wire) / 1e6}


def echo_blocks(procs, server, workspace: str, path: Path, blocks: int, samples: int, flooding: bool) -> dict:
    latencies: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for block in range(blocks):
        for variant in VARIANTS if block % 2 == 0 else reversed(VARIANTS):
            compress = variant != "off"
            client = WireClient(server.url, server.admin_token, compress=compress)
            session = bench.prepared_session(client, workspace, bash=True)
            worker = None
            if flooding:
                worker = bench.Worker(procs, "aict-flood", server.url, server.admin_token, workspace,
                                      "1" if compress else "0", f"cat {path}")
                worker.read()
            latencies[variant] += aict_echo(client, session, samples, bench.ECHO_GAP)
            if worker is not None:
                worker.finish()
            client.call("kill-terminal", {"sessionId": session})
            client.close()
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compression", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--echo-blocks", type=int, default=4)
    parser.add_argument("--echo-samples", type=int, default=100, help="per block and variant")
    args = parser.parse_args(argv)
    bench.raise_fd_limit()
    procs = bench.Processes()
    load_before = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="aict-bench-compression-") as tmp:
            workdir = Path(tmp)
            workdir.chmod(0o755)  # the terminals' shell account (not this user, as root) reads the file
            path = workdir / "mixed.txt"
            bench.log(f"making {args.mb} MB of mixed text")
            parts = mixed_text(path, args.mb * 1_000_000)
            path.chmod(0o644)
            server = bench.start_aict(procs, workdir, "aict", AICT_SHELL="/bin/bash",
                                      AICT_SHELL_ARGS=bench.PLAIN_BASH_ARGS)
            workspace = server.create_local_workspace()["id"]
            clients = {v: WireClient(server.url, server.admin_token, compress=v != "off") for v in VARIANTS}
            sessions = {v: bench.prepared_session(c, workspace, bash=True) for v, c in clients.items()}
            results: dict[str, list[dict]] = {v: [] for v in VARIANTS}
            for round_ in range(args.rounds):
                for variant in VARIANTS if round_ % 2 == 0 else reversed(VARIANTS):
                    results[variant].append(flood(server, clients[variant], sessions[variant], path))
                bench.log(f"round {round_ + 1}/{args.rounds}: " + ", ".join(
                    f"{v} {r[-1]['mb_s']:.1f} MB/s, web {r[-1]['web_ms_mb']:.1f} ms/MB, "
                    f"wire {r[-1]['wire_mb'] / r[-1]['mb']:.3f}" for v, r in results.items()))
            gaps = sum(c.gaps for c in clients.values())
            for client in clients.values():
                client.close()
            bench.log("echo latency, idle")
            idle = echo_blocks(procs, server, workspace, path, args.echo_blocks, args.echo_samples, flooding=False)
            bench.log("echo latency, while another session floods the mixed text")
            busy = echo_blocks(procs, server, workspace, path, args.echo_blocks, args.echo_samples, flooding=True)
    finally:
        procs.cleanup()
    print(report(args, parts, results, idle, busy, gaps, load_before))
    return 0


def report(args, parts, results, idle, busy, gaps, load_before) -> str:
    med = statistics.median
    lines = [f"## Compressed terminal output: {args.mb} MB mixed text, {args.rounds} paired rounds on loopback",
             "", "| | off | deflate-raw | ratio |", "| --- | --- | --- | --- |"]

    def row(label, key, fmt="{:.1f}"):
        off, on = med(r[key] for r in results["off"]), med(r[key] for r in results["deflate-raw"])
        lines.append(f"| {label} | {fmt.format(off)} | {fmt.format(on)} | {on / off:.2f} |")
        return off, on

    wire_off, wire_on = (med(r["wire_mb"] / r["mb"] for r in results[v]) for v in VARIANTS)
    lines.append(f"| bytes on the wire per byte of output | {wire_off:.3f} | {wire_on:.3f} "
                 f"| {wire_on / wire_off:.2f} |")
    row("throughput, MB/s (median)", "mb_s")
    row("web process CPU, ms per MB", "web_ms_mb")
    row("terminal host CPU, ms per MB", "host_ms_mb")
    for speed in SLOW_LINKS_MB_S:
        off, on = args.mb * wire_off / speed, args.mb * wire_on / speed
        lines.append(f"| the {args.mb} MB over a {speed:g} MB/s link, s | {off:.1f} | {on:.1f} | {on / off:.2f} |")
    for label, latencies in (("idle", idle), ("while another session floods", busy)):
        for p in (50, 99):
            off, on = (bench.percentile(latencies[v], p) for v in VARIANTS)
            lines.append(f"| echo {label}, p{p} ms | {off:.2f} | {on:.2f} | {on / off:.2f} |")
    lines += ["", "Per kind of text (64 KiB chunks through the server's compressor, in this process):", "",
              "| kind | compressed / original | CPU ms per MB |", "| --- | --- | --- |", *per_kind(parts), "",
              f"Gaps: {gaps}. Load average (1 min) {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at "
              f"the end, {os.cpu_count()} cores; Python {sys.version.split()[0]}, zlib {zlib.ZLIB_RUNTIME_VERSION}."]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
