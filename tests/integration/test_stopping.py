"""Stopping a web process (SIGTERM: a deploy, `make cluster-reload`, Ctrl+C): a connection kept alive
between two requests is closed at once. It ends only when its client closes it, and held the stop
for the whole drain (DRAIN_SECONDS) that is meant for requests in flight."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from aict.runtime.server import DRAIN_SECONDS


def test_a_connection_kept_alive_is_closed_as_the_server_stops(start_server):
    running = start_server()
    address = urlsplit(running.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    assert response.status == 200 and not response.will_close  # kept alive for a next request
    running.proc.terminate()
    connection.sock.settimeout(DRAIN_SECONDS - 3)  # closed as the stop begins, not when the drain runs out
    assert connection.sock.recv(1) == b""
    assert running.proc.wait(timeout=DRAIN_SECONDS) == 0
    connection.close()
