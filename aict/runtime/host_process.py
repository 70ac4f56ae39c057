"""The terminal host process (`python host.py`): this node's terminals, in the foreground.

It owns every live terminal of the node; web processes (`python wsgi.py`, gunicorn) connect to its
Unix socket (AICT_TERMINAL_HOST). Restarting web processes leaves its terminals running. SIGTERM
or SIGINT ends its terminals (recorded as ended) and stops it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

import gevent
from flask import Flask
from gevent.event import Event

from aict.host.handoff import HANDLED_SIGNALS
from aict.runtime.allocator import release_large_blocks
from aict.runtime.server import start_host_work

log = logging.getLogger("aict.host")
PARENT_CHECK_SECONDS = 0.5


def main(app: Flask, host, argv: list[str] | None = None) -> None:
    """Serve `host` (an aict.host.service.HostService of `app`) until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python host.py", description="Run the terminal host in the foreground.")
    parser.add_argument("--parent", type=int, default=None,
                        help="stop (ending the terminals) when this process is gone: the web process of `make run`")
    parser.add_argument("--resume", default=None, help=argparse.SUPPRESS)  # set by the host's own re-exec
    args = parser.parse_args(argv)
    release_large_blocks()
    kept = tuple(host.resume(args.resume)) if args.resume else ()
    state = app.extensions["aict"]
    stopped = Event()
    stopping = []  # Ctrl+C on make run sends SIGINT here and the web process SIGTERM: one stop
    reloading = []

    def stop(*_):
        if reloading:  # mid-reload: the new image stops, once it has taken the terminals over
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
            os.kill(os.getpid(), signal.SIGTERM)  # pending, across the exec
            return
        if stopping:
            return
        stopping.append(True)
        log.info("terminal host stopping: ending its terminals")
        host.close()
        state.sessions.end_all()  # recorded as ended, with their audit events, before the process goes
        state.sessions.history.flush(final=True)
        if state.audit_checkpoints is not None:
            state.audit_checkpoints()
        stopped.set()

    def reload(*_):
        if stopping or reloading:  # a second SIGHUP during a reload: the new image takes it
            return
        reloading.append(True)
        log.info("terminal host reloading (SIGHUP): re-executing, local terminals kept")
        again = [os.path.abspath(sys.argv[0])] + (["--parent", str(args.parent)] if args.parent else [])
        host.hand_over(again)

    gevent.signal_handler(signal.SIGINT, stop)
    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGHUP, reload)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED_SIGNALS)  # blocked by the image before this one
    start_host_work(app, host.sweep, kept)
    if app.config["AICT"].REDIS_URL:
        from aict.runtime.periodic import every

        every(max(1.0, app.config["AICT"].NODE_LEASE_SECONDS / 3), host.end_lost_nodes, "ending lost nodes' terminals")
    host.listen()
    print(f"aict terminal host of node {host.node} on {app.config['AICT'].terminal_host_socket}", flush=True)
    if args.parent:
        gevent.spawn(_stop_when_orphaned, args.parent, stop)
    stopped.wait()


def _stop_when_orphaned(parent: int, stop) -> None:
    while os.getppid() == parent:
        gevent.sleep(PARENT_CHECK_SECONDS)
    log.info("the web process that started this host (pid %s) is gone", parent)
    stop()
