"""Paired flood throughput with recording, per kind of output: does a change to recordings cost speed?

    .venv/bin/python -m bench.recording_flood [--rounds N] [--bytes N] BASE_PATH NEW_PATH

Each path is an aict checkout (`git worktree add /tmp/base main` gives main's). Both servers run
side by side; every round floods a fresh terminal of each (in alternating order) with `yes` lines,
`seq` output and base64 of random bytes (text that hardly compresses), read and acked by a client.
Prints per variant and kind: median MB/s, CPU of the web process and terminal host per MB of output,
and the recording's stored bytes per MiB of output. Floods stay under 64 MiB of output by default,
so that a checkout that stops recording there (before issue 18) records all of it too.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench import main as bench
from bench.wire import WireClient

MARK = b"FLOOD_42_END"
KINDS = {
    "yes": "yes " + "a" * 99 + " | head -c {n}",
    "seq": "seq 1 1000000000 | head -c {n}",
    "base64 random": "base64 -w 100 /dev/urandom | head -c {n}",
}


def processes(server) -> list[psutil.Process]:
    web = psutil.Process(server.proc.pid)
    return [web, *web.children()]  # the terminal host is the web process's child


def cpu_seconds(procs: list[psutil.Process]) -> float:
    return sum(sum(p.cpu_times()[:2]) for p in procs)


def flood(server, client: WireClient, workspace: str, command: str) -> tuple[float, float, int, int]:
    """(MB/s, CPU seconds, output bytes, stored bytes) of one flood in a fresh terminal."""
    session = bench.prepared_session(client, workspace)
    procs = processes(server)
    before, cpu = client.received.get(session, 0), cpu_seconds(procs)
    client.watch(session, MARK)
    start = time.perf_counter()
    client.type(session, f"{command}; echo FLOOD_$((6*7))_END\n")
    end = client.wait_seen(300)
    cpu = cpu_seconds(procs) - cpu
    output = client.received[session] - before
    server.api("DELETE", f"/api/sessions/{session}", server.admin_token)  # its end stores the rest
    time.sleep(1.5)
    with sqlite3.connect(server.instance / "aict.db") as db:
        stored = db.execute("SELECT coalesce(sum(length(data)), 0) FROM recording_chunks WHERE session_id = ?",
                            (session,)).fetchone()[0]
    return output / (end - start) / 1e6, cpu, output, stored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recording_flood", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bytes", type=int, default=40_000_000, help="produced per flood")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of: {', '.join(KINDS)}")
    parser.add_argument("paths", nargs=2, type=Path, metavar="PATH")
    args = parser.parse_args(argv)
    kinds = {kind: KINDS[kind] for kind in args.kinds.split(",")}
    bench.raise_fd_limit()
    procs, workdir = bench.Processes(), Path(tempfile.mkdtemp(prefix="aict-recflood-"))
    variants = []
    results: dict[tuple[str, str], list[tuple[float, float, int, int]]] = {}
    try:
        for label, root in zip(("base", "new"), args.paths, strict=True):
            server = bench.start_aict(procs, workdir, label, root=root.resolve(), AICT_SHELL="/bin/bash",
                                      AICT_SHELL_ARGS=bench.PLAIN_BASH_ARGS)
            variants.append((label, server, WireClient(server.url, server.admin_token),
                             server.create_local_workspace()["id"]))
        for round_ in range(args.rounds):
            for kind, command in kinds.items():
                for label, server, client, workspace in variants if round_ % 2 == 0 else reversed(variants):
                    result = flood(server, client, workspace, command.format(n=args.bytes))
                    results.setdefault((label, kind), []).append(result)
                    bench.log(f"round {round_ + 1}/{args.rounds} {kind} {label}: {result[0]:.1f} MB/s")
    finally:
        procs.cleanup()
    print("| output | variant | MB/s (median) | CPU ms per MB (web + host) | stored KiB per MiB of output |")
    print("| --- | --- | --- | --- | --- |")
    for kind in kinds:
        for label, *_ in variants:
            runs = results[(label, kind)]
            rate = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] * 1000 / (r[2] / 1e6) for r in runs)
            stored = statistics.median(r[3] / 1024 / (r[2] / 1024 / 1024) for r in runs)
            print(f"| {kind} | {label} | {rate:.1f} | {cpu:.1f} | {stored:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
