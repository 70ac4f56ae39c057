"""The gevent-websocket handler aict serves with (the dev server and the gunicorn worker alike)."""

from __future__ import annotations

import socket

from gevent.lock import Semaphore
from geventwebsocket.gunicorn.workers import GeventWebSocketWorker
from geventwebsocket.handler import WebSocketHandler

from aict.realtime.transport.websocket_frames import DEFAULT_MAX_MESSAGE_BYTES, BoundedWebSocket


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
