"""Password hashing (scrypt, ~160 ms of CPU) runs beside the event loop, not on it."""

import gevent

from aict.auth.passwords import hash_password, password_matches


def test_terminals_keep_running_while_a_login_is_checked():
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt:32768:8:1$")  # the default: werkzeug's scrypt, n=2**15
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


def test_a_test_server_hashes_cheaply_and_still_checks_strong_hashes(tmp_path):
    from aict import create_app

    strong = hash_password("correct horse")
    app = create_app({"INSTANCE_DIR": str(tmp_path), "TEST_CHEAP_PASSWORD_HASHES": True})
    with app.app_context():
        cheap = hash_password("correct horse")
        assert cheap.startswith("scrypt:128:8:1$")
        assert password_matches(cheap, "correct horse") and not password_matches(cheap, "wrong horse")
        assert password_matches(strong, "correct horse")  # a hash carries its cost: checked as made
        assert not password_matches(None, "anything")


def test_an_unknown_user_costs_what_a_known_one_does():
    from aict.auth.passwords import _DUMMY_HASHES

    # the written-out hashes an unknown user is checked against are made at the cost real ones are
    assert all(dummy.startswith(method + "$") for method, dummy in _DUMMY_HASHES.items())
