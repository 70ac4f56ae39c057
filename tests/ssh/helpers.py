"""Helpers for the SSH suite: workspaces on the test sshd, echo timing."""

from __future__ import annotations

import statistics
import time

from tests.server import RunningServer, TerminalClient


def create_workspace(server: RunningServer, body: dict, token: str | None = None) -> dict:
    response = server.api("POST", "/api/workspaces", token or server.admin_token, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def create_ack(client: TerminalClient, workspace_id: str, timeout: float = 20, **size) -> dict:
    """The raw create-terminal acknowledgement (ok or not)."""
    return client.call("create-terminal", {"workspaceId": workspace_id, **size}, timeout=timeout)


def echo_round_trips(client: TerminalClient, session_id: str, count: int = 30) -> list[float]:
    """Seconds from sending one character to seeing it echoed, `count` times (a shell at its prompt)."""
    times = []
    for i in range(count):
        char = "abcdefghijklmnopqrstuvwxyz"[i % 26]
        before = len(client.streams.get(session_id, b""))
        started = time.monotonic()
        client.send(session_id, char)
        deadline = started + 5
        while time.monotonic() < deadline:
            stream = client.streams.get(session_id, b"")
            if char.encode() in stream[before:]:
                break
            time.sleep(0.0005)
        else:
            raise AssertionError(f"echo of {char!r} not seen within 5 s")
        times.append(time.monotonic() - started)
    client.send(session_id, "\x15")  # ^U: clear the typed line
    return times


def p50(values: list[float]) -> float:
    return statistics.median(values)
