"""A TCP proxy on loopback that delays each direction by a fixed time: a long link, for real clients.

Each direction of each connection has a reader that stamps every chunk with when it may leave and a
writer that sends it then, so the link adds latency without limiting throughput, and keeps order."""

from __future__ import annotations

import queue
import socket
import threading
import time


def _no_delay(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class DelayProxy:
    """Listens on 127.0.0.1 (a free port) and forwards to `target_port`, each way `delay_ms` later."""

    def __init__(self, target_port: int, delay_ms: float):
        self.target_port = target_port
        self.delay = delay_ms / 1000
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.closed = False

    def start(self) -> DelayProxy:
        threading.Thread(target=self._accept, name="delay-proxy", daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                _no_delay(sock)
            with self.lock:
                self.sockets += [client, upstream]
            self._direction(client, upstream)
            self._direction(upstream, client)

    def _direction(self, source: socket.socket, sink: socket.socket) -> None:
        chunks: queue.SimpleQueue = queue.SimpleQueue()

        def read() -> None:
            while True:
                try:
                    data = source.recv(65536)
                except OSError:
                    data = b""
                chunks.put((time.monotonic() + self.delay, data))
                if not data:
                    return

        def write() -> None:
            while True:
                due, data = chunks.get()
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                try:
                    if not data:
                        sink.shutdown(socket.SHUT_WR)
                        return
                    sink.sendall(data)
                except OSError:
                    return

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()

    def stop(self) -> None:
        self.closed = True
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked in recv
                except OSError:
                    pass
                sock.close()
