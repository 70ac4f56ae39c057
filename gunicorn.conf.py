"""gunicorn -c gunicorn.conf.py wsgi:app

Terminals live in the node's terminal host (`python host.py`), not in the workers: the master
starts one as its child unless AICT_HOST_CHILD=0 or one already answers on its socket. A worker
restarting leaves every terminal running; pages reconnect by themselves.
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


_host_child = None


def on_starting(server):
    global _host_child
    from aict.config import flask_config, load_settings
    from aict.runtime.server import start_host_child

    settings = flask_config(load_settings())["AICT"]
    if settings.HOST_CHILD:
        _host_child = start_host_child(settings)


def on_exit(server):
    from aict.runtime.server import stop_host_child

    if _host_child is not None:
        stop_host_child(_host_child)
