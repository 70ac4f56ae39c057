"""terminado 0.18.1, the reference: its own venv, its server as a child process, our clients."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import websocket

from bench.wsframes import FrameReader

PACKAGES = ["terminado==0.18.1", "tornado", "websocket-client"]


def ensure_venv(bench_dir: Path) -> Path:
    """bench/.venv-terminado with terminado 0.18.1, created on first use."""
    home = bench_dir / ".venv-terminado"
    python = home / "bin" / "python"
    probe = "import terminado, tornado, websocket; assert terminado.__version__ == '0.18.1'"
    if python.exists() and subprocess.run([python, "-c", probe], capture_output=True).returncode == 0:
        return python
    print("[bench] creating bench/.venv-terminado (terminado 0.18.1)", file=sys.stderr, flush=True)
    subprocess.run(["python3", "-m", "venv", "--clear", str(home)], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", *PACKAGES], check=True)
    subprocess.run([python, "-c", probe], check=True)
    return python


class TerminadoServer:
    def __init__(self, procs, bench_dir: Path):
        self.procs = procs
        self.bench_dir = bench_dir
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, shell: list[str], max_terminals: int = 64, page: Path | None = None) -> None:
        """`page`: a directory served under /page/ (the browser benchmark's xterm.js page)."""
        from tests.server import free_port

        python = ensure_venv(self.bench_dir)
        port = free_port()
        self.proc = self.procs.spawn([str(python), str(self.bench_dir / "terminado_server.py"), str(port), *shell],
                                     stdout=subprocess.PIPE, text=True,
                                     env={**os.environ, "BENCH_TERMINADO_MAX": str(max_terminals),
                                          **({"BENCH_TERMINADO_PAGE": str(page)} if page else {})})
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("terminado did not start")
        self.url = f"ws://127.0.0.1:{port}/websocket"
        self.origin = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Terminal:
    """websocket-client connects and sends; bench/wsframes.py reads, as for aict's client."""

    def __init__(self, url: str):
        self.ws = websocket.create_connection(url, skip_utf8_validation=True, timeout=30)
        self.frames = FrameReader(self.ws)

    def send(self, text: str) -> None:
        self.ws.send(text)

    def recv(self) -> str:
        return self.frames.recv_text()

    def settimeout(self, seconds: float) -> None:
        self.frames.settimeout(seconds)

    def close(self) -> None:
        self.ws.close()


def _connect(url: str) -> Terminal:
    ws = Terminal(url)
    _send(ws, "PS1='$ '; echo READY_$((2*3))\r")
    _until(ws, "READY_6")
    time.sleep(0.1)
    _drain(ws)
    return ws


def _send(ws: Terminal, text: str) -> None:
    ws.send(json.dumps(["stdin", text]))


def _until(ws: Terminal, needle: str) -> int:
    """Read stdout messages until `needle` shows up; returns the characters received."""
    received, tail = 0, ""
    while True:
        message = json.loads(ws.recv())
        if message[0] != "stdout":
            continue
        text = message[1]
        received += len(text)
        if needle in text or needle in tail + text[:len(needle)]:
            return received
        tail = text[-len(needle):]


def _drain(ws: Terminal) -> None:
    ws.settimeout(0.05)
    try:
        while True:
            ws.recv()
    except TimeoutError:
        pass
    ws.settimeout(30)


def terminado_throughput(url: str, command: str, mark: bytes) -> float:
    ws = _connect(url)
    try:
        start = time.perf_counter()
        _send(ws, command + "\r")
        received = _until(ws, mark.decode())  # ASCII output: characters are bytes
        return received / (time.perf_counter() - start) / 1e6
    finally:
        ws.close()


def terminado_echo(url: str, samples: int, gap: tuple[float, float]) -> list[float]:
    ws = _connect(url)
    latencies = []
    letters = "abcdefghijklmnopqrstuvwxyz"
    try:
        for i in range(samples):
            if i % 25 == 0:
                _send(ws, "\x15")
                time.sleep(0.05)
                _drain(ws)
            ch = letters[i % 26]
            start = time.perf_counter()
            _send(ws, ch)
            _until(ws, ch)
            latencies.append((time.perf_counter() - start) * 1000)
            time.sleep(random.uniform(*gap))
    finally:
        ws.close()
    return latencies
