"""What watching SSH workspaces costs (issue 20): N watched SSH workspaces polled over SFTP.

    .venv/bin/python -m bench.ssh_watch [--counts 1,10,50] [--seconds 20] [--poll 2]

A real OpenSSH sshd on loopback (started here, as root) lets one account of its own in, whose home
holds a git repository of 20 folders of 50 files and 2 subfolders of 10 files each (1,420 files,
61 folders: more than the 50 folders a poll lists). In this process, under gevent as in the
terminal host, N SshPollers (aict/watching/ssh_poll.py: one connection each, the pinned host key)
watch N workspaces of that account, first quiet, then churned: every 0.5 s (on average, at random)
a file at the root is rewritten, one is made in a folder one level down and the one made 3 s
before removed (every poll sees a change: file-change items and a git status each time). For
each: this process's CPU (% of one core, what the terminal host would spend), the sshd side's CPU
(sshd, its SFTP sessions and the git runs), the bytes on the wire per poll (both directions, all
connections, from the kernel's TCP counters), the folders listed per poll, the polls done against
those due, and the time from a file made to its file-change. `--sweep-seconds 2` lists every
folder at every poll (what a plain poll would do), for comparison.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import pwd  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import psutil  # noqa: E402

from aict.errors import AppError  # noqa: E402
from aict.ssh.backend import SshBackend  # noqa: E402
from aict.ssh.connect import SshTarget  # noqa: E402
from aict.ssh.keys import HostKey, parse_host_key  # noqa: E402
from aict.watching import ssh_poll  # noqa: E402
from aict.watching.remote_listing import list_tree  # noqa: E402
from aict.watching.ssh_poll import SshPoller, SshWatchTarget  # noqa: E402

ACCOUNT = "aict-ssh-bench"
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
CHURN_SECONDS = 0.5


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60, **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_home() -> Path:
    try:
        account = pwd.getpwnam(ACCOUNT)
    except KeyError:
        run("useradd", "--create-home", "--shell", "/bin/bash", ACCOUNT)
        run("usermod", "-p", "*", ACCOUNT)  # no password, but not locked: sshd lets a locked one in by no key
        account = pwd.getpwnam(ACCOUNT)
    home = Path(account.pw_dir)
    script = ("rm -rf ~/tree ~/.git ~/dir*; for d in $(seq 0 19); do mkdir -p dir$d/a dir$d/b; "
              "for f in $(seq 0 49); do echo $d $f > dir$d/file$f.txt; done; "
              "for f in $(seq 0 9); do echo $f > dir$d/a/f$f; echo $f > dir$d/b/f$f; done; done; "
              "git init -q -b main . && git add dir* && git -c user.name=b -c user.email=b@example.org commit -q -m t")
    run("runuser", "-u", ACCOUNT, "--", "bash", "-c", f"cd ~ && {script}")
    return home


def start_sshd(folder: Path) -> tuple[subprocess.Popen, int, str]:
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(folder / "host"))
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(folder / "client"))
    (folder / "authorized_keys").write_text((folder / "client.pub").read_text())
    folder.chmod(0o755)
    (folder / "authorized_keys").chmod(0o644)
    port = free_port()
    (folder / "sshd_config").write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {folder / 'host'}", f"PidFile {folder / 'pid'}",
        f"AuthorizedKeysFile {folder / 'authorized_keys'}", "StrictModes no", "UsePAM no",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", f"AllowUsers {ACCOUNT}",
        "Subsystem sftp internal-sftp", "MaxStartups 200:30:300", "MaxSessions 100", "LogLevel ERROR", ""]))
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(folder / "sshd_config")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                if probe.recv(64).startswith(b"SSH-"):
                    break
        except OSError:
            time.sleep(0.05)
    host_key = " ".join((folder / "host.pub").read_text().split()[:2])
    return proc, port, host_key


def counted(list_folder, listed: list[int]):
    def counting(path: str):
        listed[0] += 1
        return list_folder(path)
    return counting


def tree_cpu(root: psutil.Process) -> float:
    """CPU seconds of a process tree, its ended children included (as far as they were waited for)."""
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def wire_bytes(port: int) -> int:
    out = run("ss", "-Htin", "state", "established", f"dport = :{port}").stdout
    return sum(int(a) + int(b) for a, b in re.findall(r"bytes_sent:(\d+).*?bytes_received:(\d+)", out, re.S))


def measure(count: int, seconds: float, poll: float, target: SshTarget, home: Path, port: int,
            sshd: psutil.Process, churn: bool) -> dict:
    statuses: list[dict] = []
    changes: list[list] = []

    def pinned(presented: HostKey) -> None:
        if presented != target.pinned:
            raise AppError("host_key_mismatch", "not the bench's sshd")

    pollers = []
    listed = [0]
    for index in range(count):
        backend = SshBackend(target, connect_timeout=10, keepalive=15, check_host_key=pinned,
                             check_addresses=lambda addresses: None)
        watch = SshWatchTarget(f"ws{index}", backend, contextlib.nullcontext, poll_seconds=poll)
        poller = SshPoller(watch, statuses.append, lambda items: changes.append((time.monotonic(), items)))
        poller._list_folder = counted(poller._list_folder, listed)  # before its greenlet first runs
        pollers.append(poller)
    deadline = time.monotonic() + 60
    while sum(1 for p in pollers if p.polls) < count:  # every connection made and listed once
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {sum(1 for p in pollers if p.polls)} of {count} polled; {statuses[-3:]}")
        gevent.sleep(0.1)
    gevent.sleep(poll)
    polls, cpu, remote, wire = sum(p.polls for p in pollers), own_cpu(), tree_cpu(sshd), wire_bytes(port)
    folders = listed[0]
    statuses.clear()
    changes.clear()
    started = time.monotonic()
    turn = 0
    written: dict[str, float] = {}  # path -> when it was made
    while time.monotonic() - started < seconds:
        gevent.sleep(random.uniform(0.5, 1.5) * CHURN_SECONDS)  # no fixed phase against the polls
        if churn:  # a file at the root rewritten; one made in a folder, and the one made 3 s ago removed
            turn += 1
            (home / "churn.txt").write_text(f"churn {turn}\n" * (1 + turn % 3))
            made = home / f"dir{turn % 20}" / f"churn-{turn}.txt"
            made.write_text("x")
            written[f"{made.parent.name}/{made.name}"] = time.monotonic()
            (home / f"dir{(turn - 6) % 20}" / f"churn-{turn - 6}.txt").unlink(missing_ok=True)
    wall = time.monotonic() - started
    done = sum(p.polls for p in pollers) - polls
    result = {"cpu": (own_cpu() - cpu) / wall * 100, "remote": (tree_cpu(sshd) - remote) / wall * 100,
              "bytes": (wire_bytes(port) - wire) / max(done, 1), "polls": done, "expected": count * wall / poll,
              "events": len(changes), "statuses": len(statuses), "folders": (listed[0] - folders) / max(done, 1)}
    gevent.sleep(poll * 2)  # the last ones made arrive
    result["latency"] = sorted(at - written[item["path"]] for at, items in changes for item in items
                               if item["change"] == "created" and item["path"] in written)
    for leftover in [home / "churn.txt", *home.glob("dir*/churn-*.txt")]:
        leftover.unlink(missing_ok=True)
    for poller in pollers:
        poller.stop()
    gevent.sleep(0.5)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ssh_watch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="1,10,50")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--poll", type=float, default=2.0)
    parser.add_argument("--sweep-seconds", type=float, default=ssh_poll.SWEEP_SECONDS,
                        help="each folder listed afresh at least this often; the poll interval: all at every poll")
    args = parser.parse_args(argv)
    ssh_poll.SWEEP_SECONDS = args.sweep_seconds
    if os.geteuid() != 0:
        raise SystemExit("the bench starts sshd and an account of its own: run it as root")
    folder = Path(tempfile.mkdtemp(prefix="aict-ssh-bench-"))
    home = make_home()
    proc, port, host_key = start_sshd(folder)
    rows = []
    try:
        target = SshTarget("127.0.0.1", port, ACCOUNT, private_key=(folder / "client").read_text(),
                           pinned=parse_host_key(host_key))
        size = list_tree(lambda path: [_entry(home / path, name) for name in os.listdir(home / path)])
        log(f"one listing: {len(size.folders)} folders, {size.entries} entries")
        sshd = psutil.Process(proc.pid)
        for count in (int(c) for c in args.counts.split(",")):
            for churn in (False, True):
                log(f"{count} workspaces, {'churned' if churn else 'quiet'}")
                rows.append((count, churn, measure(count, args.seconds, args.poll, target, home, port, sshd, churn)))
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"| SSH workspaces watched, poll {args.poll:g} s | CPU % this process (terminal host) | CPU % sshd side "
          f"| bytes on the wire per poll | folders listed per poll | polls done / due | file-change events "
          f"| statuses (git status runs) | made → file-change s, median / max |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for count, churn, r in rows:
        print(f"| {count}, {'churn' if churn else 'quiet'} | {r['cpu']:.1f} | {r['remote']:.1f} | {r['bytes']:,.0f} "
              f"| {r['folders']:.1f} | {r['polls']} / {r['expected']:.0f} | {r['events']} | {r['statuses']} "
              f"| {latency(r['latency'])} |")
    print(f"\nOne listing: {len(size.folders)} folders, {size.entries} entries; {args.seconds:g} s a row; "
          f"every folder listed afresh at least every {args.sweep_seconds:g} s.")
    return 0


def latency(values: list[float]) -> str:
    return f"{values[len(values) // 2]:.2f} / {values[-1]:.2f}" if values else ""


def _entry(folder: Path, name: str):
    from aict.watching.remote_listing import RemoteEntry

    info = os.lstat(folder / name)
    return RemoteEntry(name, info.st_mode, info.st_size, int(info.st_mtime))


if __name__ == "__main__":
    sys.exit(main())
