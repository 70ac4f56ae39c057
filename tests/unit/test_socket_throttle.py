"""Per-connection event throttling: a fixed window per socket, counted in this process."""

from __future__ import annotations

import time

from aict.realtime.guard import SocketThrottle


def test_events_beyond_the_rate_are_refused_until_the_window_ends():
    throttle = SocketThrottle("3 per second")
    assert [throttle.exceeded("a") for _ in range(5)] == [False, False, False, True, True]
    time.sleep(1.05)
    assert throttle.exceeded("a") is False


def test_each_connection_has_its_own_count():
    throttle = SocketThrottle("2 per second")
    assert [throttle.exceeded("a") for _ in range(3)] == [False, False, True]
    assert throttle.exceeded("b") is False


def test_a_forgotten_connection_starts_afresh():
    throttle = SocketThrottle("1 per minute")
    throttle.exceeded("a")
    assert throttle.exceeded("a") is True
    throttle.forget("a")
    assert throttle.exceeded("a") is False
    throttle.forget("never-seen")  # harmless
