"""What watching workspaces costs the terminals (issue 20): the echo while another terminal floods,
and the flood's rate, with no workspace watched against 100 watched, paired in one run.

    .venv/bin/python -m bench.watched_workspaces [--workspaces 100] [--blocks 6] [--samples 125]

One server. Every local workspace is a git repository of 200 committed files in 10 folders, owned
by the shell account. The modes take turns block by block (in alternating order): `none` (nothing
watched), `watched` (sockets of another client, ten workspaces each, watch all of them: one
watcher each in the terminal host, idle), and `churn` (as `watched`, and a file in 10 of them is rewritten every
200 ms: file-change and workspace-status events flow). In each block another process floods a
terminal (`yes`, read and acked) while the echo of a bash session is measured; the CPU of the web
process and the terminal host, and that of the watcher agents, over the block (% of one core).
"""

from __future__ import annotations

import argparse
import os
import pwd
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from bench import main as bench
from bench.browser import cpu_seconds
from bench.wire import WireClient

MODES = ("none", "watched", "churn")
CHURNED = 10
CHURN_SECONDS = 0.2
PER_SOCKET = 10


def make_repository(path: Path, account: str | None) -> None:
    for folder in range(10):
        (path / f"dir{folder}").mkdir(parents=True, exist_ok=True)
        for index in range(20):
            (path / f"dir{folder}" / f"file{index}.txt").write_text(f"{folder} {index}\n")
    git = ["git", "-C", str(path), "-c", "user.name=bench", "-c", "user.email=bench@example.org"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "files"], check=True)
    if account:  # the shell account's, as a shell of its own would have made it (git refuses others')
        entry = pwd.getpwnam(account)
        for folder, dirs, files in os.walk(path):
            for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                os.chown(name, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def server_processes(pid: int) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """The web process and its terminal host; the host's watcher agents."""
    web = psutil.Process(pid)
    serving, agents = [web], []
    for child in web.children(recursive=True):
        try:
            cmdline = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "host.py" in cmdline:
            serving.append(child)
        elif "agent.py" in cmdline:
            agents.append(child)
    return serving, agents


class CountingClient(WireClient):
    """A WireClient that counts the workspace-status and file-change events it receives."""

    events = 0

    def _on_socketio(self, packet: str) -> None:
        if packet.startswith('2["workspace-status"') or packet.startswith('2["file-change"'):
            self.events += 1
            return
        super()._on_socketio(packet)


class Churn:
    """Rewrites a file in each of `paths` every CHURN_SECONDS, on a thread, until stopped."""

    def __init__(self, paths: list[Path]):
        self.paths, self.stopped = paths, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        count = 0
        while not self.stopped.wait(CHURN_SECONDS):
            count += 1
            for path in self.paths:
                (path / "dir0" / "file0.txt").write_text(f"churn {count}\n")

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.watched_workspaces", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspaces", type=int, default=100)
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--samples", type=int, default=125, help="keystrokes per block")
    args = parser.parse_args(argv)
    bench.raise_fd_limit()
    procs, workdir = bench.Processes(), Path(tempfile.mkdtemp(prefix="aict-watched-"))
    echoes: dict[str, list[float]] = {mode: [] for mode in MODES}
    floods: dict[str, list[float]] = {mode: [] for mode in MODES}
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    agent_cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    events = {mode: 0 for mode in MODES}
    try:
        server = bench.start_aict(procs, workdir, "aict-watched", AICT_SHELL="/bin/bash",
                                  AICT_SHELL_ARGS=bench.PLAIN_BASH_ARGS)
        account = server.env.get("AICT_SHELL_ACCOUNT")
        workspaces = [server.create_local_workspace() for _ in range(args.workspaces)]
        for workspace in workspaces:
            make_repository(Path(workspace["path"]), account)
        bench.log(f"{len(workspaces)} repositories made")
        echo_workspace = server.create_local_workspace()["id"]
        client = WireClient(server.url, server.admin_token)
        session = bench.prepared_session(client, echo_workspace)
        # Pages watch their own workspace: one socket for every PER_SOCKET workspaces
        watchers = [CountingClient(server.url, server.admin_token) for _ in range(0, len(workspaces), PER_SOCKET)]
        for watcher in watchers:
            watcher.start_reader()
        owners = [(watchers[index // PER_SOCKET], workspace) for index, workspace in enumerate(workspaces)]
        churned = [Path(w["path"]) for w in workspaces[:CHURNED]]
        for block in range(args.blocks):
            for mode in MODES if block % 2 == 0 else reversed(MODES):
                if mode != "none":
                    started = time.monotonic()
                    for watcher, workspace in owners:
                        watcher.call("watch-workspace", {"workspaceId": workspace["id"]}, timeout=60)
                    bench.log(f"watched {len(workspaces)} workspaces in {time.monotonic() - started:.1f} s")
                churn = Churn(churned) if mode == "churn" else None
                events_before = sum(watcher.events for watcher in watchers)
                flood = bench.Worker(procs, "aict-flood", server.url, server.admin_token, echo_workspace)
                flood.read()
                serving, agents = server_processes(server.proc.pid)
                before, wall_before = (cpu_seconds(serving), cpu_seconds(agents)), time.monotonic()
                echoes[mode].extend(bench.aict_echo(client, session, args.samples, bench.ECHO_GAP))
                wall = time.monotonic() - wall_before
                cpu[mode].append((cpu_seconds(serving) - before[0]) / wall * 100)
                agent_cpu[mode].append((cpu_seconds(agents) - before[1]) / wall * 100)
                floods[mode].append(flood.finish()["mb_per_s"])
                events[mode] += sum(watcher.events for watcher in watchers) - events_before
                if churn is not None:
                    churn.stop()
                if mode != "none":
                    for watcher, workspace in owners:
                        watcher.call("unwatch-workspace", {"workspaceId": workspace["id"]})
            bench.log(f"block {block + 1}/{args.blocks}")
        client.close()
        for watcher in watchers:
            watcher.close()
    finally:
        procs.cleanup()
    print(f"| {args.workspaces} workspaces | echo p50 ms | p90 ms | p99 ms | flood MB/s (median) "
          f"| CPU % web + host (median) | CPU % watcher agents (median) | watch events received | samples |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for mode in MODES:
        values = echoes[mode]
        print(f"| {mode} | {bench.percentile(values, 50):.2f} | {bench.percentile(values, 90):.2f} "
              f"| {bench.percentile(values, 99):.2f} | {bench.percentile(floods[mode], 50):.1f} "
              f"| {bench.percentile(cpu[mode], 50):.1f} | {bench.percentile(agent_cpu[mode], 50):.1f} "
              f"| {events[mode]} | {len(values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
