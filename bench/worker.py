"""Load generators the benchmark runs as separate processes (their own GIL, like real browsers).

    python -m bench.worker aict-flood URL TOKEN WORKSPACE [COMPRESS [COMMAND]]
    python -m bench.worker terminado-flood WS_URL
    python -m bench.worker aict-load URL TOKEN WORKSPACE SESSIONS SOCKETS PRODUCERS PRODUCER_COMMAND

Each prints one JSON line when it is ready, then obeys lines on stdin ("produce", "stop");
on "stop" (or end of input) it prints a JSON summary and exits.
"""

from __future__ import annotations

import json
import sys
import threading
import time


def say(**fields) -> None:
    print(json.dumps(fields), flush=True)


def wait_command() -> str:
    line = sys.stdin.readline()
    return line.strip() or "stop"


def aict_flood(url: str, token: str, workspace: str, compress: str = "", command: str = "yes") -> None:
    """Flood a terminal with `command` (run in a loop until stopped), read and acked; COMPRESS=1 asks
    for compressed output."""
    from bench.wire import WireClient

    client = WireClient(url, token, compress=compress == "1")
    sid = client.create(workspace)
    client.run(sid, "PS1='$ '", b"$ ")
    client.start_reader()
    client.type(sid, f"while :; do {command}; done\n" if command != "yes" else "yes\n")
    deadline = time.monotonic() + 20
    while client.received.get(sid, 0) < 4 * 1024 * 1024 and time.monotonic() < deadline:
        time.sleep(0.01)
    start, start_bytes = time.perf_counter(), client.received.get(sid, 0)
    say(ready=True, session=sid)
    wait_command()
    seconds = time.perf_counter() - start
    moved = client.received.get(sid, 0) - start_bytes
    client.type(sid, "\x03")
    try:
        client.call("kill-terminal", {"sessionId": sid}, timeout=5)
    except Exception:
        pass
    say(bytes=moved, seconds=seconds, mb_per_s=moved / seconds / 1e6, gaps=client.gaps)
    client.close()


def terminado_flood(ws_url: str) -> None:
    from bench.terminado_ref import Terminal

    ws = Terminal(ws_url)
    ws.settimeout(20)
    ws.send(json.dumps(["stdin", "yes\r"]))
    moved = 0
    stop = threading.Event()

    def read() -> None:
        nonlocal moved
        while not stop.is_set():
            try:
                message = json.loads(ws.recv())
            except Exception:
                return
            if message[0] == "stdout":
                moved += len(message[1])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while moved < 4 * 1024 * 1024:
        time.sleep(0.01)
    start, start_bytes = time.perf_counter(), moved
    say(ready=True)
    wait_command()
    seconds, moved_now = time.perf_counter() - start, moved
    stop.set()
    try:
        ws.send(json.dumps(["stdin", "\x03"]))
        ws.close()
    except Exception:
        pass
    say(bytes=moved_now - start_bytes, seconds=seconds, mb_per_s=(moved_now - start_bytes) / seconds / 1e6)


def aict_load(url: str, token: str, workspace: str, sessions: int, sockets: int, producers: int,
              producer_command: str) -> None:
    from bench.wire import WireClient

    clients = [WireClient(url, token) for _ in range(sockets)]
    created: list[list[str]] = [[] for _ in clients]
    errors: list[str] = []

    def create(index: int, count: int) -> None:
        for _ in range(count):
            try:
                created[index].append(clients[index].create(workspace))
            except Exception as exc:  # noqa: BLE001 - reported, not fatal
                errors.append(str(exc))
                return

    started = time.perf_counter()
    share = [sessions // sockets + (1 if i < sessions % sockets else 0) for i in range(sockets)]
    threads = [threading.Thread(target=create, args=(i, n)) for i, n in enumerate(share)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:  # from now on their output is read and acked in the background
        c.start_reader()
    total = sum(len(c) for c in created)
    say(created=total, seconds=time.perf_counter() - started, errors=errors[:3])
    while True:
        command = wait_command()
        if command == "produce":
            pairs = [(c, sid) for c, sids in zip(clients, created, strict=True) for sid in sids]
            step = max(1, len(pairs) // max(1, producers))
            chosen = pairs[::step][:producers]
            for c, sid in chosen:
                c.type(sid, producer_command + "\n")
            say(producing=len(chosen))
        else:
            break
    moved = sum(sum(c.received.values()) for c in clients)
    say(bytes=moved, gaps=sum(c.gaps for c in clients))
    for c in clients:
        c.close()


def main(argv: list[str]) -> None:
    role, args = argv[0], argv[1:]
    if role == "aict-flood":
        aict_flood(*args)
    elif role == "terminado-flood":
        terminado_flood(*args)
    elif role == "aict-load":
        url, token, workspace, sessions, sockets, producers, command = args
        aict_load(url, token, workspace, int(sessions), int(sockets), int(producers), command)
    else:
        raise SystemExit(f"unknown role {role}")


if __name__ == "__main__":
    main(sys.argv[1:])
