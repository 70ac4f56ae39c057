"""gunicorn worker: gevent-websocket's worker with our TCP_NODELAY handler."""

from geventwebsocket.gunicorn.workers import GeventWebSocketWorker

from aict.runtime.server import NoDelayWebSocketHandler


class Worker(GeventWebSocketWorker):
    wsgi_handler = NoDelayWebSocketHandler
