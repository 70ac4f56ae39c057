"""The ceiling: a plain Python loop on a PTY master, no web stack in between.

throughput(): 64 KiB non-blocking reads woken by poll(). echo(): a keystroke written to an
interactive bash and its echo read back, which is the machine's own floor for the echo rows.
"""

from __future__ import annotations

import errno
import os
import pty
import random
import select
import subprocess
import time

READ_SIZE = 64 * 1024


def throughput(command: str) -> float:
    """Run `command` under /bin/sh on a fresh PTY; MB/s from start to end of its output."""
    master, slave = pty.openpty()
    start = time.perf_counter()
    proc = subprocess.Popen(["/bin/sh", "-c", command], stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    os.set_blocking(master, False)
    poller = select.poll()
    poller.register(master, select.POLLIN)
    total = 0
    try:
        while True:
            poller.poll()
            try:
                data = os.read(master, READ_SIZE)
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno == errno.EIO:  # the last writer closed its end
                    break
                raise
            if not data:
                break
            total += len(data)
        elapsed = time.perf_counter() - start
    finally:
        os.close(master)
        proc.wait()
    return total / elapsed / 1e6


def echo(samples: int, gap: tuple[float, float]) -> list[float]:
    """Milliseconds from writing a character to an interactive bash (readline) to reading its echo."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(["/bin/bash", "--noprofile", "--norc", "-i"], stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True, close_fds=True,
                            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm", "PS1": "$ "})
    os.close(slave)
    poller = select.poll()
    poller.register(master, select.POLLIN)

    def read_until(needle: bytes, timeout: float = 5) -> None:
        seen, deadline = b"", time.perf_counter() + timeout
        while needle not in seen:
            if not poller.poll(max(0, deadline - time.perf_counter()) * 1000):
                raise TimeoutError(f"{needle!r} did not come back")
            seen = seen[-64:] + os.read(master, READ_SIZE)

    def drain() -> None:
        while poller.poll(0):
            os.read(master, READ_SIZE)

    latencies = []
    letters = "abcdefghijklmnopqrstuvwxyz"
    try:
        os.write(master, b"echo RAW_$((6*7))\n")
        read_until(b"RAW_42")
        time.sleep(0.2)
        drain()
        for i in range(samples):
            if i % 25 == 0:  # readline: erase the line typed so far, as the other echo rows do
                os.write(master, b"\x15")
                time.sleep(0.05)
                drain()
            ch = letters[i % 26].encode()
            start = time.perf_counter()
            os.write(master, ch)
            read_until(ch)
            latencies.append((time.perf_counter() - start) * 1000)
            time.sleep(random.uniform(*gap))
    finally:
        os.close(master)
        proc.kill()
        proc.wait()
    return latencies
