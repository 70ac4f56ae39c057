"""`make cluster` run by a test: real nginx in front of two web processes, the terminal host and
Redis (tests/integration/test_cluster.py; AICT_TEST_CLUSTER=1 makes it the suite's shared server,
so the socket contract runs through nginx too)."""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.server import ROOT, RunningServer

REDIS_DB = 12  # clusters' own Redis database; each cluster keeps its keys under a prefix of its own


def free_port_run(count: int) -> int:
    """A port with the `count` ports after it free too (nginx's, then the web processes'), below the
    kernel's ephemeral range, so that no client connection takes one of them meanwhile."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(100):
        port = random.randrange(max(1024, low - 12000), low - count - 1)
        if all(_free(port + i) for i in range(count + 1)):
            return port
    raise RuntimeError("no run of free ports")


def _free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def descendants(pid: int) -> set[int]:
    """Every process below pid (by walking /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int(re.search(r"^PPid:\s+(\d+)", (entry / "status").read_text(), re.M).group(1))
            except (OSError, AttributeError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = re.search(r"^State:\s+(\S)", Path(f"/proc/{pid}/status").read_text(), re.M).group(1)
    except (OSError, AttributeError):
        return False
    return state != "Z"


class ClusterServer(RunningServer):
    """`make cluster` on free ports with its own instance folder; `url` is nginx's."""

    def __init__(self, instance: Path, settings: dict[str, str] | None = None, web_processes: int = 2):
        super().__init__(instance, settings)
        self.port = free_port_run(web_processes)
        self.url = f"http://127.0.0.1:{self.port}"
        self.web_ports = [self.port + i for i in range(1, web_processes + 1)]
        self.env.update(AICT_PORT=str(self.port), AICT_WEB_PROCESSES=str(web_processes),
                        AICT_REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}", AICT_LOGIN_RATE="10000 per minute",
                        AICT_REDIS_PREFIX=f"aict-cluster-{secrets.token_hex(4)}")  # its own channels too
        self.env.pop("AICT_TEST_HOOKS")
        self.log_path = instance / "make-cluster.log"

    def command(self) -> list[str]:
        return ["make", "-s", "cluster"]

    def start(self) -> ClusterServer:
        self.instance.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 -- the child writes to it for its whole life
        # A session of its own, as a terminal gives `make cluster`: Ctrl+C reaches make and the supervisor.
        self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 180  # make may install what is missing first
        while b"(make cluster) is running on" not in self.log_path.read_bytes():
            if self.proc.poll() is not None:
                raise RuntimeError(f"make cluster exited early:\n{self.log_path.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"make cluster did not come up:\n{self.log_path.read_text()}")
            time.sleep(0.2)
        return self

    @property
    def state(self) -> dict:
        return json.loads((self.instance / "cluster" / "state.json").read_text())

    def web_pids(self) -> dict[str, int]:
        return {name: pid for name, pid in self.state["children"].items() if name.startswith("web-")}

    def stop(self, sig: int = signal.SIGINT, group: bool = True) -> set[int]:
        """Stop it as a user would (Ctrl+C: SIGINT to the whole foreground group; or SIGTERM to make);
        returns the processes it had started that are still alive 30 s later."""
        if self.proc is None or self.proc.poll() is not None:
            return set()
        started = descendants(self.proc.pid)
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = {pid for pid in started if alive(pid)}
        for pid in left:  # not to leave them running for the rest of the suite
            os.kill(pid, signal.SIGKILL)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._forget_redis_keys()
        return left

    def _forget_redis_keys(self) -> None:
        """Its own keys only: clusters of other tests, workers or runs share the database."""
        import redis

        client = redis.Redis(db=REDIS_DB)
        try:
            for key in client.scan_iter(match=f"{self.env['AICT_REDIS_PREFIX']}:*", count=1000):
                client.delete(key)
        finally:
            client.close()


