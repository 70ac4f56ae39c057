"""Raw WebSocket frames against the real server: oversized messages are refused from their
header, fragmented and masked messages arrive whole, and nothing else is disturbed."""

from __future__ import annotations

import json
import os
import struct
import time

import websocket

from aict.realtime.transport.log_budget import LINES_PER_WINDOW
from aict.realtime.transport.websocket_frames import unmask
from tests.integration.contract import assert_echoes, raw_websocket

OPCODE_TEXT, OPCODE_CONTINUATION = 0x1, 0x0


def _mask(payload: bytes, key: bytes) -> bytes:
    return unmask(payload, key)  # the same XOR both ways (checked bytewise in tests/unit/test_frames.py)


def _frame_header(opcode: int, length: int, fin: bool = True) -> bytes:
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        return struct.pack("!BB", first, 0x80 | length)
    if length < 65536:
        return struct.pack("!BBH", first, 0x80 | 126, length)
    return struct.pack("!BBQ", first, 0x80 | 127, length)


def _send_raw(ws: websocket.WebSocket, opcode: int, payload: bytes, fin: bool = True) -> None:
    key = os.urandom(4)
    ws.sock.sendall(_frame_header(opcode, len(payload), fin) + key + _mask(payload, key))


def _close_code(ws: websocket.WebSocket) -> int | None:
    """Read until the server's close frame; its status code."""
    while True:
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except (TimeoutError, websocket.WebSocketConnectionClosedException, ConnectionError):
            return None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None


def _expect_terminal_then_kill(ws: websocket.WebSocket, ack_id: int) -> None:
    """Wait for the answer to a create-terminal sent with `ack_id`, check it, kill the terminal, close."""
    while True:
        message = ws.recv()
        if message.startswith(f"43{ack_id}"):
            break
    answer = json.loads(message[2 + len(str(ack_id)):])[0]
    assert answer["ok"] is True
    ws.send(f"42{ack_id}" + json.dumps(["kill-terminal", {"sessionId": answer["sessionId"]}]))
    ws.close()


def test_a_message_announced_bigger_than_the_limit_is_refused_before_its_payload(server, client, workspace):
    client = client()
    session_id = client.create(workspace["id"])
    ws = raw_websocket(server)
    # 1 GiB announced, nothing sent after the header: the server must not wait for (or hold) it.
    ws.sock.sendall(_frame_header(OPCODE_TEXT, 1 << 30) + os.urandom(4))
    assert _close_code(ws) == 1009
    ws.close()
    assert_echoes(client, session_id)  # the server and other sockets carry on


def test_fragments_adding_up_past_the_limit_are_refused(server, client, workspace):
    client = client()
    session_id = client.create(workspace["id"])
    ws = raw_websocket(server)
    three_mib = 3 * 1024 * 1024
    _send_raw(ws, OPCODE_TEXT, b"4" + b"x" * (three_mib - 1), fin=False)
    _send_raw(ws, OPCODE_CONTINUATION, b"x" * three_mib, fin=False)
    # The third fragment would pass the 8 MiB default: refused from its header alone.
    ws.sock.sendall(_frame_header(OPCODE_CONTINUATION, three_mib) + os.urandom(4))
    assert _close_code(ws) == 1009
    ws.close()
    assert_echoes(client, session_id)


def test_a_fragmented_masked_event_arrives_whole(server, workspace):
    ws = raw_websocket(server)
    payload = json.dumps({"workspaceId": workspace["id"], "name": "é" * 40}, ensure_ascii=False)
    event = '421["create-terminal",' + payload + "]"
    encoded = event.encode()
    cut = encoded.index("é".encode()) + 1  # split inside a two-byte character
    _send_raw(ws, OPCODE_TEXT, encoded[:cut], fin=False)
    _send_raw(ws, OPCODE_CONTINUATION, encoded[cut:], fin=True)
    _expect_terminal_then_kill(ws, ack_id=1)


def test_invalid_utf8_in_a_text_frame_closes_with_1007(server, client, workspace):
    client = client()
    session_id = client.create(workspace["id"])
    ws = raw_websocket(server)
    _send_raw(ws, OPCODE_TEXT, b'42["terminal-input",{"data":"\xff\xfe"}]')
    assert _close_code(ws) == 1007
    ws.close()
    assert_echoes(client, session_id)



def test_malformed_socketio_packets_leave_the_connection_and_its_terminals_working(server, client, workspace):
    other = client()
    other_session = other.create(workspace["id"])
    log_start = server.log_path.stat().st_size
    ws = raw_websocket(server)
    # Each is an Engine.IO message whose Socket.IO packet cannot be decoded: the server logs it and
    # reads on (on either path: aict.realtime.transport.contract_events, and engineio_hooks).
    for _ in range(50):
        for bad in ("4", "42[", '42["terminal-input",', "4x", "49", '42["terminal-input",{"sessionId":1}]'):
            ws.send(bad)
    ws.send('427["create-terminal",' + json.dumps({"workspaceId": workspace["id"]}) + "]")
    _expect_terminal_then_kill(ws, ack_id=7)
    assert_echoes(other, other_session)
    # A handful of lines and no traceback, however much garbage it sends: the log cannot be flooded
    # (aict.realtime.transport.log_budget).
    written = server.log_path.read_bytes()[log_start:].decode(errors="replace")
    assert "Traceback" not in written
    ours = [line for line in written.splitlines() if " aict.realtime.transport." in line]
    assert 1 <= len(ours) <= LINES_PER_WINDOW, written


def test_a_client_that_upgrades_from_long_polling_keeps_typing_and_reading(server, workspace):
    upgrading = server.socket(transports=("polling", "websocket"))
    try:
        session_id = upgrading.create(workspace["id"])
        deadline = time.monotonic() + 10
        while upgrading.sio.eio.current_transport != "websocket" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert upgrading.sio.eio.current_transport == "websocket"
        assert_echoes(upgrading, session_id)
        upgrading.send(session_id, "seq 1 20000 | tail -1\n")
        upgrading.wait_for(session_id, "20000\r\n")
    finally:
        upgrading.close()
