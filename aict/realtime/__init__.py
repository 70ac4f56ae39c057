"""Socket.IO: connect auth and Origin check, one handler per contract event."""

from flask import Flask


def register(app: Flask) -> None:
    from aict.extensions import socketio
    from aict.realtime import connect, handlers  # noqa: F401  (importing registers the handlers)
    from aict.realtime.connections import ConnectionRegistry
    from aict.realtime.guard import SocketThrottle, with_fast_path
    from aict.realtime.transport import direct_output as direct
    from aict.realtime.transport.inline_events import InlineEventsServer, install_message_shortcut
    from aict.realtime.viewer import notify_forced_detach

    state = app.extensions["aict"]
    state.connections = ConnectionRegistry()
    state.sessions.on_forced_detach = notify_forced_detach
    state.socket_rate = SocketThrottle(state.settings["SOCKET_EVENT_RATE"])
    # The two per-keystroke / per-chunk events are answered inline, without Flask's request context.
    direct.install()  # terminal-output written straight to the WebSocket when nothing is queued
    install_message_shortcut()  # and client messages handed to Socket.IO without engineio's Packet
    server = InlineEventsServer.adopt(socketio.server)
    server.inline_handlers["terminal-ack"] = handlers.ack_handler(state.sessions)
    server.throttle = state.socket_rate.exceeded  # events that name nothing count against the rate too
    with_fast_path(app, "terminal-input",
                   handlers.input_fast_path(state.sessions, state.socket_rate, state.settings["MAX_INPUT_BYTES"]))
