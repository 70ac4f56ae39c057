"""ShortSleeper: sub-millisecond sleeps that let the rest of the loop run, on one descriptor."""

import fcntl
import os
import time

import gevent

from aict.terminals.short_sleep import ShortSleeper

SLEEPS = 50
PAUSE = 0.0001


def open_descriptors() -> set[int]:
    listed = {int(fd) for fd in os.listdir("/proc/self/fd")}  # includes the listing's own, now closed

    def still_open(fd: int) -> bool:
        try:
            fcntl.fcntl(fd, fcntl.F_GETFD)
            return True
        except OSError:
            return False

    return {fd for fd in listed if still_open(fd)}


def test_fifty_sleeps_of_100_us_take_less_than_the_loops_own_timers_would():
    sleeper = ShortSleeper()
    try:
        start = time.perf_counter()
        for _ in range(SLEEPS):
            assert sleeper.sleep(PAUSE)
        elapsed = time.perf_counter() - start
    finally:
        sleeper.close()
    assert elapsed >= SLEEPS * PAUSE  # each one lasted at least what was asked
    # libev waits at least 1 ms for any timer: gevent.sleep(PAUSE) fifty times takes > 50 ms.
    assert elapsed < SLEEPS * 0.001, f"{elapsed * 1000:.1f} ms"


def test_the_loop_timer_floor_that_makes_it_needed():
    start = time.perf_counter()
    for _ in range(SLEEPS):
        gevent.sleep(PAUSE)
    assert time.perf_counter() - start >= SLEEPS * 0.001  # why ShortSleeper exists


def test_other_greenlets_run_while_one_sleeps():
    sleeper, ran = ShortSleeper(), []
    other = gevent.spawn(ran.append, "other")
    try:
        assert sleeper.sleep(0.002)
    finally:
        sleeper.close()
    assert ran == ["other"] and other.dead


def test_one_descriptor_opened_on_first_sleep_kept_from_shells_and_closed_with_it():
    before = open_descriptors()
    sleeper = ShortSleeper()
    assert open_descriptors() == before  # an idle terminal pays nothing
    sleeper.sleep(PAUSE)
    sleeper.sleep(PAUSE)
    added = open_descriptors() - before
    assert len(added) == 1
    assert fcntl.fcntl(added.pop(), fcntl.F_GETFD) & fcntl.FD_CLOEXEC  # never inherited by a shell
    sleeper.close()
    sleeper.close()  # twice is harmless
    assert open_descriptors() == before
