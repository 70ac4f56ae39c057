"""Every patch aict makes to its transport libraries, checked before any is installed.

Socket.IO's Python stack spends more of a keystroke's time in its own plumbing than the terminal
does; the fast paths take the hot events past it. Each reaches into a library's internals, so
install() first checks the installed versions against those the patches were written for and the
shape of everything they replace, and refuses to start when anything differs. FAST_PATHS = False
(AICT_FAST_PATHS=0) runs the libraries' own code instead: the same socket contract (`make test`
runs it on both paths), slower, and no version check.

Fast paths (FAST_PATHS):
  engineio_hooks     engineio's Socket: its WebSocket and writer state exposed; client messages
                     handed to Socket.IO without engineio's Packet
  direct_output      small terminal-output and answers written straight to the WebSocket when
                     nothing is queued before them
  inline_events      keystrokes and acks answered in the greenlet that read them; a keystroke's
                     answer rides behind its echo
  output_packet      terminal-output's Socket.IO packet encoded by hand
  output_budget      bulk output a socket holds in engineio's queue bounded by one window
The contract, on both paths (docs/api.md asks for it; the libraries alone do not give it):
  contract_events    events naming nothing this server handles, unparseable packets and binary
                     events with other than one attachment answered bad_request (JSON nested past
                     the parser's limit too: DepthSafeJson); a connection
                     that has not logged in is read no further than its login, and closed after
                     a few messages
  log_budget         lines about bad client input held to a handful a minute
  websocket_frames   client frames refused past MAX_MESSAGE_BYTES from their headers (1009),
                     unmasked and decoded at C speed (1007), sent whole
  server_class       Flask-SocketIO serving aict's socketio.Server subclass
  cors               long-polling CORS headers only for origins the server accepts
  polling_limits     long-polling bodies past the limits refused, the connection closed (not left hanging)
  message_queue      with REDIS_URL: the Redis message queue, emits to this process's own sockets
                     kept off it, aict's notices (logouts, memberships) carried on it
Checks: versions (KNOWN_GOOD: the one list of versions the patches were written for);
paramiko_channels (aict/ssh/connect.py's BastionTransport, which stays with the SSH code).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from engineio.payload import Payload
from flask import Flask

from aict.realtime.transport import (
    contract_events,
    engineio_hooks,
    inline_events,
    log_budget,
    message_queue,
    output_packet,
    paramiko_channels,
    server_class,
    versions,
    websocket_frames,
)
from aict.realtime.transport.contract_events import ContractServer
from aict.realtime.transport.inline_events import InlineEventsServer
from aict.realtime.transport.polling_limits import PollingLimits

BareHandler = Callable[[str, object], object]  # (sid, payload) -> the ack's data


class TransportMismatch(RuntimeError):
    """The installed libraries are not those the transport's patches were written for."""


def check(app: Flask, fast_paths: bool) -> None:
    """Raise TransportMismatch, saying what differs and what to do, unless everything that will be
    installed fits the installed libraries. Versions are checked only for the fast paths."""
    contract = _shape_problems(contract_events.shape_problems, websocket_frames.shape_problems,
                               functools.partial(server_class.shape_problems, app),
                               paramiko_channels.shape_problems,
                               *([message_queue.shape_problems] if _queued(app) else []))
    if contract and not fast_paths:
        raise TransportMismatch(_message(contract, "These parts enforce the socket contract (docs/api.md) and "
                                                   "run with FAST_PATHS off too: install the versions in "
                                                   "requirements.txt."))
    if not fast_paths:
        return
    problems = versions.version_problems() or contract + _shape_problems(
        engineio_hooks.shape_problems, inline_events.shape_problems, output_packet.shape_problems)
    if problems:
        raise TransportMismatch(_message(problems, (
            f"Install the versions in requirements.txt, or turn the fast paths off ({versions.SWITCH}) to run "
            "the libraries' own transport: the same socket contract, slower. Once the patches are checked "
            "against a new version, add it to KNOWN_GOOD in aict/realtime/transport/versions.py.")))


def _queued(app: Flask) -> bool:
    """Whether the app's sockets go through aict's Redis message queue (REDIS_URL)."""
    options = getattr(app.extensions.get("socketio"), "server_options", None) or {}
    return isinstance(options.get("client_manager"), message_queue.RedisQueue)


def _shape_problems(*checks: Callable[[], list[str]]) -> list[str]:
    found: list[str] = []
    for shape_problems in checks:
        try:
            found += shape_problems()
        except Exception as error:  # a library changed enough that probing it failed: that is the answer
            module = getattr(shape_problems, "func", shape_problems).__module__
            found.append(f"checking {module} failed: {error!r}")
    return found


def _message(problems: list[str], advice: str) -> str:
    lines = "\n".join(f"  - {line}" for line in problems)
    return f"aict's transport patches do not fit the installed libraries:\n{lines}\n{advice}"


def install(app: Flask, *, throttle: Callable[[str], bool], bare_events: dict[str, BareHandler],
            shortcuts: dict[str, Callable[[str, object], object]]) -> ContractServer:
    """Check, then serve the app's sockets with the contract's server (with FAST_PATHS, its fast
    subclass and the engineio hooks). `throttle(sid)`: over the socket's event rate (refused events
    count). `bare_events`: events answered by handler(sid, payload) with no Flask request context.
    `shortcuts`: handler(sid, payload) answering the common case of an event registered with
    Flask-SocketIO, or None to let that handler answer; used on the fast path only."""
    fast_paths = bool(app.config["AICT"].FAST_PATHS)
    check(app, fast_paths)
    for library_logger in ("socketio.server", "engineio.server"):  # both warn about many kinds of bad message
        log_budget.guard_logger(library_logger)
    server = server_class.serve_with(app, InlineEventsServer if fast_paths else ContractServer,
                                     json=contract_events.DepthSafeJson)
    server.throttle = throttle
    app.wsgi_app = PollingLimits(app.wsgi_app, server.eio, app.config["AICT"].MAX_MESSAGE_BYTES,
                                 Payload.max_decode_packets)
    if fast_paths:
        server.output_budget = app.config["AICT"].FLOW_WINDOW_BYTES
        engineio_hooks.install()
        server.inline_handlers.update(bare_events)
        server.inline_handlers.update(shortcuts)
    else:
        for name, handler in bare_events.items():
            server.on(name, _bare(handler), namespace="/")
    return server


def _bare(handler: BareHandler):
    def on_event(sid, payload=None, *_extra):
        return handler(sid, payload)

    return on_event
