"""The host link between nodes over the real Redis: nothing is published before its listener is
subscribed. A SUBSCRIBE goes out unanswered, and a hello published meanwhile is lost; the web
process then waited 30 s for an answer (CI saw a cross-node attach fail for 15 s)."""

from __future__ import annotations

import pytest
import redis

from aict.host.redis_link import HostSideLinks, WebSideLink, alive_key, host_channel, link_channel
from tests.integration.shared import redis_client


def _subscribers(client, channel: str) -> int:
    return client.pubsub_numsub(channel)[0][1]


def test_a_host_is_listening_by_the_time_it_is_advertised(redis_prefix):
    client = redis_client()
    seen_when_advertised = []
    for name in ("set", "sadd"):  # its lease, and its name in the set of nodes: what web processes look for
        real = getattr(client, name)

        def advertise(*args, real=real, **kwargs):
            seen_when_advertised.append(_subscribers(client, host_channel(redis_prefix, "node-1")))
            return real(*args, **kwargs)

        setattr(client, name, advertise)
    links = HostSideLinks(client, redis_prefix, "node-1", lease_seconds=3, accept=lambda link: None)
    links.start()
    try:
        assert seen_when_advertised == [1, 1]
    finally:
        links.stop()
        client.close()


def test_a_web_process_is_listening_by_the_time_it_can_say_hello(redis_prefix):
    client = redis_client()
    client.set(alive_key(redis_prefix, "node-1"), "epoch")
    link = WebSideLink(client, redis_prefix, "node-1", on_frame=lambda kind, payload: None)
    try:  # the caller sends its hello once the link is made: the host's answer must find a listener
        assert _subscribers(client, link_channel(redis_prefix, link.link_id)) == 1
    finally:
        link.close()  # before this greenlet yields: this process is not gevent's, its listener would block
        client.close()


def test_redis_failing_is_an_error_the_link_retries():
    # The connect loop retries OSError; anything else ended its greenlet, and the node stayed unreachable.
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    with pytest.raises(OSError, match="Redis failed"):
        WebSideLink(unreachable, "aict-test", "node-1", on_frame=lambda kind, payload: None)
