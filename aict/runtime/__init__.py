"""Serving: the gevent server and gunicorn worker, and the background jobs a serving process runs."""
