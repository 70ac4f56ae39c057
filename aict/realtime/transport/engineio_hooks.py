"""What the fast paths change in engineio's Socket: its WebSocket and whether its writer is idle
are exposed (for direct_output), and client messages reach Socket.IO without engineio's Packet.

engineio made each WebSocket message a Packet object, logged it, and dispatched it through two
more calls: ~80 µs of a keystroke's ~180 µs from frame to terminal, timed inside the server
between keystrokes (the code runs cold then). Text messages of an upgraded WebSocket now go
straight to the same 'message' handler, in the same greenlet and order; pings, pongs, binary
attachments and everything before the upgrade keep engineio's path.
"""

from __future__ import annotations

import functools

import engineio
import engineio.async_drivers.gevent as engineio_gevent
from engineio.socket import Socket

from aict.realtime.transport import output_budget
from aict.realtime.transport.contract_events import log_failure_once
from aict.realtime.transport.versions import attribute_problems, method_problem, problem, problems_in

PACKAGE = "python-engineio"


def install() -> None:
    """Replace Socket._websocket_handler and Socket.poll (once per process)."""
    if getattr(Socket._websocket_handler, "aict_hook", False):
        return
    handle_websocket, poll = Socket._websocket_handler, Socket.poll

    @functools.wraps(handle_websocket)
    def _websocket_handler(self, ws):
        ws.wait = _messages_past_engineio(self, ws.wait)
        self.direct_websocket = getattr(ws, "_sock", None)  # engineio's wrapper around gevent-websocket's
        try:
            return handle_websocket(self, ws)
        finally:
            self.direct_websocket = None

    @functools.wraps(poll)
    def polling(self):
        # The writer calls poll() once it has written everything it took: idle from here until
        # it takes the next packets (which it does without yielding once they are there).
        output_budget.writer_taking(self)
        self.writer_idle = True
        packets = None
        try:
            packets = poll(self)
            return packets
        finally:
            self.writer_idle = False
            output_budget.writer_took(self, packets)

    _websocket_handler.aict_hook = True
    Socket._websocket_handler = _websocket_handler
    Socket.poll = polling


def installed() -> bool:
    return getattr(Socket._websocket_handler, "aict_hook", False)


def _messages_past_engineio(eio_socket: Socket, wait):
    """ws.wait for engineio's reader: '4' + text messages are handed to Socket.IO on the way, the
    rest returned for engineio to handle."""
    def wait_for_what_engineio_handles():
        while True:
            data = wait()
            # '4' + text: an Engine.IO message, what engineio's receive() would pass on as is.
            if type(data) is str and data[:1] == "4" and eio_socket.upgraded and not eio_socket.closed:
                handler = eio_socket.server.handlers.get("message")
                if handler is not None:
                    try:
                        handler(eio_socket.sid, data[1:])
                    except Exception:
                        log_failure_once(eio_socket)
                    continue
            return data

    return wait_for_what_engineio_handles


def shape_problems() -> list[str]:
    """What the hooks replace and read in engineio, where it differs."""
    server = engineio.Server(async_mode="gevent")
    probe = Socket(server, "probe")
    return problems_in(
        method_problem(PACKAGE, Socket, "_websocket_handler", ("self", "ws")),
        method_problem(PACKAGE, Socket, "poll", ("self",)),
        attribute_problems(PACKAGE, probe, ("server", "sid", "queue", "upgraded", "upgrading", "closed"),
                           "an engineio Socket"),
        attribute_problems(PACKAGE, server, ("handlers",), "an engineio.Server"),
        # gevent-websocket's wrapper (not simple-websocket's) gives ws._sock and ws.wait
        None if engineio_gevent.SimpleWebSocketWSGI is None else
        problem(PACKAGE, "engineio's gevent driver does not use gevent-websocket"),
        method_problem(PACKAGE, engineio_gevent.WebSocketWSGI, "wait", ("self",)),
    )
