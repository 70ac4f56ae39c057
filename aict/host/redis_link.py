"""The host link between nodes, over Redis pub/sub: a web process on node A reaches node B's host.

The same frames as the local Unix socket (aict.host.wire), carried as pub/sub messages: each node's
host listens on `<prefix>:node:<name>:host`; a web process opens a link with an id of its own and
listens on `<prefix>:link:<id>`. Every message to a host starts with the link's id and a newline.
Frames are gathered per loop pass and published by one greenlet per link, one message at a time:
pub/sub keeps the order of one connection's messages, and so the stream's.

Redis says nothing when a peer dies, so both ends beat: a host refreshes `<prefix>:node:<name>:alive`
(its lease, NODE_LEASE_SECONDS) and a web process pings each link; a host forgets a link silent for
LINK_SILENCE_SECONDS, and a web process drops its link to a node whose lease ran out. Redis is as
trusted as the database: whoever can publish to it can talk to the hosts (keep it on a private
network, with a password: docs/deploy).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

import gevent
from gevent.event import Event
from gevent.hub import get_hub
from redis.exceptions import RedisError

from aict.host import wire

log = logging.getLogger(__name__)

PING_SECONDS = 2.0
LINK_SILENCE_SECONDS = 10.0
SUBSCRIBE_SECONDS = 10.0


def host_channel(prefix: str, node: str) -> str:
    return f"{prefix}:node:{node}:host"


def link_channel(prefix: str, link_id: str) -> str:
    return f"{prefix}:link:{link_id}"


def alive_key(prefix: str, node: str) -> str:
    return f"{prefix}:node:{node}:alive"


def nodes_key(prefix: str) -> str:
    return f"{prefix}:nodes"


def subscribe_confirmed(redis, pubsub, channel: str, timeout: float = SUBSCRIBE_SECONDS) -> None:
    """Subscribe, and return once Redis counts the subscriber. The SUBSCRIBE goes out on the pub/sub
    connection unanswered; a message published on another connection meanwhile is lost, and a peer
    told to publish (a node advertised, a hello sent) may be that fast."""
    pubsub.subscribe(channel)
    deadline = time.monotonic() + timeout
    while not redis.pubsub_numsub(channel)[0][1]:
        if time.monotonic() > deadline:
            raise OSError(f"Redis did not confirm the subscription to {channel} within {timeout} s")
        gevent.sleep(0.005)


class RedisFrameLink(wire.Outbox):
    """A link's frames as pub/sub messages: published by one greenlet, in order."""

    def __init__(self, redis, publish_to: str, on_frame: Callable[[int, memoryview], None] | None,
                 on_close: Callable[[], None] | None = None, name: str = "redis link", header: bytes = b""):
        super().__init__(on_frame, on_close, name)
        self.redis = redis
        self.publish_to = publish_to
        self.header = header  # what starts every message (a link's id, towards a host)
        self.last_heard = time.monotonic()
        self._wake = Event()
        self._publisher = gevent.spawn(self._publish_loop)

    def _kick(self) -> None:
        if not self._wake.is_set():
            get_hub().loop.run_callback(self._wake.set)  # once this loop pass has added what it has

    def _publish_loop(self) -> None:
        try:
            while not self.closed:
                self._wake.wait()
                self._wake.clear()
                while self._out and not self.closed:
                    parts, self._out = self._out, []
                    data = b"".join((self.header, *parts))
                    self.redis.publish(self.publish_to, data)
                    self._out_bytes -= len(data) - len(self.header)
                    self._notify_drained()
        except Exception as error:
            if not self.closed:
                log.warning("%s: publishing failed (%s)", self.name, error)
                gevent.spawn(self.close)

    def deliver(self, data: bytes) -> None:
        """A message for this link: whole frames, one after another."""
        self.last_heard = time.monotonic()
        try:
            if self._frames_in(data) != len(data):
                raise wire.LinkClosed("a message ending inside a frame")
        except (wire.LinkClosed, ValueError) as error:
            log.warning("%s: a broken message (%s)", self.name, error)
            self.close()

    def _closing(self) -> None:
        self._wake.set()


class WebSideLink(RedisFrameLink):
    """A web process's link to another node's host: listens on its own channel, pings the host."""

    def __init__(self, redis, prefix: str, node: str, on_frame, on_close=None):
        self.link_id = secrets.token_hex(8)
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        try:  # an OSError for every failure: the caller retries those
            self.epoch = redis.get(alive_key(prefix, node))
            if self.epoch is None:
                raise OSError(f"node {node} has no live terminal host")
            subscribe_confirmed(redis, pubsub, link_channel(prefix, self.link_id))  # before the hello
        except BaseException as error:
            pubsub.close()
            if isinstance(error, RedisError):
                raise OSError(f"node {node}: Redis failed ({error})") from error
            raise
        super().__init__(redis, host_channel(prefix, node), on_frame, on_close, name=f"link to node {node}",
                         header=self.link_id.encode() + b"\n")
        self.node, self.prefix = node, prefix
        self._pubsub = pubsub
        self._listener = gevent.spawn(self._listen)
        self._pinger = gevent.spawn(self._ping)

    def _listen(self) -> None:
        try:
            while not self.closed:
                message = self._pubsub.get_message(timeout=1.0)
                if message is not None and message["type"] == "message":
                    self.deliver(message["data"])
        except Exception as error:
            if not self.closed:
                log.warning("%s: listening failed (%s)", self.name, error)
        finally:
            self.close()

    def _ping(self) -> None:
        while not self.closed:
            gevent.sleep(PING_SECONDS)
            epoch = self.redis.get(alive_key(self.prefix, self.node))
            if epoch != self.epoch:  # its lease ran out, or another host took the node over
                log.warning("%s: its host %s; closing the link", self.name,
                            "is gone (lease ran out)" if epoch is None else "restarted")
                self.close()
                return
            self.send_message({"op": "ping"})

    def _closing(self) -> None:
        super()._closing()
        try:
            self._pubsub.close()
        except Exception:
            pass


class HostSideLinks:
    """A host's end of every web process's link over Redis: one RedisFrameLink per link id."""

    def __init__(self, redis, prefix: str, node: str, lease_seconds: float, accept: Callable[[RedisFrameLink], None]):
        self.redis, self.prefix, self.node = redis, prefix, node
        self.lease_seconds = lease_seconds
        self.accept = accept  # makes a WebLink around a new link (after hello)
        self.links: dict[str, RedisFrameLink] = {}
        self._pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self._greenlets: list[gevent.Greenlet] = []
        self.epoch = f"{time.time():.6f}:{secrets.token_hex(4)}"  # this host's: its web peers see a restart

    def start(self) -> None:
        # Listening before it is advertised: a web process that finds the node sends its hello at once
        subscribe_confirmed(self.redis, self._pubsub, host_channel(self.prefix, self.node))
        self.renew()
        self.redis.sadd(nodes_key(self.prefix), self.node)
        self._greenlets = [gevent.spawn(self._listen), gevent.spawn(self._beat)]

    def renew(self) -> None:
        self.redis.set(alive_key(self.prefix, self.node), self.epoch, px=int(self.lease_seconds * 1000))

    def stop(self) -> None:
        for greenlet in self._greenlets:
            greenlet.kill(block=False)
        for link in list(self.links.values()):
            link.close()
        try:
            self.redis.delete(alive_key(self.prefix, self.node))
            # Stopped, its terminals recorded ended: nothing of this node for others to end. (A host
            # that re-executes adds itself again as it starts.)
            self.redis.srem(nodes_key(self.prefix), self.node)
            self._pubsub.close()
        except Exception:
            pass

    def _listen(self) -> None:
        while True:
            try:
                message = self._pubsub.get_message(timeout=1.0)
            except Exception as error:
                log.warning("node %s: listening on Redis failed (%s); retrying", self.node, error)
                gevent.sleep(1)
                continue
            if message is None or message["type"] != "message":
                continue
            data = message["data"]
            newline = data.find(b"\n")
            if newline <= 0 or newline > 64:
                continue
            link_id = data[:newline].decode(errors="replace")
            link = self.links.get(link_id)
            if link is None:
                link = RedisFrameLink(self.redis, link_channel(self.prefix, link_id), on_frame=None,
                                      name=f"web link {link_id} (Redis)")
                self.links[link_id] = link
                self.accept(link)  # sets link.on_frame and link.on_close
                forget = link.on_close
                link.on_close = lambda link_id=link_id, forget=forget: (self.links.pop(link_id, None), forget())
            link.deliver(data[newline + 1:])

    def _beat(self) -> None:
        while True:
            gevent.sleep(self.lease_seconds / 3)
            try:
                self.renew()
            except Exception as error:
                log.warning("node %s: renewing its lease failed (%s)", self.node, error)
            now = time.monotonic()
            for link in list(self.links.values()):
                if now - link.last_heard > LINK_SILENCE_SECONDS:
                    log.info("%s: silent for %ss; forgetting it", link.name, LINK_SILENCE_SECONDS)
                    link.close()
