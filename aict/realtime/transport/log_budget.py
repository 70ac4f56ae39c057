"""Log lines about bad input, bounded: whoever sends garbage, the log gets a handful of lines a minute.

Anyone who can open a socket can send bad messages, and each would otherwise be a line (or a
traceback) in the server's log: 1,000 messages, 1,000 lines. A LogBudget lets a few lines through
per window for everyone together (so many peers cannot flood it either) and counts the rest; the
first line written after a quiet spell says how many were left out.
"""

from __future__ import annotations

import logging
import threading
import time

LINES_PER_WINDOW = 10
WINDOW_SECONDS = 60.0


class LogBudget:
    """At most `lines` log lines per `seconds`; what is left out is counted."""

    def __init__(self, lines: int = LINES_PER_WINDOW, seconds: float = WINDOW_SECONDS):
        self.lines, self.seconds = lines, seconds
        self._window_end = 0.0
        self._written = 0
        self._left_out = 0
        self._lock = threading.Lock()

    def take(self) -> int | None:
        """None: leave this line out. Else write it; the number is how many were left out before it."""
        with self._lock:
            now = time.monotonic()
            if now >= self._window_end:
                self._window_end, self._written = now + self.seconds, 0
            if self._written >= self.lines:
                self._left_out += 1
                return None
            self._written += 1
            left_out, self._left_out = self._left_out, 0
            return left_out


def suffix(left_out: int) -> str:
    return f" ({left_out} similar lines were left out)" if left_out else ""


class BudgetFilter(logging.Filter):
    """A logging filter that holds a logger's WARNING-and-above records to a LogBudget (the Socket.IO
    and Engine.IO libraries log a warning for many kinds of bad client message)."""

    def __init__(self, budget: LogBudget | None = None):
        super().__init__()
        self.budget = budget or LogBudget()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        left_out = self.budget.take()
        if left_out is None:
            return False
        if left_out:
            record.msg, record.args = record.getMessage() + suffix(left_out), None
        return True


def guard_logger(name: str) -> None:
    """Hold the named logger's warnings to a budget (once, however many apps a process builds)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, BudgetFilter) for f in logger.filters):
        logger.addFilter(BudgetFilter())


# Lines aict itself writes about bad client input share one budget.
BAD_INPUT = LogBudget()


def log_bad_input(logger: logging.Logger, message: str, *args, exc_info: bool = False) -> None:
    """A WARNING about a client's bad input, within BAD_INPUT's budget."""
    left_out = BAD_INPUT.take()
    if left_out is not None:
        logger.warning(message + suffix(left_out), *args, exc_info=exc_info)
