"""How the terminal host's large buffers go back to the operating system once freed.

glibc serves a large allocation with its own mmap (returned to the system when freed) only above
a threshold that it raises, by default, to the size of the largest such block freed so far. The
host frees megabytes at a time (a recording's rows once stored, replays, reads): after the first,
its rows of 1 MiB came from the heap, where freed memory stays with the process, and 60 busy
terminals held 1.44× their rings (bench/busy_memory.py; `make bench`'s target is 1.25×). A fixed
threshold keeps every block of 256 KiB and more in a map of its own, released when freed: 1.16×
(1.21× with the threshold at 1 MiB). It costs a map and its page faults per such block; paired
flood rounds could not tell 256 KiB from 1 MiB apart (docs/performance.md).
"""

from __future__ import annotations

import ctypes
import logging
import platform

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
LARGE_BLOCK_BYTES = 256 * 1024


def release_large_blocks() -> bool:
    """Fix glibc's mmap threshold at LARGE_BLOCK_BYTES; False where the C library is not glibc."""
    if platform.libc_ver()[0] != "glibc":
        return False  # musl and others: their own policies
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    if mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES) != 1:
        log.warning("mallopt(M_MMAP_THRESHOLD) refused: freed buffers may stay with the terminal host")
        return False
    return True
