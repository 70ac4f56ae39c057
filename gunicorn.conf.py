"""gunicorn -c gunicorn.conf.py wsgi:app

One worker: live sessions belong to the process that runs them. Scale out with more
machines behind a sticky load balancer (and Redis for shared rate limits).
"""

import os

bind = f"{os.environ.get('AICT_HOST', '127.0.0.1')}:{os.environ.get('AICT_PORT', '8080')}"
workers = 1
worker_class = "aict.realtime.transport.websocket_handler.GunicornWorker"
timeout = 60
graceful_timeout = 10
keepalive = 30


def post_worker_init(worker):
    from aict.runtime.server import start_background_work

    start_background_work(worker.wsgi)


def worker_exit(server, worker):
    """The worker's terminals end with it: record their ends (and audit them) before it goes."""
    state = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("aict")
    if state is not None and state.sessions is not None:
        state.sessions.end_all()
