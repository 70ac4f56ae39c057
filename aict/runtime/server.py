"""Serving: gevent's WSGI server (with the WebSocket handler the realtime edge gives the app), and
the background work a serving process runs."""

from __future__ import annotations

import errno
import gc
import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import gevent
from flask import Flask
from gevent import pywsgi
from gevent.pool import Pool

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


def _start_common_work(app: Flask) -> None:
    """What every serving process runs: loop-lag and database-hold watches, the SQLite checkpointer."""
    from aict.db_pool import CHECK_SECONDS, HoldWatch
    from aict.extensions import db
    from aict.runtime.loop_lag import LoopLag
    from aict.runtime.periodic import every
    from aict.runtime.redis_guard import check_redis
    from aict.runtime.sqlite_wal import checkpointer_for

    state = app.extensions["aict"]
    check_redis(state.settings)  # first: production serves nothing with a Redis open to every account
    state.loop_lag = LoopLag().start()
    with app.app_context():
        checkpointer = checkpointer_for(db.engine)
        state.db_holds = watch = HoldWatch(db.engine, state.settings.DB_HOLD_WARN_SECONDS)
    every(CHECK_SECONDS, watch.check, "watching database connection holds")
    if checkpointer is not None:
        checkpointer.start()


def start_background_work(app: Flask) -> None:
    """What a web process runs besides requests (the dev server and the gunicorn worker alike)."""
    from aict.runtime.periodic import every

    state = app.extensions["aict"]
    _start_common_work(app)
    state.terminals.start()  # the link to the terminal host
    every(state.connections.SWEEP_SECONDS, state.connections.sweep, "ending sockets whose token ended")
    every(HOUSEKEEPING_SECONDS, lambda: forget_ended_logins_and_devices(app), "forgetting ended logins")
    settle_garbage_collector()


def start_host_work(app: Flask, sweep, kept: tuple[str, ...] = ()) -> None:
    """What the terminal host runs besides its terminals: their sweep, recordings and their purge, audit
    checkpoints."""
    from aict.recordings.recorder import FLUSH_SECONDS
    from aict.runtime.periodic import every
    from aict.services.audit_log import Checkpointer
    from aict.services.command_history import FLUSH_SECONDS as HISTORY_SECONDS
    from aict.services.recording_retention import ScheduledPurge
    from aict.terminals.manager import SWEEP_SECONDS

    state = app.extensions["aict"]
    _start_common_work(app)
    state.sessions.mark_orphans_exited(kept)
    every(SWEEP_SECONDS, sweep, "terminal sweep")
    every(FLUSH_SECONDS, state.sessions.recordings.flush, "storing recordings")
    every(HISTORY_SECONDS, state.sessions.history.flush, "storing command history")
    # The first purge a minute after the start: a host restarted more often than daily still purges.
    every(state.settings.RECORDING_PURGE_SECONDS, ScheduledPurge(app), "purging old recordings",
          first=min(60, state.settings.RECORDING_PURGE_SECONDS))
    state.audit_checkpoints = Checkpointer(app)
    every(state.settings.AUDIT_CHECKPOINT_SECONDS, state.audit_checkpoints, "checkpointing the audit chain")
    settle_garbage_collector()


HOUSEKEEPING_SECONDS = 3600
DRAIN_SECONDS = 8  # a stopping web process waits this long for its requests in flight (a login under load)
HOST_START_SECONDS = 60  # a web process waits this long for its terminal host before it serves


def forget_ended_logins_and_devices(app: Flask) -> None:
    from aict.auth.devices import forget_stale_devices
    from aict.auth.tokens import forget_ended_logins

    with app.app_context():
        forget_ended_logins()
        forget_stale_devices()


def start_host_child(settings, quiet: bool = False) -> subprocess.Popen | None:
    """Start this node's terminal host as a child (make run), unless one already answers on its socket
    (then terminals outlive this web process: restarting it keeps them)."""
    path = settings.terminal_host_socket
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        if not quiet:
            log.info("using the terminal host already running on %s", path)
        return None
    except OSError:
        pass
    finally:
        probe.close()
    root = Path(__file__).resolve().parent.parent.parent
    return subprocess.Popen([sys.executable, str(root / "host.py"), "--parent", str(os.getpid())], cwd=root)


def stop_host_child(host: subprocess.Popen, timeout: float = 15) -> None:
    if host.poll() is None:
        host.terminate()
        try:
            host.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the terminal host did not stop within %ss; killing it", timeout)
            host.kill()


def _warn_unless_host_answers(terminals, path: str) -> None:
    if not terminals.wait_ready(HOST_START_SECONDS):
        log.warning("the terminal host at %s does not answer yet; terminals wait for it", path)


class HostChildren:
    """make run's terminal host: started as a child unless one answers on the socket, and started
    again if it dies (or the host it found goes away), so that the web process is never left
    without one. Off with HOST_CHILD=0 (make cluster, systemd: the host is run on its own)."""

    WATCH_SECONDS = 1.0

    def __init__(self, settings):
        self.settings = settings
        self.child: subprocess.Popen | None = None
        self._watch = None
        if settings.HOST_CHILD:
            self.child = start_host_child(settings)
            self._watch = gevent.spawn(self._watch_loop)

    def _watch_loop(self) -> None:
        while True:
            gevent.sleep(self.WATCH_SECONDS)
            if self.child is not None and self.child.poll() is None:
                continue
            started = start_host_child(self.settings, quiet=True)  # None while another host answers
            if started is not None:
                log.warning("the terminal host was gone: started a new one (pid %s)", started.pid)
                self.child = started

    def stop_watching(self) -> None:
        """On the way out: a host that stops now (Ctrl+C reaches it too) is not started again."""
        if self._watch is not None:
            self._watch.kill()
            self._watch = None

    def stop(self) -> None:
        self.stop_watching()
        if self.child is not None:
            stop_host_child(self.child)


def close_listener(server: pywsgi.WSGIServer) -> None:
    """Stop listening without dropping a connection the kernel has already accepted.

    Closed with connections waiting in its backlog, a listening socket resets them: nginx has sent its
    request on such a connection, may not retry a POST elsewhere, and answers 502 (a login during a
    rolling restart did). So: stop the accept loop, take what is waiting, then close. Only a
    connection completed in the few microseconds between the last accept and the close is still lost."""
    if server.closed:  # SIGINT and SIGTERM may both come (Ctrl+C in make run reaches the whole group)
        return
    server.stop_accepting()
    try:
        while True:
            accepted = server.do_read()  # None once nothing waits (the listener does not block)
            if not accepted:
                break
            server.do_handle(*accepted)
    except OSError:
        log.debug("taking the waiting connections failed", exc_info=True)
    server.close()


def serve(app: Flask, host: str | None = None, port: int | None = None) -> None:
    """Serve in the foreground until SIGINT/SIGTERM; ends running sessions on the way out."""
    settings = app.config["AICT"]
    host = host or settings.HOST
    port = int(port or settings.PORT)
    state = app.extensions["aict"]
    # A pool, so that stopping waits for the requests in flight (a login behind nginx during a rolling
    # restart is answered, not cut off); sockets still open after DRAIN_SECONDS are closed.
    server = pywsgi.WSGIServer((host, port), app, handler_class=state.websocket_handler, log=None,
                               error_log=logging.getLogger("aict.http"), spawn=Pool())
    server.stop_timeout = DRAIN_SECONDS
    try:  # first: a port in use is said in a sentence, before anything else has started
        server.init_socket()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(f"aict cannot listen on {host}:{port}: another program uses that port. Stop it, or choose "
              f"another port, e.g. `AICT_PORT={port + 10} make run` (or AICT_HOST/AICT_PORT in the settings).",
              file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    children = HostChildren(settings)
    start_background_work(app)
    # Serve at once: the host starts meanwhile (a second or two), and a request that needs a terminal
    # before it answers waits for it (aict.host.client: up to HOST_WAIT_SECONDS).
    gevent.spawn(_warn_unless_host_answers, state.terminals, settings.terminal_host_socket)

    def stop(*_):
        log.info("shutting down")
        children.stop_watching()
        close_listener(server)  # no new connections (behind nginx, another web process takes them); serve_forever
        # drains the requests in flight; connections idle between two requests are closed now (they
        # would hold it for DRAIN_SECONDS). Sockets never finish by themselves: closed now, their pages
        # reconnect (to another web process) at once instead of after DRAIN_SECONDS.
        close_kept_alive = getattr(state.websocket_handler, "close_kept_alive", None)
        if close_kept_alive is not None:
            try:
                close_kept_alive()
            except Exception:
                log.exception("closing the idle connections failed")
        socketio = app.extensions.get("socketio")
        if socketio is not None and socketio.server is not None:
            try:
                socketio.server.eio.disconnect()
            except Exception:
                log.exception("closing the sockets failed")

    gevent.signal_handler(signal.SIGINT, stop)  # each runs in a greenlet of its own: it may wait
    gevent.signal_handler(signal.SIGTERM, stop)
    log.info("aict listening on http://%s:%s", host, server.server_port)
    if settings.TRUSTED_PROXIES:  # behind nginx (make cluster, a deployment): people open the proxy's address
        print(f"aict web process on http://{host}:{server.server_port}, behind a proxy: open the proxy's address",
              flush=True)
    else:
        print(f"aict is running on http://{host}:{server.server_port}  (Ctrl+C to stop)", flush=True)
    server.serve_forever()  # returns once the requests in flight are answered (or DRAIN_SECONDS)
    state.terminals.stop()
    children.stop()  # make run's own host ends its terminals, recorded as ended
