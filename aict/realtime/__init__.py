"""Socket.IO: connect auth and Origin check, one handler per contract event."""

from flask import Flask

from aict import protocol


def register(app: Flask) -> None:
    from aict.realtime import authenticate, connect, handlers, transport  # noqa: F401  (importing registers the handlers)
    from aict.realtime.connections import ConnectionRegistry
    from aict.realtime.guard import SocketThrottle
    from aict.realtime.transport.websocket_handler import NoDelayWebSocketHandler

    state = app.extensions["aict"]
    state.connections = ConnectionRegistry(app)
    state.websocket_handler = NoDelayWebSocketHandler
    state.socket_rate = SocketThrottle(state.settings.SOCKET_EVENT_RATE)
    # The two per-keystroke / per-chunk events are answered without Flask's request context
    # (with FAST_PATHS, in the greenlet that read them: aict/realtime/transport/).
    transport.install(
        app, throttle=state.socket_rate.exceeded,  # events that name nothing count against the rate too
        bare_events={protocol.TERMINAL_ACK: handlers.ack_handler(state.terminals)},
        shortcuts={protocol.TERMINAL_INPUT: handlers.input_fast_path(state.terminals, state.socket_rate,
                                                              state.settings.MAX_INPUT_BYTES)})
