"""What stripping shell-integration marks costs the output path (aict.terminals.shell_marks).

    .venv/bin/python -m bench.marks [--rounds N]

Every chunk read from a terminal goes through MarkFilter.strip before the ring. Measured here on
its own, per chunk, against the bare call it replaces (a function that returns its argument), for
chunk sizes a PTY read gives (64 KiB in a flood, 4 KiB, a 64-byte echo) and for four kinds of
output: a flood with colours and no `]` (the fast path: one memchr, one endswith), a log flood with
`[INFO]`-style brackets and no colours (two memchr), the same log coloured (brackets and ESC dense:
the regex), output with an OSC title in every chunk (the scan runs, finds no mark of ours), and a
prompt's worth of marks.
Reports ns per chunk (median of rounds) and, for the flood, that cost as a share of the time the
stream spends on a chunk at 80 MB/s (the measured flood through the terminal host).
"""

from __future__ import annotations

import argparse
import statistics
import time

from aict.terminals.shell_marks import MarkFilter

NONCE = "0123456789abcdef0123456789abcdef"
FLOOD_MB_S = 80.0
SIZES = (64 * 1024, 4096, 64)
LINE = b"\x1b[32mok\x1b[0m 2026-12-06 23:59:59 build step 1234 finished in 0.42 s\r\n"
LOG_LINE = b"[INFO] 12:00:01 [worker-3] GET /api/items?id=42 done in 3 ms\r\n"
COLOUR_LOG_LINE = b"\x1b[1m[INFO]\x1b[0m 12:00:01 [worker-3] GET /api/items?id=42 done in 3 ms\r\n"


def chunks(kind: str, size: int) -> list[bytes]:
    if kind in ("flood", "log", "clog"):
        line = {"flood": LINE, "log": LOG_LINE, "clog": COLOUR_LOG_LINE}[kind]
        return [(line * (size // len(line) + 1))[:size]]
    if kind == "title":
        title = b"\x1b]0;user@host: ~/src\x07"
        return [(title + LINE * (size // len(LINE) + 1))[:max(size, len(title))]]
    marks = (f"\x1b]633;D;{NONCE};0\x07\x1b]633;A;{NONCE}\x07$ ls -la\r\n"
             f"\x1b]633;E;{NONCE};ls -la;/home/user/src\x07").encode()
    return [(marks + LINE * (size // len(LINE) + 1))[:max(size, len(marks))]]


def per_chunk(strip, data: list[bytes], seconds: float = 0.2) -> float:
    """ns per call of strip(chunk), over about `seconds`."""
    count, chunk = 0, data[0]
    began = time.perf_counter()
    while True:
        for _ in range(200):
            strip(chunk)
        count += 200
        elapsed = time.perf_counter() - began
        if elapsed >= seconds:
            return elapsed / count * 1e9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    def bare(data: bytes) -> bytes:
        return data

    events: list = []
    rows = []
    for kind in ("flood", "log", "clog", "title", "marks"):
        for size in SIZES:
            data = chunks(kind, size)
            marks = MarkFilter(NONCE, events.append)
            base, strip = [], []
            for _ in range(args.rounds):  # taking turns within every round
                base.append(per_chunk(bare, data))
                strip.append(per_chunk(marks.strip, data))
                events.clear()
            rows.append((kind, size, statistics.median(base), statistics.median(strip)))
    print(f"{'output':<8}{'chunk':>8}{'bare ns':>10}{'strip ns':>10}{'extra ns':>10}{'of a chunk at 80 MB/s':>24}")
    for kind, size, base, strip in rows:
        share = (strip - base) / (size / (FLOOD_MB_S * 1e6) * 1e9) * 100
        print(f"{kind:<8}{size:>8}{base:>10.0f}{strip:>10.0f}{strip - base:>10.0f}{share:>23.3f}%")


if __name__ == "__main__":
    main()
