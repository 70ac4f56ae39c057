"""When a keystroke's ack goes out: right behind the echo it causes, or soon when nothing is echoed."""

from __future__ import annotations

import json
import time

import pytest

from tests.integration.contract import raw_websocket
from tests.server import FAST_PATHS_ON


def _create(ws, workspace_id: str) -> str:
    ws.send("421" + json.dumps(["create-terminal", {"workspaceId": workspace_id}]))
    while True:
        message = ws.recv()
        if message.startswith("431"):
            return json.loads(message[3:])[0]["sessionId"]


def _messages_until_ack(ws, ack_id: int, timeout: float = 10) -> list:
    """Every message up to and including the ack with this id (binary attachments as bytes)."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = ws.recv()
        seen.append(message)
        if isinstance(message, str) and message.startswith(f"43{ack_id}["):
            return seen
    raise AssertionError(f"no ack {ack_id} in {seen}")


def _settle(ws) -> None:
    ws.settimeout(0.5)
    try:
        while True:
            ws.recv()
    except Exception:  # noqa: BLE001 - a read timeout: nothing more is coming
        ws.settimeout(10)


@pytest.mark.serial  # the ack waits AFTER_OUTPUT_SECONDS (3 ms) for the echo: a starved shell echoes later
def test_a_keystroke_ack_comes_right_behind_its_echo(server, workspace):
    ws = raw_websocket(server)
    session_id = _create(ws, workspace["id"])
    _settle(ws)  # the prompt
    attempts = []
    for ack_id, key in enumerate("ZYXWV"):  # one scheduler hiccup may still put a shell's echo past 3 ms
        ws.send(f"42{ack_id}" + json.dumps(["terminal-input", {"sessionId": session_id, "data": key}]))
        seen = _messages_until_ack(ws, ack_id)
        assert json.loads(seen[-1][3:]) == [{"ok": True}]
        if not FAST_PATHS_ON:  # the libraries' own path answers once the input is written (docs/api.md)
            while not any(isinstance(m, bytes) and key.encode() in m for m in seen):
                seen.append(ws.recv())  # a socket timeout ends the test: the echo never came
            break
        attempts.append(seen)
        if len(seen) >= 3 and key.encode() in seen[-2]:  # the echo's header and attachment, then the ack
            break
        _settle(ws)
    else:
        raise AssertionError(f"no ack came right behind its echo: {attempts}")
    ws.send("429" + json.dumps(["kill-terminal", {"sessionId": session_id}]))
    ws.close()


def test_a_keystroke_that_echoes_nothing_is_still_acked(server, workspace):
    ws = raw_websocket(server)
    session_id = _create(ws, workspace["id"])
    ws.send("421" + json.dumps(["terminal-input", {"sessionId": session_id,
                                                  "data": "stty -echo; echo quiet-$((2*4))\n"}]))
    while "quiet-8" not in str(ws.recv()):
        pass
    _settle(ws)
    ws.send("429" + json.dumps(["terminal-input", {"sessionId": session_id, "data": "q"}]))
    seen = _messages_until_ack(ws, 9)
    assert seen == ['439[{"ok":true}]']  # no output at all, and the ack came anyway
    ws.send("422" + json.dumps(["kill-terminal", {"sessionId": session_id}]))
    ws.close()
