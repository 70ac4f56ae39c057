"""Serving: gevent's WSGI server (with the WebSocket handler the realtime edge gives the app), and
the background work a serving process runs."""

from __future__ import annotations

import gc
import logging
import signal

import gevent
from flask import Flask
from gevent import pywsgi

log = logging.getLogger(__name__)


def main(app: Flask, argv: list[str]) -> None:
    """`python wsgi.py [--setup]`: --setup migrates the database and creates the first admin first."""
    import argparse

    parser = argparse.ArgumentParser(prog="wsgi.py", description="Serve aict in the foreground.")
    parser.add_argument("--setup", action="store_true",
                        help="apply database migrations and create the first admin before serving")
    args = parser.parse_args(argv)
    if args.setup:
        from flask_migrate import upgrade

        from aict.services.users import ensure_first_admin, first_admin_message

        with app.app_context():
            upgrade()
            print(first_admin_message(ensure_first_admin(app.config["AICT"])), flush=True)
    serve(app)


def settle_garbage_collector() -> None:
    """Keep the objects of start-up (the app, its libraries) out of every later collection.

    A full collection walks every tracked object while the whole event loop waits; freezing
    what exists at start-up takes the several hundred thousand objects of Flask, SQLAlchemy and
    friends out of that walk, and a larger first threshold makes young collections rarer.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(7000, 20, 20)


def start_background_work(app: Flask) -> None:
    """What a serving process runs besides requests (the dev server and the gunicorn worker alike)."""
    from aict.db_pool import CHECK_SECONDS, HoldWatch
    from aict.extensions import db
    from aict.recordings.recorder import FLUSH_SECONDS
    from aict.runtime.loop_lag import LoopLag
    from aict.runtime.periodic import every
    from aict.runtime.sqlite_wal import checkpointer_for
    from aict.services.audit_log import Checkpointer
    from aict.terminals.manager import SWEEP_SECONDS

    state = app.extensions["aict"]
    state.loop_lag = LoopLag().start()
    state.sessions.mark_orphans_exited()
    every(SWEEP_SECONDS, state.terminals.sweep, "terminal sweep")
    every(FLUSH_SECONDS, state.sessions.recordings.flush, "storing recordings")
    state.audit_checkpoints = Checkpointer(app)
    every(state.settings.AUDIT_CHECKPOINT_SECONDS, state.audit_checkpoints, "checkpointing the audit chain")
    every(state.connections.SWEEP_SECONDS, state.connections.sweep, "ending sockets whose token ended")
    every(HOUSEKEEPING_SECONDS, lambda: forget_ended_logins_and_devices(app), "forgetting ended logins")
    with app.app_context():
        checkpointer = checkpointer_for(db.engine)
        state.db_holds = watch = HoldWatch(db.engine, state.settings.DB_HOLD_WARN_SECONDS)
    every(CHECK_SECONDS, watch.check, "watching database connection holds")
    if checkpointer is not None:
        checkpointer.start()
    settle_garbage_collector()


HOUSEKEEPING_SECONDS = 3600


def forget_ended_logins_and_devices(app: Flask) -> None:
    from aict.auth.devices import forget_stale_devices
    from aict.auth.tokens import forget_ended_logins

    with app.app_context():
        forget_ended_logins()
        forget_stale_devices()


def serve(app: Flask, host: str | None = None, port: int | None = None) -> None:
    """Serve in the foreground until SIGINT/SIGTERM; ends running sessions on the way out."""
    settings = app.config["AICT"]
    host = host or settings.HOST
    port = int(port or settings.PORT)
    state = app.extensions["aict"]
    start_background_work(app)
    server = pywsgi.WSGIServer((host, port), app, handler_class=state.websocket_handler, log=None,
                               error_log=logging.getLogger("aict.http"))

    def stop(*_):
        log.info("shutting down")
        state.sessions.end_all()  # recorded as ended, with their audit events, before the process goes
        state.audit_checkpoints()  # the chain's head as it stops, so that nothing after it can be cut off unseen
        server.stop(timeout=2)

    gevent.signal_handler(signal.SIGINT, stop)  # each runs in a greenlet of its own: it may wait
    gevent.signal_handler(signal.SIGTERM, stop)
    server.init_socket()
    log.info("aict listening on http://%s:%s", host, server.server_port)
    print(f"aict is running on http://{host}:{server.server_port}  (Ctrl+C to stop)", flush=True)
    server.serve_forever()
