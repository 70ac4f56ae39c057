"""What sampling terminals' processes costs (issue 20): 200 attached terminals, sampling on and off.

    .venv/bin/python -m bench.process_sampling [--terminals 200] [--blocks 8] [--samples 125]

Two servers of this checkout, one with PROCESS_SAMPLE_SECONDS=1 (the default) and one with 0 (no
sampling), each with TERMINALS interactive bash terminals attached through 10 sockets of another
process (so every one of them is sampled once a second), then `make bench`'s flood row on each, in
blocks that take turns: keystroke echo in a bash terminal while another terminal of the same server
runs `yes` (read and acked by another process), and that flood's MB/s. Also the terminal host's CPU
while the terminals sit idle (10 s each, before the blocks), and the sampler's own count of the time
it spent. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench import busy_memory
from bench import main as bench
from bench.wire import WireClient

ROOT = Path(__file__).resolve().parent.parent
IDLE_SECONDS = 10
VARIANTS = {"sampling on": "1", "sampling off": "0"}


def host_cpu_seconds(host) -> float:
    times = host.cpu_times()
    return times.user + times.system


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.process_sampling", description=__doc__.split("\n\n")[0])
    parser.add_argument("--terminals", type=int, default=200)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--samples", type=int, default=125, help="keystrokes per block")
    args = parser.parse_args(argv)
    bench.raise_fd_limit()
    procs, workdir = bench.Processes(), Path(tempfile.mkdtemp(prefix="aict-sampling-"))
    echoes: dict[str, list[float]] = {}
    floods: dict[str, list[float]] = {}
    idle: dict[str, float] = {}
    watch: dict[str, dict] = {}
    try:
        servers = {}
        for label, seconds in VARIANTS.items():
            bench.log(f"{label}: starting a server and {args.terminals} attached bash terminals")
            server = bench.start_aict(procs, workdir, label.replace(" ", "-"), AICT_SHELL="/bin/bash",
                                      AICT_SHELL_ARGS=bench.PLAIN_BASH_ARGS, AICT_PROCESS_SAMPLE_SECONDS=seconds)
            token = server.admin_token
            workspace = server.create_local_workspace()["id"]
            load = bench.Worker(procs, "aict-load", server.url, token, workspace, str(args.terminals), "10", "0",
                                "true")
            created = load.read(timeout=300)
            if created["created"] != args.terminals:
                raise RuntimeError(f"{label}: created {created['created']} terminals: {created['errors']}")
            client = WireClient(server.url, token)
            session = bench.prepared_session(client, workspace)
            host = busy_memory.serving_processes(server.proc.pid)[-1]
            servers[label] = (server, workspace, client, session, host, load)
        for label, (_, _, client, _, host, _) in servers.items():  # idle cost, one server at a time
            client.settle(2)
            before = host_cpu_seconds(host)
            client.settle(IDLE_SECONDS)
            idle[label] = (host_cpu_seconds(host) - before) / IDLE_SECONDS * 100
        labels = list(servers)
        for block in range(args.blocks):
            for label in labels if block % 2 == 0 else reversed(labels):
                server, workspace, client, session, _, _ = servers[label]
                flood = bench.Worker(procs, "aict-flood", server.url, server.admin_token, workspace)
                flood.read()
                echoes.setdefault(label, []).extend(bench.aict_echo(client, session, args.samples, bench.ECHO_GAP))
                floods.setdefault(label, []).append(flood.finish()["mb_per_s"])
            bench.log(f"flood block {block + 1}/{args.blocks}")
        for label, (server, *_rest) in servers.items():
            stats = server.api("GET", "/metrics").text
            watch[label] = {line.split()[0]: line.split()[1] for line in stats.splitlines()
                            if line.startswith("aict_process_watch")}
        for _, (*_rest, load) in servers.items():
            load.finish()
        report(args.terminals, echoes, floods, idle, watch)
    finally:
        for server in list(procs.servers):
            try:
                procs.stop_server(server)
            except AssertionError as error:  # a server's own complaint on stopping (200 shells ending at once)
                bench.log(f"stopping {server.url}: {str(error).splitlines()[0]}")
                procs.servers.remove(server)
        procs.cleanup()
    return 0


def report(terminals: int, echoes: dict, floods: dict, idle: dict, watch: dict) -> None:
    print(f"| {terminals} attached terminals | echo p50 ms | echo p99 ms | flood MB/s (median) | "
          f"host CPU idle, % of a core | samples |\n| --- | ---: | ---: | ---: | ---: | ---: |")
    for label in VARIANTS:
        values = echoes[label]
        print(f"| {label} | {bench.percentile(values, 50):.2f} | {bench.percentile(values, 99):.2f} | "
              f"{bench.percentile(floods[label], 50):.1f} | {idle[label]:.1f} | {len(values)} |")
    for label, figures in watch.items():
        if figures:
            print(f"\n{label}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    sys.exit(main())
