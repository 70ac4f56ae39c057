"""aict: a self-hosted web terminal and SSH bastion."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from aict.config import ROOT, Settings, flask_config, load_settings
from aict.extensions import db, jwt, limiter, migrate, socketio
from aict.runtime import file_modes, sqlite_wal
from aict.ssh.host_keys import HostKeyOffers, Offers, SharedHostKeyOffers

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from aict.auth.throttle import LoginThrottle
    from aict.db_pool import HoldWatch
    from aict.host.nodes import NodeRouter
    from aict.host.sessions_client import HostedSessions
    from aict.realtime.connections import ConnectionRegistry
    from aict.realtime.guard import SocketThrottle
    from aict.realtime.transport.message_queue import RedisQueue
    from aict.realtime.workspace_watch import WorkspaceWatchers
    from aict.runtime.loop_lag import LoopLag
    from aict.services.sessions import SessionService
    from aict.terminals.manager import TerminalManager


@dataclass
class AictState:
    """Everything the app owns at run time (no module-level state), as app.extensions["aict"]."""

    settings: Settings
    sessions: SessionService | HostedSessions | None = None  # records, audit and recordings around the terminals
    terminals: TerminalManager | NodeRouter | None = None  # the live terminals (the host's, mirrored in web)
    connections: ConnectionRegistry | None = None  # open sockets (realtime)
    workspace_watchers: WorkspaceWatchers | None = None  # which sockets watch which workspaces (realtime)
    login_throttle: LoginThrottle | None = None
    socket_rate: SocketThrottle | None = None
    websocket_handler: type | None = None  # the gevent-websocket handler to serve with (realtime)
    host_key_offers: Offers = field(default_factory=HostKeyOffers)  # SharedHostKeyOffers with REDIS_URL
    message_queue: RedisQueue | None = None  # Socket.IO's Redis message queue (REDIS_URL), across processes
    audit_lock: threading.RLock = field(default_factory=threading.RLock)  # one audit writer at a time
    metrics: CollectorRegistry | None = None  # /metrics (api.metrics.install)
    loop_lag: LoopLag | None = None  # set in a serving process (runtime.server)
    db_holds: HoldWatch | None = None  # likewise
    audit_checkpoints: Callable[[], None] | None = None  # likewise: appends the chain's head outside the database


def _warnings_only(name: str) -> logging.Logger:
    # Given a Logger (not False), python-socketio and engineio add no handler of their own, so their
    # errors print once, through the root handler; below WARNING they log every packet.
    logger = logging.getLogger(name)
    logger.setLevel(logging.WARNING)
    return logger


def create_app(overrides: dict | None = None, role: str = "web") -> Flask:
    """Build the application from defaults, the config file, AICT_* variables and `overrides`.

    role "web": a web process, whose terminals are the terminal host's (aict.host.client);
    role "host": the terminal host itself (aict.runtime.host_process), which runs them."""
    config = flask_config(load_settings(overrides))
    settings: Settings = config["AICT"]
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=settings.INSTANCE_DIR)
    app.config.update(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_modes.secure_instance_files(Path(settings.INSTANCE_DIR), app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", sqlite_wal.pragmas)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    jwt.init_app(app)
    limiter.init_app(app)
    queue = None
    if settings.REDIS_URL:  # several web processes: what crosses them goes through Redis
        from aict.realtime.transport.message_queue import RedisQueue

        queue = RedisQueue(settings.REDIS_URL, settings.REDIS_PREFIX)
    socketio.init_app(app, client_manager=queue,  # None: this process's sockets only
                      async_mode="gevent", cors_allowed_origins="*",  # Origin: realtime/connect.py
                      manage_session=False,  # no cookie sessions: tokens authenticate sockets
                      max_http_buffer_size=settings.MAX_MESSAGE_BYTES, ping_interval=20,
                      ping_timeout=20, logger=_warnings_only("socketio.server"),
                      engineio_logger=_warnings_only("engineio.server"))
    if settings.TRUSTED_PROXIES:
        # Outside Socket.IO's middleware, so sockets (Origin check, client IP) see the forwarded values too.
        hops = settings.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    from aict.auth.throttle import LoginThrottle

    state = AictState(settings=settings, message_queue=queue)
    if settings.REDIS_URL:
        import redis

        state.host_key_offers = SharedHostKeyOffers(redis.Redis.from_url(settings.REDIS_URL), settings.REDIS_PREFIX)
    app.extensions["aict"] = state
    if role == "host":
        from aict.services.sessions import SessionService

        state.sessions = SessionService(app)
        state.terminals = state.sessions.terminals
    else:
        from aict.host.client import RemoteTerminals
        from aict.host.nodes import NodeRouter
        from aict.host.sessions_client import HostedSessions

        redis_client = None
        if settings.REDIS_URL:  # other nodes' hosts are reached through Redis
            import redis

            redis_client = redis.Redis.from_url(settings.REDIS_URL)
        state.terminals = NodeRouter(RemoteTerminals(settings.terminal_host_socket), settings.node, redis_client,
                                     settings.REDIS_PREFIX)
        state.sessions = HostedSessions(app, state.terminals)
    state.login_throttle = LoginThrottle(settings)

    from aict import api, cli, realtime, security, web

    api.register(app)
    realtime.register(app)
    security.register(app)
    cli.register(app)
    app.register_blueprint(web.bp)
    return app
