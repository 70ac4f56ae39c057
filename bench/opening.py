"""Opening many terminals at once: 200 terminals, 8 at a time, each one open once its shell's first
output has arrived (the prompt), all of them kept open until the last one is.

aict: 8 sockets of one user, each creating its share one after another (`create-terminal`, then
the first `terminal-output` of that terminal). terminado: 8 threads, each opening its share of
websockets one after another (UniqueTermManager: a websocket is a terminal), until the first
`stdout` message. Bare PTY: 8 threads, each opening a PTY and starting the same shell on it until
its first output is read: what the machine itself allows. `BENCH_PARTS=open make bench` runs this
row alone.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import threading
import time
from collections.abc import Callable

from bench.wire import WireClient

TERMINALS = int(os.environ.get("BENCH_OPEN_TERMINALS", 200))
PARALLEL = 8
ROUNDS = int(os.environ.get("BENCH_OPEN_ROUNDS", 3))


def _in_threads(total: int, parallel: int, open_share: Callable[[int, int], None]) -> float:
    """Run open_share(index, count) on `parallel` threads splitting `total`; seconds until all end."""
    share = [total // parallel + (1 if i < total % parallel else 0) for i in range(parallel)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            open_share(index, share[index])
        except BaseException as exc:  # noqa: BLE001 - raised on the calling thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(parallel)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    if errors:
        raise errors[0]
    return seconds


def aict_open(url: str, token: str, workspace: str, total: int = TERMINALS, parallel: int = PARALLEL) -> float:
    """Seconds to open `total` terminals over `parallel` sockets of one user; they are ended after."""
    clients = [WireClient(url, token) for _ in range(parallel)]
    opened: list[list[str]] = [[] for _ in clients]

    def open_share(index: int, count: int) -> None:
        client = clients[index]
        for _ in range(count):
            sid = client.create(workspace)
            client.pump_until(lambda sid=sid: client.received.get(sid), 30)  # noqa: B023 - called at once
            opened[index].append(sid)

    try:
        seconds = _in_threads(total, parallel, open_share)

        def kill_share(index: int, _count: int) -> None:
            for sid in opened[index]:
                clients[index].call("kill-terminal", {"sessionId": sid}, timeout=30)

        _in_threads(parallel, parallel, kill_share)
    finally:
        for client in clients:
            client.close()
    return seconds


def terminado_open(url: str, total: int = TERMINALS, parallel: int = PARALLEL) -> float:
    """Seconds to open `total` terminado terminals (websockets) `parallel` at a time."""
    from bench.terminado_ref import Terminal

    opened: list[Terminal] = []
    lock = threading.Lock()

    def open_share(_index: int, count: int) -> None:
        for _ in range(count):
            ws = Terminal(url)
            with lock:
                opened.append(ws)
            while json.loads(ws.recv())[0] != "stdout":
                pass

    try:
        return _in_threads(total, parallel, open_share)
    finally:
        for ws in opened:
            ws.close()
        time.sleep(0.5)  # terminado ends a terminal when its last socket goes


def raw_open(argv: list[str], total: int = TERMINALS, parallel: int = PARALLEL) -> float:
    """Seconds to open `total` PTYs with `argv` started on each, `parallel` at a time, until each
    has said something: no web stack at all."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color", "HOME": os.environ["HOME"]}
    opened: list[tuple[int, subprocess.Popen]] = []
    lock = threading.Lock()

    def open_share(_index: int, count: int) -> None:
        for _ in range(count):
            master, slave = pty.openpty()
            proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                                    close_fds=True, env=env)
            os.close(slave)
            with lock:
                opened.append((master, proc))
            poller = select.poll()
            poller.register(master, select.POLLIN)
            if not poller.poll(30_000):
                raise TimeoutError("the shell said nothing")
            os.read(master, 65536)

    try:
        return _in_threads(total, parallel, open_share)
    finally:
        for master, proc in opened:
            proc.kill()
            os.close(master)
        for _, proc in opened:
            proc.wait()

