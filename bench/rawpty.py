"""The ceiling: a plain Python loop on a PTY master, no web stack in between.

throughput(): 64 KiB non-blocking reads woken by poll(); with relay=True the loop also passes
every byte over loopback TCP to another process that reads and drops it, in 256 KiB sends at
least every 8 ms as aict coalesces: the ceiling of anything that delivers a terminal's output to a
client, before any protocol. echo(): a keystroke written to an interactive bash and its echo read
back, which is the machine's own floor for the echo rows.
"""

from __future__ import annotations

import errno
import os
import pty
import random
import select
import socket
import subprocess
import sys
import time

READ_SIZE = 64 * 1024
RELAY_BYTES = 256 * 1024
RELAY_SECONDS = 0.008
# The relay's client: reads whatever the socket holds, drops it, and says how much it got.
SINK = ("import socket, sys\ns = socket.socket(fileno=int(sys.argv[1]))\nb = bytearray(1 << 20)\n"
        "total = 0\nwhile n := s.recv_into(b):\n    total += n\nprint(total)\n")


def _tcp_sink() -> tuple[socket.socket, subprocess.Popen]:
    """A loopback TCP connection whose other end is a process that reads and drops everything."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        far = socket.create_connection(listener.getsockname())
        near, _ = listener.accept()
    with far:
        sink = subprocess.Popen([sys.executable, "-c", SINK, str(far.fileno())], pass_fds=(far.fileno(),),
                                stdout=subprocess.PIPE, text=True)
    return near, sink


def throughput(command: str, relay: bool = False) -> float:
    """Run `command` under /bin/sh on a fresh PTY; MB/s from start to end of its output."""
    out, sink = _tcp_sink() if relay else (None, None)
    pending: list[bytes] = []
    held, sent_at = 0, time.monotonic()
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
            if out is not None:
                pending.append(data)
                held += len(data)
                if held >= RELAY_BYTES or time.monotonic() - sent_at >= RELAY_SECONDS:
                    out.sendall(b"".join(pending))
                    pending.clear()
                    held, sent_at = 0, time.monotonic()
        if out is not None:
            out.sendall(b"".join(pending))
        elapsed = time.perf_counter() - start
    finally:
        os.close(master)
        proc.wait()
        if out is not None:
            out.close()
            received = sink.communicate(timeout=30)[0].strip()
    if out is not None and received != str(total):
        raise RuntimeError(f"the relay's client got {received or 'nothing'} of {total} bytes")
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
