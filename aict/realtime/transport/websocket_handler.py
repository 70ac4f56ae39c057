"""The gevent-websocket handler aict serves with (the dev server and the gunicorn worker alike)."""

from __future__ import annotations

import fcntl
import socket
import struct
import termios
import weakref

from gevent.lock import Semaphore
from geventwebsocket.gunicorn.workers import GeventWebSocketWorker
from geventwebsocket.handler import WebSocketHandler

from aict.realtime.transport.websocket_frames import DEFAULT_MAX_MESSAGE_BYTES, BoundedWebSocket


def _unread_bytes(fd: int) -> int:
    """What the kernel holds received on a socket, not yet read (without reading it)."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


class NoDelayWebSocketHandler(WebSocketHandler):
    """TCP_NODELAY (else a binary event's second frame can wait ~40 ms for a delayed ACK), and
    client frames read by aict.realtime.transport.websocket_frames (fast, and bounded by MAX_MESSAGE_BYTES)."""

    def __init__(self, sock, *args, **kwargs):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.send_lock = Semaphore()  # one WebSocket frame at a time (BoundedWebSocket.send_frame)
        super().__init__(sock, *args, **kwargs)

    # Connections kept alive between two requests: a stopping server closes them at once. They end only
    # when their client closes them, and held a stop for its whole drain (8 s). HTTP lets a server close
    # an idle connection at any time; clients send their next request on a new one.
    kept_alive: weakref.WeakSet[NoDelayWebSocketHandler] = weakref.WeakSet()
    requests_served = 0

    def read_requestline(self):
        if self.requests_served:  # not a connection's first request: close_listener took it to serve it
            NoDelayWebSocketHandler.kept_alive.add(self)
        try:
            return super().read_requestline()
        finally:
            NoDelayWebSocketHandler.kept_alive.discard(self)
            self.requests_served += 1

    @classmethod
    def close_kept_alive(cls) -> None:
        """On the way out: close the connections that wait for a next request and have none on its way."""
        for handler in list(cls.kept_alive):
            sock = handler.socket
            if sock is None:
                continue
            try:
                if _unread_bytes(sock.fileno()):
                    continue  # a request is arriving: it is answered
            except OSError:
                continue
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @property
    def max_message_bytes(self) -> int:
        settings = (getattr(self.application, "config", None) or {}).get("AICT")
        return settings.MAX_MESSAGE_BYTES if settings is not None else DEFAULT_MAX_MESSAGE_BYTES

    def run_websocket(self):
        BoundedWebSocket.adopt(self.websocket)
        super().run_websocket()

    def log_request(self):  # quiet access log; audit events record what matters
        if self.code and int(self.code) >= 500:
            super().log_request()


class GunicornWorker(GeventWebSocketWorker):
    """gunicorn's gevent-websocket worker with this handler (gunicorn.conf.py names it)."""

    wsgi_handler = NoDelayWebSocketHandler
