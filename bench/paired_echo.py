"""Paired echo comparison: is a change's keystroke echo as quick, on this machine, today?

    .venv/bin/python -m bench.paired_echo [--blocks N] [--samples N] [--no-flood] [--back-to-back]
                                          VARIANT [VARIANT ...]

VARIANTs as for bench.paired (`label=PATH[@NAME=VALUE,...]`, e.g. `stock=.@AICT_FAST_PATHS=0`).
Every variant gets its own server and bash session; the echo is measured as `make bench` does
(one character, time until it is back), in blocks that take turns (in alternating order), idle,
then while another session of the same server floods (`yes`, read and acked by another process,
started for that block only). With --back-to-back, a third mode sends each key the moment the
previous echo arrives (as the back-to-back row of `make bench`). The tail of a 2-core machine
shared with other work swings more between blocks than most changes: compare medians, and run a
variant twice to see the spread.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench import main as bench
from bench.paired import parse_variant
from bench.wire import WireClient


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paired_echo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--samples", type=int, default=125, help="keystrokes per block")
    parser.add_argument("--no-flood", action="store_true", help="measure the idle echo only")
    parser.add_argument("--back-to-back", action="store_true", help="also: the next key the moment the echo arrives")
    parser.add_argument("variants", nargs="+", type=parse_variant, metavar="label=PATH[@NAME=VALUE,...]")
    args = parser.parse_args(argv)
    bench.raise_fd_limit()
    procs, workdir = bench.Processes(), Path(tempfile.mkdtemp(prefix="aict-paired-echo-"))
    modes = ("idle",) if args.no_flood else ("idle", "flood")
    if args.back_to_back:
        modes = ("back-to-back", *modes)
    echoes: dict[tuple[str, str], list[float]] = {}
    try:
        servers = {}
        for variant in args.variants:
            server = bench.start_aict(procs, workdir, variant.contender.label, root=variant.root,
                                      AICT_SHELL="/bin/bash", AICT_SHELL_ARGS=bench.PLAIN_BASH_ARGS, **variant.settings)
            workspace = server.create_local_workspace()["id"]
            variant.client = WireClient(server.url, server.admin_token)
            variant.session = bench.prepared_session(variant.client, workspace)
            servers[variant.contender.label] = (server, workspace)
        for mode in modes:
            for block in range(args.blocks):
                for variant in args.variants if block % 2 == 0 else reversed(args.variants):
                    server, workspace = servers[variant.contender.label]
                    flood = None
                    if mode == "flood":
                        flood = bench.Worker(procs, "aict-flood", server.url, server.admin_token, workspace)
                        flood.read()
                    gap = bench.BACK_TO_BACK if mode == "back-to-back" else bench.ECHO_GAP
                    echoes.setdefault((variant.contender.label, mode), []).extend(
                        bench.aict_echo(variant.client, variant.session, args.samples, gap))
                    if flood is not None:
                        flood.finish()
                bench.log(f"{mode} block {block + 1}/{args.blocks}")
    finally:
        procs.cleanup()
    print("| Variant | echo | p50 ms | p90 ms | p99 ms | samples |\n| --- | --- | ---: | ---: | ---: | ---: |")
    for (label, mode), values in echoes.items():
        print(f"| {label} | {mode} | {bench.percentile(values, 50):.2f} | {bench.percentile(values, 90):.2f} "
              f"| {bench.percentile(values, 99):.2f} | {len(values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
