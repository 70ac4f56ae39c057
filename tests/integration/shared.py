"""Two web processes sharing one database, one set of secrets and one Redis (REDIS_URL), as
several processes behind a proxy run: each pair gets its own Redis key prefix, removed after."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.server import RunningServer

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_client():
    """A client of the real Redis (127.0.0.1:6379) the suite runs against."""
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", 6379)) != 0:
            pytest.fail("no Redis on 127.0.0.1:6379: the suite runs against the real service")
    import redis

    return redis.Redis.from_url(REDIS_URL)


def own_redis_prefix():
    """A Redis key prefix of a test's own (AICT_REDIS_PREFIX); its keys are deleted afterwards."""
    prefix = f"aict-test-{secrets.token_hex(6)}"
    yield prefix
    client = redis_client()
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)
    client.close()


def start_pair(start_server, folder: Path, prefix: str, settings: dict[str, str] | None = None
               ) -> tuple[RunningServer, RunningServer]:
    """Two servers on one SQLite database with the same secrets and Redis: a deployment's web
    processes. The first creates the admin; the second knows their password."""
    redis_client().close()  # fails the test clearly when Redis is not there
    shared = {"AICT_DATABASE_URL": f"sqlite:///{folder / 'shared.db'}",
              "AICT_SECRET_KEY": secrets.token_urlsafe(48), "AICT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
              "AICT_REDIS_URL": REDIS_URL, "AICT_REDIS_PREFIX": prefix,
              "AICT_LOGIN_RATE": "10000 per minute", **(settings or {})}
    first = start_server(shared)
    second = start_server(shared)
    second.admin_password = first.admin_password
    return first, second
