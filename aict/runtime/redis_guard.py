"""Redis must ask for a password. Whoever can talk to aict's Redis reads what crosses web processes
and nodes (terminal output among it) and can talk to the terminal hosts, as a web process does:
start a terminal in any workspace, type into any terminal. On the machine of a terminal host that
includes every local shell, whatever account it runs as: Redis listens on 127.0.0.1 for all of them.
So a serving process checks, at its start, whether its Redis answers a client that gives no
password; production refuses to start, anything else says so in its log."""

from __future__ import annotations

import logging
import os
import socket
import stat

from redis.connection import parse_url

log = logging.getLogger(__name__)


class OpenRedis(SystemExit):
    """Production refuses to serve with a Redis that answers anyone."""


def redis_ping(host: str, port: int) -> str | None:
    """The first line a Redis at host:port answers to PING ('+PONG', '-NOAUTH ...'), or None."""
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(256).split(b"\r\n")[0].decode(errors="replace")
    except OSError:
        return None


def _unix_ping(path: str) -> str | None:
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(1)
            s.connect(path)
            s.sendall(b"PING\r\n")
            return s.recv(256).split(b"\r\n")[0].decode(errors="replace")
    except OSError:
        return None


def open_redis_problem(url: str) -> str | None:
    """What is wrong with the Redis at `url` being open to every account of this machine, or None:
    it asks for a password, only some accounts may reach it (a Unix socket no other may open), or it
    cannot be reached now (a later connection error says so)."""
    try:
        where = parse_url(url)
    except ValueError:
        return None  # redis-py refuses it on first use, saying why
    if "path" in where:  # a Unix socket: its permissions decide who reaches it
        path = where["path"]
        try:
            others = os.stat(path).st_mode & stat.S_IWOTH
        except OSError:
            return None
        if not others or _unix_ping(path) != "+PONG":
            return None
        shown = f"unix://{path}"
    else:
        host, port = where.get("host", "localhost"), int(where.get("port", 6379))
        if redis_ping(host, port) != "+PONG":
            return None  # NOAUTH: a password is asked for
        shown = f"{host}:{port}"
    return (f"The Redis at {shown} (AICT_REDIS_URL) answers clients that give no password: any account "
            "that can reach it, a workspace's shell included, could read terminals' traffic between processes "
            "and drive the terminal host through it. Give Redis a password (requirepass, or an ACL user) and put "
            "it in AICT_REDIS_URL (redis://:PASSWORD@host:port/0); see the README's deployment, steps 3 and 4.")


def check_redis(settings) -> None:
    """At a serving process's start: refuse (production) or warn about a Redis open to anyone."""
    if not settings.REDIS_URL:
        return
    problem = open_redis_problem(settings.REDIS_URL)
    if problem is None:
        return
    if settings.ENV == "production":
        raise OpenRedis(f"aict refuses to start in production: {problem}")
    log.warning("%s (Production refuses to start so.)", problem)
