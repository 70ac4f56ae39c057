"""The hand-made terminal-output packet (transport.output_packet, the fast path) is, byte for byte,
what python-socketio and engineio themselves send for the same event (the stock path)."""

from __future__ import annotations

import pytest
import socketio

from aict.realtime.transport import output_packet
from aict.realtime.transport.contract_events import ContractServer
from aict.realtime.transport.output_packet import terminal_output_header

SESSION_IDS = ["s1", "0f6d3c1e9a2b4c7d8e9f0a1b2c3d4e5f", 'a "quoted" id', "50%", "%d %s %%", "é", "日本語",
               "\u2028 line separator", "back\\slash", "lone \ud800 surrogate", "\x00\n\t\x7f", "/ns,1[]{}:"]
OFFSETS = [0, 1, 4096, 2**31, 2**53 + 1, 10**20]


def stock_wire(session_id: str, offset: int, data: bytes) -> list:
    """What the stock path puts on the WebSocket for this event: engineio packets as encoded for it."""
    server = ContractServer(async_mode="gevent")
    sent = []
    server.eio.send_packet = lambda eio_sid, packet: sent.append(packet.encode())
    sid = server.manager.connect("e1", "/")
    server.send_terminal_output(sid, session_id, offset, data)
    return sent


@pytest.mark.parametrize("session_id", SESSION_IDS)
@pytest.mark.parametrize("offset", OFFSETS)
def test_the_hand_made_header_is_python_socketios_own_encoding(session_id, offset):
    data = bytes(range(256))
    # engineio's message type '4', then the header; the attachment as it is, in a binary frame
    assert stock_wire(session_id, offset, data) == ["4" + terminal_output_header(session_id, offset), data]


@pytest.mark.parametrize("session_id", SESSION_IDS)
def test_the_start_up_probe_and_python_socketios_packet_agree(session_id):
    expected = socketio.packet.Packet(socketio.packet.EVENT, namespace="/", data=[
        "terminal-output", {"sessionId": session_id, "offset": 7, "data": b"x"}]).encode()
    assert output_packet.python_socketio_encoding(session_id, 7, b"x") == expected
    assert expected == [terminal_output_header(session_id, 7), b"x"]
    assert output_packet.shape_problems() == []


def test_a_different_encoding_is_found_at_start_up(monkeypatch):
    monkeypatch.setattr(output_packet, "_header_format", lambda session_id: '51-["terminal-output",{"offset":%d}]')
    found, compressed = output_packet.shape_problems()  # plain and compressed chunks alike
    assert "compressed terminal-output is encoded as" in compressed
    assert found.startswith("python-socketio ") and "terminal-output is encoded as" in found


@pytest.mark.parametrize("session_id", SESSION_IDS)
@pytest.mark.parametrize("fields", [{"encoding": "deflate-raw", "length": 300},
                                    {"encoding": "deflate-raw", "length": 2**40, "reset": True}])
def test_a_compressed_chunks_hand_made_header_is_python_socketios_own_encoding(session_id, fields):
    data = b"\x01\x02"
    server = ContractServer(async_mode="gevent")
    sent = []
    server.eio.send_packet = lambda eio_sid, packet: sent.append(packet.encode())
    server.send_terminal_output(server.manager.connect("e1", "/"), session_id, 9, data, fields)
    assert sent == ["4" + terminal_output_header(session_id, 9, fields), data]
    assert output_packet.python_socketio_encoding(session_id, 9, data, fields) == [sent[0][1:], data]
