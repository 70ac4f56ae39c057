"""aict.realtime.transport.direct_output: small terminal-output goes straight to the WebSocket only
when nothing sent earlier could be overtaken and the write cannot wait; otherwise engineio's queue
takes it. A fast path only (FAST_PATHS): the stock transport always queues, so these run on their
own, against real engineio, python-socketio and gevent-websocket objects over a loopback socket."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import gevent
import pytest
from engineio.socket import Socket
from gevent.lock import Semaphore
from geventwebsocket.handler import WebSocketHandler
from geventwebsocket.websocket import Stream

from aict.realtime.transport.direct_output import DIRECT_MAX_BYTES, send_binary_event
from aict.realtime.transport.inline_events import InlineEventsServer
from aict.realtime.transport.output_packet import terminal_output_header
from aict.realtime.transport.websocket_frames import BoundedWebSocket

HEADER = terminal_output_header("s1", 0)


@pytest.fixture
def server():
    return InlineEventsServer(async_mode="gevent")


@pytest.fixture
def connection(server):
    """An upgraded engineio socket ("e1") of `server`, its WebSocket over loopback, and the client's end."""
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server_end, _ = listener.accept()
    listener.close()
    handler = WebSocketHandler(server_end, server_end.getsockname(), server=None)
    handler.send_lock = Semaphore()  # as aict's NoDelayWebSocketHandler gives each connection
    ws = BoundedWebSocket({}, Stream(handler), handler)
    eio_socket = Socket(server.eio, "e1")
    eio_socket.connected = eio_socket.upgraded = True
    server.eio.sockets["e1"] = eio_socket
    # What engineio_hooks sets: the WebSocket engineio reads, and its writer waiting in poll().
    eio_socket.direct_websocket, eio_socket.writer_idle = ws, True
    yield eio_socket, client
    client.close()
    server_end.close()


def read_frames(client: socket.socket, count: int) -> list[tuple[int, bytes]]:
    client.settimeout(5)
    buffer, frames = b"", []
    while len(frames) < count:
        buffer += client.recv(65536)
        while len(buffer) >= 2:
            length, start = buffer[1] & 0x7F, 2
            if length == 126:
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            if len(buffer) < start + length:
                break
            frames.append((buffer[0], buffer[start:start + length]))
            buffer = buffer[start + length:]
    return frames


def test_an_idle_websocket_gets_the_header_and_its_attachment_at_once_and_together(connection):
    eio_socket, client = connection
    assert send_binary_event(eio_socket, HEADER, b"echo\xff")
    assert read_frames(client, 2) == [(0x81, b"4" + HEADER.encode()), (0x82, b"echo\xff")]


@pytest.mark.parametrize("state", ["packets queued", "writer busy", "upgrading", "closed"])
def test_output_waits_its_turn_behind_what_engineio_has_not_written(connection, state):
    eio_socket, client = connection
    if state == "packets queued":
        eio_socket.queue.put("an earlier packet")
    elif state == "writer busy":
        eio_socket.writer_idle = False
    elif state == "upgrading":
        eio_socket.upgrading = True
    else:
        eio_socket.closed = True
    assert not send_binary_event(eio_socket, HEADER, b"x")


def test_bulk_output_and_a_full_socket_take_the_queue_so_the_session_never_waits(connection):
    eio_socket, client = connection
    assert not send_binary_event(eio_socket, HEADER, b"x" * (DIRECT_MAX_BYTES + 1))
    server_end = eio_socket.direct_websocket.handler.socket
    server_end.setblocking(False)
    try:
        while True:  # the client reads nothing: fill its buffer and then the kernel's send queue
            server_end.send(b"\0" * 65536)
    except BlockingIOError:
        pass
    assert not send_binary_event(eio_socket, HEADER, b"x")


def test_a_few_bytes_awaiting_the_peers_ack_do_not_divert_output_but_kilobytes_do(connection, monkeypatch):
    # A delayed ACK keeps the last small write in the kernel for up to 40 ms; waiting for none sent
    # the next echo to engineio's queue, behind everything else the loop had at hand.
    from aict.realtime.transport import direct_output as direct

    eio_socket, client = connection
    monkeypatch.setattr(direct, "_outstanding_bytes", lambda ws: 160)
    assert send_binary_event(eio_socket, HEADER, b"y")
    monkeypatch.setattr(direct, "_outstanding_bytes", lambda ws: direct.DIRECT_OUTSTANDING_BYTES + 1)
    assert not send_binary_event(eio_socket, HEADER, b"z")
    monkeypatch.setattr(direct, "_outstanding_bytes", lambda ws: -1)  # unknown: never guess
    assert not send_binary_event(eio_socket, HEADER, b"z")
    assert read_frames(client, 2) == [(0x81, b"4" + HEADER.encode()), (0x82, b"y")]


def test_an_event_answer_goes_straight_out_only_when_nothing_is_queued_before_it(connection):
    from aict.realtime.transport.direct_output import send_text

    eio_socket, client = connection
    assert send_text(eio_socket, '31[{"ok":true}]')
    assert read_frames(client, 1) == [(0x81, b'431[{"ok":true}]')]
    eio_socket.queue.put("an earlier packet")
    assert not send_text(eio_socket, '32[{"ok":true}]')


def test_an_answer_scheduled_behind_output_is_sent_from_a_greenlet_never_from_the_hub(server, connection):
    # after_output() runs its callbacks in the hub, where nothing may wait: here another greenlet
    # holds the socket's send lock (answering a ping, say) when the keystroke's answer is due.
    import socketio
    from gevent.hub import get_hub

    eio_socket, client = connection
    lock = eio_socket.direct_websocket.handler.send_lock
    lock.acquire()
    ack = server.packet_class(socketio.packet.ACK, namespace="/", id=7, data=[{"ok": True}])
    get_hub().loop.run_callback(server._answer, "e1", ack)
    gevent.sleep(0.05)
    lock.release()
    gevent.sleep(0.05)  # the answering greenlet takes the lock and writes
    assert read_frames(client, 1) == [(0x81, b'437[{"ok":true}]')]


class RecordingSocket:
    """The server end of the connection, counting its writes."""

    def __init__(self, sock: socket.socket):
        self.sock, self.writes = sock, []

    def send(self, data) -> int:
        self.writes.append(bytes(data))
        return self.sock.send(data)

    def sendall(self, data) -> None:
        self.writes.append(bytes(data))
        self.sock.sendall(data)

    def fileno(self) -> int:
        return self.sock.fileno()


@pytest.fixture
def keystroke(server, connection, monkeypatch):
    """The socket.io server answering terminal-input behind output, as aict's fast path does."""
    from aict.extensions import socketio
    from aict.realtime import viewer
    from aict.realtime.transport.inline_events import Later

    eio_socket, client = connection
    handler = eio_socket.direct_websocket.handler
    handler.socket = RecordingSocket(handler.socket)
    sid = server.manager.connect("e1", "/")
    scheduled = []
    server.inline_handlers["terminal-input"] = lambda sid, payload: Later({"ok": True}, scheduled.append)
    monkeypatch.setattr(socketio, "server", server)  # what SocketViewer sends through
    return SimpleNamespace(server=server, viewer=viewer.SocketViewer(sid, "u1"), scheduled=scheduled,
                           writes=handler.socket.writes, client=client)


def test_a_keystroke_answer_leaves_in_the_same_write_as_the_echo_behind_it(keystroke):
    # Written on its own after the echo, the answer kept the server busy while the client, woken
    # onto its CPU, waited: one write, and the server goes idle as soon as the echo is out.
    keystroke.server._handle_event("e1", "/", 7, ["terminal-input", {"sessionId": "s1", "data": "Z"}])
    assert keystroke.writes == []  # held, not sent before the echo
    keystroke.viewer.send_output("s1", 0, b"Z")
    assert len(keystroke.writes) == 1
    assert read_frames(keystroke.client, 3) == [(0x81, b"4" + HEADER.encode()), (0x82, b"Z"),
                                                (0x81, b'437[{"ok":true}]')]
    for send in keystroke.scheduled:  # what after_output() calls next: nothing is left to send
        send()
    gevent.sleep(0.05)
    assert len(keystroke.writes) == 1


def test_a_keystroke_answer_with_no_output_to_ride_goes_out_alone_when_due(keystroke):
    from gevent.hub import get_hub

    keystroke.server._handle_event("e1", "/", 8, ["terminal-input", {"sessionId": "s1", "data": "q"}])
    for send in keystroke.scheduled:  # as after_output() calls it: in the hub, where nothing may wait
        get_hub().loop.run_callback(send)
    gevent.sleep(0.05)
    assert read_frames(keystroke.client, 1) == [(0x81, b'438[{"ok":true}]')]
    keystroke.viewer.send_output("s1", 0, b"later")  # the next output carries nothing twice
    assert read_frames(keystroke.client, 2) == [(0x81, b"4" + HEADER.encode()), (0x82, b"later")]
