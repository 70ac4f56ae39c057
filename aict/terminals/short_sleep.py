"""Sleeps shorter than a millisecond, for a greenlet: a timerfd waited on like any descriptor.

The event loop's own timers cannot do this: libev passes epoll a timeout in whole milliseconds and
never less than one, so `gevent.sleep(0.0001)` on a quiet loop lasts ~1.1 ms. A timerfd fires with
the kernel's precision and wakes the loop through epoll like a socket would.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

from gevent.hub import get_hub

CLOCK_MONOTONIC = 1
TFD_NONBLOCK = os.O_NONBLOCK
TFD_CLOEXEC = os.O_CLOEXEC


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _load_libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.timerfd_create.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.timerfd_settime.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(_Itimerspec), ctypes.c_void_p]
        return libc
    except (OSError, AttributeError):  # not Linux, or a libc without timerfd
        return None


_libc = _load_libc()


class ShortSleeper:
    """One greenlet's sub-millisecond sleeps. The descriptor is opened on first use."""

    def __init__(self):
        self._fd = -1
        self._watcher = None
        self._spec: _Itimerspec | None = None

    def sleep(self, seconds: float) -> bool:
        """Sleep `seconds` (0 < seconds < 1); False, at once, where timerfd is not available."""
        if self._fd < 0 and not self._open():
            return False
        self._spec.it_value.tv_nsec = max(1, int(seconds * 1e9))
        if _libc.timerfd_settime(self._fd, 0, ctypes.byref(self._spec), None) != 0:
            return False
        get_hub().wait(self._watcher)
        try:
            os.read(self._fd, 8)  # the expiry count: reading it disarms readiness
        except BlockingIOError:
            pass
        return True

    def _open(self) -> bool:
        if _libc is None:
            return False
        fd = _libc.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)
        if fd < 0:
            return False
        self._fd = fd
        self._spec = _Itimerspec()
        self._watcher = get_hub().loop.io(fd, 1)
        return True

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
