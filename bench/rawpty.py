"""The ceiling: a plain Python loop reading a PTY master, 64 KiB non-blocking reads woken by poll()."""

from __future__ import annotations

import errno
import os
import pty
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
