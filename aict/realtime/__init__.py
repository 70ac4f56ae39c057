"""Socket.IO: connect auth and Origin check, one handler per contract event."""

import gevent
from engineio.payload import Payload
from flask import Flask

from aict import protocol

MAX_POLLING_PACKETS = 4096


def register(app: Flask) -> None:
    from aict.auth.origins import origin_allowed_at
    from aict.realtime import authenticate, connect, handlers, transport, workspace_watch  # noqa: F401  (importing registers the handlers)
    from aict.realtime.connections import ConnectionRegistry, disconnect_quietly
    from aict.realtime.guard import SocketThrottle
    from aict.realtime.transport import cors
    from aict.realtime.transport.websocket_handler import NoDelayWebSocketHandler
    from aict.realtime.watchers import TerminalWatchers

    state = app.extensions["aict"]
    # A long-polling client sends what it gathered while a request was out as one body: engineio
    # refuses a body of more than 16 packets (500, every event in it lost), which a burst of
    # keystrokes, acks or a split paste passes. The body stays bounded by MAX_MESSAGE_BYTES.
    Payload.max_decode_packets = MAX_POLLING_PACKETS
    state.connections = ConnectionRegistry(app, state.message_queue)
    state.watchers = TerminalWatchers(state.terminals)
    state.terminals.on_event = state.watchers.pass_on  # terminal-process, -viewers, -command from the hosts
    state.workspace_watchers = workspace_watch.WorkspaceWatchers(state.terminals)
    state.websocket_handler = NoDelayWebSocketHandler
    state.socket_rate = SocketThrottle(state.settings.SOCKET_EVENT_RATE)
    # The terminal host restarted: its sockets' attachments are gone with the link. Disconnected, the
    # pages reconnect by themselves and re-attach from the offsets they have (nothing is lost).
    state.terminals.on_link_lost = lambda sids: gevent.spawn(disconnect_quietly, sids)
    # The two per-keystroke / per-chunk events are answered without Flask's request context
    # (with FAST_PATHS, in the greenlet that read them: aict/realtime/transport/).
    server = transport.install(
        app, throttle=state.socket_rate.exceeded,  # events that name nothing count against the rate too
        bare_events={protocol.TERMINAL_ACK: handlers.ack_handler(state.terminals)},
        shortcuts={protocol.TERMINAL_INPUT: handlers.input_fast_path(state.terminals, state.socket_rate,
                                                              state.settings.MAX_INPUT_BYTES)})
    settings = state.settings
    cors.limit_to(server.eio, lambda origin, environ: origin_allowed_at(
        origin, environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST", ""), settings.ALLOWED_ORIGINS))
