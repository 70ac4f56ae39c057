"""aict.db_pool against a real SQLite database: releasing before a wait, and the watch that finds a hold."""

import logging
import time

import gevent
import pytest

from aict.db_pool import CHECK_SECONDS, HOLD_WARNING, HoldWatch, release_connection
from aict.extensions import db
from aict.models import User


@pytest.fixture
def app(app):
    with app.app_context():
        db.session.add(User(username="alice", password_hash="x"))
        db.session.commit()
    return app


def _alice() -> User:
    return db.session.execute(db.select(User).filter_by(username="alice")).scalar_one()


def test_a_released_connection_is_back_in_the_pool_and_what_was_read_stays_usable(app):
    with app.app_context():
        pool = db.engine.pool
        user = _alice()
        assert pool.checkedout() == 1
        release_connection()
        assert pool.checkedout() == 0
        assert user.username == "alice" and pool.checkedout() == 0  # not expired: no new query
        user.role = "admin"  # still tracked: written in a new transaction
        db.session.commit()
    with app.app_context():
        assert _alice().role == "admin"


@pytest.mark.parametrize("change", ["dirty", "new", "flushed"])
def test_a_wait_may_not_split_a_write(app, change):
    with app.app_context():
        user = _alice()
        if change == "new":
            db.session.add(User(username="bob", password_hash="x"))
        else:
            user.role = "admin"
        if change == "flushed":
            db.session.flush()
        with pytest.raises(RuntimeError, match="unsaved changes"):
            release_connection()


def test_the_watch_names_a_greenlet_that_waits_holding_a_connection(app, caplog):
    watch = HoldWatch(_engine(app), warn_after=0.2)

    def waits_holding_it():
        with app.app_context():
            _alice()
            gevent.sleep(0.5)  # e.g. a process ending, an SSH handshake

    def waits_after_releasing():
        with app.app_context():
            _alice()
            release_connection()
            gevent.sleep(0.5)

    with caplog.at_level(logging.WARNING, logger="aict.db_pool"):
        released = gevent.spawn(waits_after_releasing)
        holder = gevent.spawn(waits_holding_it)
        gevent.sleep(0.3)
        watch.check()
        gevent.joinall([released, holder])
    reports = [r.getMessage() for r in caplog.records if HOLD_WARNING in r.getMessage()]
    assert len(reports) == 1, reports
    assert "waits_holding_it" in reports[0] and "gevent.sleep(0.5)" in reports[0], reports[0]
    assert watch.too_long == 1 and watch.checked_out == 0


def test_time_the_whole_process_did_not_run_is_not_a_hold(app, caplog):
    """A starved machine (here: the loop blocked, as when the process is not scheduled) is no wait."""
    watch = HoldWatch(_engine(app), warn_after=0.5)
    checker = gevent.spawn(lambda: [watch.check() or gevent.sleep(CHECK_SECONDS) for _ in range(1000)])

    def starved_while_holding_it():
        with app.app_context():
            _alice()
            gevent.sleep(0)
            time.sleep(1.0)  # nothing in the process runs, the checker included
            db.session.commit()

    def waits_holding_it():
        with app.app_context():
            _alice()
            gevent.sleep(2.0)  # far past warn_after, whatever else the machine runs meanwhile
            db.session.commit()

    with caplog.at_level(logging.WARNING, logger="aict.db_pool"):
        gevent.sleep(0.3)
        gevent.spawn(starved_while_holding_it).join()
        gevent.spawn(waits_holding_it).join()
        checker.kill()
    reports = [r.getMessage() for r in caplog.records if HOLD_WARNING in r.getMessage()]
    assert len(reports) == 1 and "waits_holding_it" in reports[0], reports


def _engine(app):
    with app.app_context():
        return db.engine
