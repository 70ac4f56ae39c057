"""A 300 MB flood: the terminal host's memory and the recording's storage stay within their documented
bounds (README, "Recordings"), and the recording keeps the flood's start and end."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import psutil

from tests.server import TerminalClient

MiB = 1024 * 1024
LIMIT, TAIL = 32 * MiB, 8 * MiB  # RECORDING_MAX_BYTES, RECORDING_TAIL_BYTES of this test's server
ROW = 1024 * 1024 + 64 * 1024  # a stored row at most (ROW_BYTES and a read): the bounds are "plus a row"
FLOOD = 200_000_000  # bytes of `yes`: 300,000,000 on the terminal ("y\r\n" for each "y\n")
# The host's memory while it floods: the terminal's ring (RING_BYTES, 4 MiB), the recording's backlog
# (RECORDING_BACKLOG_BYTES, 2 MiB) and a row, buffers of the socket path; not the flood's size.
RSS_GROWTH_BOUND = 48 * MiB


class CountingClient(TerminalClient):
    """Acknowledges output as it arrives, keeping only its count and its last kilobyte."""

    def __init__(self):
        super().__init__(auto_ack=True)
        self.received = 0
        self.last = b""
        self.sio.on("terminal-output", self._count)

    def _count(self, message: dict) -> None:
        data = message["data"]
        self.received += len(data)
        self.last = (self.last + data)[-1024:]
        self.ack(message["sessionId"], message["offset"] + len(data))


def host_process(server) -> psutil.Process:
    children = psutil.Process(server.proc.pid).children()
    return next(p for p in children if any(part.endswith("host.py") for part in p.cmdline()))


def test_a_300_mb_flood_leaves_memory_and_storage_bounded_and_keeps_its_start_and_end(start_server):
    server = start_server({"AICT_RECORDING_MAX_BYTES": str(LIMIT), "AICT_RECORDING_TAIL_BYTES": str(TAIL)})
    server.wait_for_host()
    workspace = server.create_local_workspace()
    host = host_process(server)
    c = CountingClient()
    c.connect(server.url, server.admin_token)
    try:
        session_id = c.create(workspace["id"])
        c.send(session_id, "stty -echo; echo warm\n")
        deadline = time.monotonic() + 15
        while b"warm" not in c.last and time.monotonic() < deadline:
            time.sleep(0.05)
        rss_before, peak = host.memory_info().rss, 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, host.memory_info().rss)
                time.sleep(0.1)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            started = time.monotonic()
            c.send(session_id, f"yes | head -c {FLOOD}; echo; echo flood-over; exit\n")
            c.wait_exit(session_id, timeout=300)
            seconds = time.monotonic() - started
        finally:
            done.set()
            sampler.join()
        assert b"flood-over" in c.last
        assert c.received > 1.5 * FLOOD
        growth = peak - rss_before
        print(f"300 MB flood in {seconds:.1f} s ({1.5 * FLOOD / MiB / seconds:.0f} MiB/s); host RSS "
              f"{rss_before / MiB:.0f} MiB, peak {peak / MiB:.0f} MiB ({growth / MiB:+.1f} MiB)")
        assert growth <= RSS_GROWTH_BOUND, f"host RSS grew {growth / MiB:.1f} MiB during the flood"

        with sqlite3.connect(server.instance / "aict.db") as db:
            stored, rows = db.execute("SELECT sum(length(data)), count(*) FROM recording_chunks WHERE session_id = ?",
                                      (session_id,)).fetchone()
        with server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token, stream=True) as response:
            assert response.status_code == 200
            lines = response.iter_lines(decode_unicode=True)
            header = json.loads(next(lines))
            output = "".join(json.loads(line)[2] for line in lines if line and json.loads(line)[1] == "o")
    finally:
        c.close()
    print(f"recording: {rows} rows, {stored / 1024:.0f} KiB stored for {1.5 * FLOOD / MiB:.0f} MiB of output")
    assert header["version"] == 2
    head, rest = output.split("\r\n[aict: ", 1)
    left_out = int(rest.split(" ", 1)[0])
    tail = rest[rest.index("]\r\n") + 3:]
    assert len(head) + left_out + len(tail) == c.received  # every byte kept, or counted as left out
    assert set(head[-3000:]) == set(tail[:3000]) == set("y\r\n")  # cut inside the flood, rows apart
    assert tail.endswith("flood-over\r\nexit\r\n")  # the end is kept
    assert len(head) + len(tail) <= LIMIT + ROW  # the documented bound on output kept
    assert len(tail) <= TAIL
    assert stored <= LIMIT + ROW  # stored compressed: far below it for `yes`
