"""Password hashing (scrypt, ~160 ms of CPU) runs beside the event loop, not on it."""

import gevent

from aict.auth.passwords import hash_password, password_matches


def test_terminals_keep_running_while_a_login_is_checked():
    stored = hash_password("correct horse")
    ticks = []

    def terminal():  # stands for every other greenlet: each tick is the loop getting a turn
        while True:
            ticks.append(1)
            gevent.sleep(0.005)

    ticker = gevent.spawn(terminal)
    gevent.sleep(0.01)
    try:
        before = len(ticks)
        assert password_matches(stored, "correct horse")
        assert not password_matches(stored, "wrong horse")
        assert not password_matches(None, "anything")  # no such user: the same work, and no
        during = len(ticks) - before
    finally:
        ticker.kill()
    assert during >= 10  # three scrypt checks; on the loop the ticker got no turn at all
