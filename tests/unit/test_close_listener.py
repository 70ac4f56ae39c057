"""A stopping web process answers the connections the kernel had already accepted for it."""

from __future__ import annotations

from gevent import pywsgi, socket

from aict.runtime.server import close_listener


def _app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"answered"]


def test_connections_waiting_in_the_backlog_are_answered_not_reset():
    server = pywsgi.WSGIServer(("127.0.0.1", 0), _app, log=None)
    server.start()
    server.stop_accepting()  # as under load: connections wait in the kernel's backlog, not yet accepted
    waiting = []
    for _ in range(5):
        client = socket.create_connection(("127.0.0.1", server.server_port), timeout=5)
        client.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: aict\r\nContent-Length: 0\r\n\r\n")
        waiting.append(client)
    close_listener(server)
    for client in waiting:  # a plain close() resets them: nginx would answer 502 for a POST
        assert client.recv(4096).startswith(b"HTTP/1.1 200 OK")
        client.close()
    assert server.closed
    close_listener(server)  # a second signal's stop: nothing to do, nothing raised
    refused = socket.socket()
    assert refused.connect_ex(("127.0.0.1", server.server_port)) != 0  # and nothing new gets in
    refused.close()
