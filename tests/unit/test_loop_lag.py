"""LoopLag: a hold of the event loop shows up as lag, at about its length."""

import time

import gevent

from aict.runtime.loop_lag import BUCKETS, INTERVAL_SECONDS, LoopLag


def hold_the_loop(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:  # no yield: every greenlet and timer waits
        pass


def test_an_idle_loop_runs_its_timer_about_on_time():
    lag = LoopLag().start()
    try:
        gevent.sleep(INTERVAL_SECONDS * 6)
    finally:
        lag.stop()
    observed = sum(lag.counts)
    assert observed >= 3
    assert lag.cumulative()[-1] == ("+Inf", observed)
    assert lag.longest < 0.1  # nothing held the loop (a loaded CI machine still schedules within this)


def test_a_held_loop_is_seen_as_lag_of_about_that_length():
    lag = LoopLag().start()
    try:
        gevent.sleep(INTERVAL_SECONDS * 2)
        hold_the_loop(0.3)
        gevent.sleep(INTERVAL_SECONDS * 2)
    finally:
        lag.stop()
    assert 0.3 - INTERVAL_SECONDS <= lag.longest < 1.0
    late = dict(lag.cumulative())
    assert late["+Inf"] - late[str(BUCKETS[6])] >= 1  # one observation over 100 ms
    assert lag.total >= lag.longest
