"""aict: a self-hosted web terminal and SSH bastion."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from aict.config import ROOT, flask_config, load_settings
from aict.extensions import db, jwt, limiter, migrate, socketio
from aict.runtime import sqlite_wal


@dataclass
class AictState:
    """Everything the app owns at run time (no module-level state), as app.extensions["aict"]."""

    settings: dict
    sessions: object = None
    terminals: object = None
    connections: object = None
    login_throttle: object = None
    socket_rate: object = None
    extra: dict = field(default_factory=dict)


def _warnings_only(name: str) -> logging.Logger:
    # Given a Logger (not False), python-socketio and engineio add no handler of their own, so their
    # errors print once, through the root handler; below WARNING they log every packet.
    logger = logging.getLogger(name)
    logger.setLevel(logging.WARNING)
    return logger


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application from defaults, the config file, AICT_* variables and `overrides`."""
    settings = load_settings(overrides)
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=settings["INSTANCE_DIR"])
    app.config.update(flask_config(settings))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", sqlite_wal.pragmas)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    jwt.init_app(app)
    limiter.init_app(app)
    socketio.init_app(app, async_mode="gevent", cors_allowed_origins="*",  # Origin: realtime/connect.py
                      manage_session=False,  # no cookie sessions: tokens authenticate sockets
                      max_http_buffer_size=settings["MAX_MESSAGE_BYTES"], ping_interval=20,
                      ping_timeout=20, logger=_warnings_only("socketio.server"),
                      engineio_logger=_warnings_only("engineio.server"))
    if settings["TRUSTED_PROXIES"]:
        # Outside Socket.IO's middleware, so sockets (Origin check, client IP) see the forwarded values too.
        hops = settings["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    from aict.auth.throttle import LoginThrottle
    from aict.services.sessions import SessionService

    state = AictState(settings=settings)
    app.extensions["aict"] = state
    state.sessions = SessionService(app)
    state.terminals = state.sessions.terminals
    state.login_throttle = LoginThrottle(settings)

    from aict import api, cli, realtime, security, web

    api.register(app)
    realtime.register(app)
    security.register(app)
    cli.register(app)
    app.register_blueprint(web.bp)
    return app
