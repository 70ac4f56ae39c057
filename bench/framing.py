"""The terminal host's framing, measured: its binary OUTPUT frames against JSON for every frame
(the data in base64) and against the bare socket, over a Unix socketpair.

    .venv/bin/python -m bench.framing [--rounds N]

Two processes, as a host and a web process are: the sender writes a terminal's output in chunks of
a given size through aict.host.wire's FrameLink (gathered per loop pass, flow control at its high
water mark), the receiver reads it through a FrameLink and takes every frame apart as the web
process does (aict.host.wire.parse_output; for JSON, json.loads and base64 decoding). The bare
socket is the same two processes with no framing at all: gevent sockets, sendall and recv_into.
Chunk sizes: 256 KiB (a stream's coalesced flush), 4 KiB (what one PTY read gives) and 64 bytes
(an echo). Reports MB/s of terminal data and the CPU (user + system) both processes spent per MB;
variants take turns within every round, and the table takes medians.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("BENCH_FRAMING_ROUNDS", 3))
MODES = ("bare", "wire", "json")
MODE_NAMES = {"bare": "bare socket (no framing)", "wire": "aict.host.wire OUTPUT frames",
              "json": "JSON for every frame, data in base64"}
# (chunk bytes, bytes per round): a few tenths of a second for the slowest variant but JSON's
SIZES = ((256 * 1024, 100_000_000), (4096, 50_000_000), (64, 2_000_000))
SESSION = "0123456789abcdef0123456789abcdef"  # a session id's length
KEY = "sock-0123456789abcdef"  # a viewer key's length


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sender(fd: int, mode: str, chunk: int, total: int) -> None:
    from gevent import monkey

    monkey.patch_all()
    import gevent
    from gevent.event import Event

    from aict.host import wire

    sock = socket.socket(fileno=fd)
    data = os.urandom(chunk)
    count = total // chunk
    began = _cpu()
    if mode == "bare":
        for _ in range(count):
            sock.sendall(data)
    else:
        link = wire.FrameLink(sock, on_frame=lambda kind, payload: None, name="bench sender")
        drained = Event()
        offset = 0
        for i in range(count):
            if mode == "wire":
                link.send(*wire.output(SESSION, KEY, offset, data))
            else:
                link.send_message({"ev": "output", "session": SESSION, "key": KEY, "offset": offset,
                                   "data": base64.b64encode(data).decode()})
            offset += chunk
            if link.unsent >= wire.HIGH_WATER:
                drained.clear()
                link.when_drained(drained.set)
                drained.wait()
            elif i % 16 == 15:
                gevent.sleep(0)  # the product sends from greenlets between loop passes: let the flush run
        while link.unsent and not link.closed:
            gevent.sleep(0.001)
    cpu = _cpu() - began
    sock.shutdown(socket.SHUT_WR)
    print(json.dumps({"cpu": cpu}), flush=True)
    if mode == "bare":
        sock.recv(1)  # until the receiver has it all and closes
    else:
        link._reader.join()  # the link's own reader sees the receiver close


def receiver(fd: int, mode: str, total: int) -> None:
    from gevent import monkey

    monkey.patch_all()
    from gevent.event import Event

    from aict.host import wire

    sock = socket.socket(fileno=fd)
    received = 0
    began = _cpu()
    first = last = 0.0
    if mode == "bare":
        buffer = bytearray(wire.READ_SIZE)
        while n := sock.recv_into(buffer):
            last = time.perf_counter()
            if not received:
                first = last
            received += n
    else:
        done = Event()
        expected = 0

        def on_frame(kind: int, payload: memoryview) -> None:
            nonlocal received, expected, first, last
            last = time.perf_counter()
            if not received:
                first = last
            if kind == wire.OUTPUT:
                session_id, key, offset, data = wire.parse_output(payload)
            else:
                body = json.loads(bytes(payload))
                session_id, key, offset, data = (body["session"], body["key"], body["offset"],
                                                 base64.b64decode(body["data"]))
            if offset != expected or session_id != SESSION or key != KEY:
                raise RuntimeError(f"frame at {offset}, expected {expected}")
            expected = offset + len(data)
            received += len(data)

        wire.FrameLink(sock, on_frame, on_close=done.set, name="bench receiver")
        done.wait()
    print(json.dumps({"cpu": _cpu() - began, "received": received, "seconds": last - first}), flush=True)


TRIPS = 300  # keystroke round trips per mode and round
TRIP_GAP = 0.003  # seconds between keystrokes: the far end is idle when one arrives, as while typing


def echoer(fd: int, mode: str) -> None:
    """The host's part of a keystroke: every input frame answered with an output frame of its bytes."""
    from gevent import monkey

    monkey.patch_all()
    from gevent.event import Event

    from aict.host import wire

    done = Event()
    link = None

    def on_frame(kind: int, payload: memoryview) -> None:
        if kind == wire.INPUT:
            seq, session_id, data = wire.parse_input(payload)
            link.send(*wire.output(session_id, KEY, seq, data))
        else:
            body = json.loads(bytes(payload))
            link.send_message({"ev": "output", "session": body["session"], "key": KEY, "offset": body["seq"],
                               "data": body["data"]})

    link = wire.FrameLink(socket.socket(fileno=fd), on_frame, on_close=done.set, name="bench echoer")
    print("ready", flush=True)
    done.wait()


def typist(fd: int, mode: str) -> None:
    """The web process's part: one-byte input frames, TRIP_GAP apart; prints the round trips (µs)."""
    from gevent import monkey

    monkey.patch_all()
    import gevent
    from gevent.event import Event

    from aict.host import wire

    arrived = Event()
    link = wire.FrameLink(socket.socket(fileno=fd), lambda kind, payload: arrived.set(), name="bench typist")
    trips = []
    for i in range(TRIPS):
        arrived.clear()
        began = time.perf_counter()
        if mode == "wire":
            link.send(*wire.input_frame(i, SESSION, b"a"))
        else:
            link.send_message({"op": "input", "seq": i, "session": SESSION, "data": base64.b64encode(b"a").decode()})
        if not arrived.wait(5):
            raise RuntimeError("no echo")
        trips.append((time.perf_counter() - began) * 1e6)
        gevent.sleep(TRIP_GAP)
    link.close()
    print(json.dumps(trips), flush=True)


def round_trips(mode: str) -> list[float]:
    """Microseconds from a one-byte input frame sent to its output frame back, between two processes
    with a gevent FrameLink each (a web process and its host, with nothing else to do)."""
    near, far = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    command = [sys.executable, "-m", "bench.framing"]
    with near, far:
        echo = subprocess.Popen([*command, "--echo", str(far.fileno()), mode], cwd=ROOT, pass_fds=(far.fileno(),),
                                stdout=subprocess.PIPE, text=True)
        echo.stdout.readline()
        typing = subprocess.Popen([*command, "--type", str(near.fileno()), mode], cwd=ROOT,
                                  pass_fds=(near.fileno(),), stdout=subprocess.PIPE, text=True)
    trips = json.loads(typing.stdout.readline())
    typing.wait(10), echo.wait(10)
    return trips


def one_round(mode: str, chunk: int, total: int) -> tuple[float, float]:
    """(MB/s, CPU ms per MB of both processes) of one transfer."""
    near, far = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    command = [sys.executable, "-m", "bench.framing"]
    with near, far:
        recv = subprocess.Popen([*command, "--receive", str(far.fileno()), mode, str(total)], cwd=ROOT,
                                pass_fds=(far.fileno(),), stdout=subprocess.PIPE, text=True)
        send = subprocess.Popen([*command, "--send", str(near.fileno()), mode, str(chunk), str(total)], cwd=ROOT,
                                pass_fds=(near.fileno(),), stdout=subprocess.PIPE, text=True)
    # Timed by the receiver, from its first read to its last: interpreter start-up excluded.
    out_recv = json.loads(recv.stdout.readline())
    out_send = json.loads(send.stdout.readline())
    send.wait(30), recv.wait(30)
    moved = total // chunk * chunk
    if out_recv["received"] != moved:
        raise RuntimeError(f"{mode}: received {out_recv['received']} of {moved} bytes")
    return moved / out_recv["seconds"] / 1e6, (out_recv["cpu"] + out_send["cpu"]) * 1000 / (moved / 1e6)


def measure(rounds: int, log=lambda message: None) -> dict[tuple[str, int], list]:
    """{(mode, chunk): [(MB/s, CPU ms/MB) per round]} and {(mode, 0): [round trips, µs]}."""
    results: dict[tuple[str, int], list] = {}
    for round_ in range(rounds):
        for chunk, total in SIZES:
            for mode in MODES if round_ % 2 == 0 else reversed(MODES):
                results.setdefault((mode, chunk), []).append(one_round(mode, chunk, total))
        for mode in ("wire", "json") if round_ % 2 == 0 else ("json", "wire"):
            results.setdefault((mode, 0), []).extend(round_trips(mode))
        log(f"framing round {round_ + 1}/{rounds}")
    return results


def _p(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def _size(chunk: int) -> str:
    return f"{chunk // 1024} KiB" if chunk >= 1024 else f"{chunk} B"


def table(results: dict[tuple[str, int], list]) -> str:
    rows = ["| Framing over a Unix socketpair | " + " | ".join(f"{_size(c)} chunks: MB/s, CPU ms/MB" for c, _ in SIZES)
            + " | Keystroke round trip p50 / p99 (µs) |", "| --- |" + " ---: |" * (len(SIZES) + 1)]
    for mode in MODES:
        cells = []
        for chunk, _ in SIZES:
            runs = results[(mode, chunk)]
            rate, cpu = statistics.median(r for r, _ in runs), statistics.median(c for _, c in runs)
            bare = statistics.median(r for r, _ in results[("bare", chunk)])
            cells.append(f"{rate:,.0f} ({rate / bare:.2f}× bare), {cpu:.2f}" if mode != "bare" else
                         f"{rate:,.0f}, {cpu:.2f}")
        trips = results.get((mode, 0))
        cells.append(f"{_p(trips, 50):.0f} / {_p(trips, 99):.0f}" if trips else "")
        rows.append(f"| {MODE_NAMES[mode]} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def conditions(rounds: int) -> str:
    return (f"- Framing: {MODE_NAMES['wire']} against {MODE_NAMES['json']} and the bare socket, one sender and "
            "one receiver process (gevent, aict.host.wire.FrameLink at both ends, every frame taken apart as the "
            "web process does), random bytes; MB/s of terminal data from the receiver's first read to its last, "
            "CPU = user + system of both processes per MB; "
            f"median of {rounds} rounds in which the variants take turns; per round "
            + ", ".join(f"{total / 1e6:g} MB in {_size(chunk)} chunks" for chunk, total in SIZES)
            + f". Keystroke round trip: a one-byte input frame to another process, which answers with an output "
            f"frame of it at once (a host with nothing else to do), {TRIPS} per round {TRIP_GAP * 1000:.0f} ms "
            "apart; the floor that one process hop adds to an echo.")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--send":
        sender(int(argv[1]), argv[2], int(argv[3]), int(argv[4]))
        return 0
    if argv and argv[0] == "--type":
        typist(int(argv[1]), argv[2])
        return 0
    if argv and argv[0] == "--echo":
        echoer(int(argv[1]), argv[2])
        return 0
    if argv and argv[0] == "--receive":
        receiver(int(argv[1]), argv[2], int(argv[3]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.framing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args(argv)
    results = measure(args.rounds, lambda m: print(f"[framing] {m}", file=sys.stderr, flush=True))
    print(table(results))
    print()
    print(conditions(args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
