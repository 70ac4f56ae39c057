"""Flask-SocketIO serving aict's socketio.Server subclass instead of the plain one it builds.

Flask-SocketIO takes no server class: init_app() builds socketio.Server from its options and wraps
it in its WSGI middleware. This builds the subclass from those same options, moves any handlers
registered so far onto it, and points Flask-SocketIO and its middleware at it, before the first
connection (a server instance's class is never swapped under it).
"""

from __future__ import annotations

import socketio
from flask import Flask

from aict.realtime.transport.versions import problem

PACKAGE = "Flask-SocketIO"


def serve_with(app: Flask, server_class: type[socketio.Server], **options) -> socketio.Server:
    """Serve the app's sockets with a new `server_class` built as Flask-SocketIO built its server
    (with `options` added to or replacing the ones it was given)."""
    extension = app.extensions["socketio"]
    built = extension.server
    server = server_class(**{**extension.server_options, **options})
    for namespace, handlers in built.handlers.items():
        server.handlers.setdefault(namespace, {}).update(handlers)
    server.namespace_handlers.update(built.namespace_handlers)
    extension.server = server
    extension.sockio_mw.engineio_app = server
    return server


def shape_problems(app: Flask) -> list[str]:
    """What serve_with() reads and replaces in Flask-SocketIO (after its init_app), where it differs."""
    extension = app.extensions.get("socketio")
    server = getattr(extension, "server", None)
    middleware = getattr(extension, "sockio_mw", None)
    if not isinstance(server, socketio.Server):
        return [problem(PACKAGE, "app.extensions['socketio'].server is not a socketio.Server")]
    if not isinstance(getattr(extension, "server_options", None), dict):
        return [problem(PACKAGE, "SocketIO.server_options (the options of init_app) is not a dict")]
    if getattr(middleware, "engineio_app", None) is not server:
        return [problem(PACKAGE, "SocketIO.sockio_mw.engineio_app is not the server it serves")]
    return []
