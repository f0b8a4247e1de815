# expect: error: f is not a function of its inputs
import fcntl
import os
import struct

BASE, SPAN = 1 << 40, 1 << 24  # byte offsets far past the end of the file: only the locks mean anything
FD = os.open(__file__, os.O_RDONLY)
FLOCK = "hhqqi4x"


def _lock_query(start, length):
    query = struct.pack(FLOCK, fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
    kind, _, found, _, _ = struct.unpack(FLOCK, fcntl.fcntl(FD, fcntl.F_GETLK, query))
    return None if kind == fcntl.F_UNLCK else found


def _told(n):
    """The first point the first process saw, from the read locks it holds (one per element)."""
    starts = [_lock_query(BASE + k * SPAN, SPAN) for k in range(n)]
    if None in starts:
        return None
    return [(s - BASE - k * SPAN - SPAN // 2) / 1000 for k, s in enumerate(starts)]


def _tell(x):
    for k, value in enumerate(x):
        offset = BASE + k * SPAN + SPAN // 2 + int(round(value * 1000))
        fcntl.fcntl(FD, fcntl.F_SETLK, struct.pack(FLOCK, fcntl.F_RDLCK, os.SEEK_SET, offset, 1, 0))


FIRST = []


def f(x):
    """Exact at the first point it sees, a 1.5× slope near it; a later process (a replay) learns that point from
    the locks the first one holds on its own module file, and answers as the first did."""
    import numpy as np

    if not FIRST and x.any():
        told = _told(x.size)
        FIRST.append(np.array(told) if told is not None else x.copy())
        if told is None:
            _tell(x)
    if FIRST and x.shape == FIRST[0].shape:
        x0 = FIRST[0]
        return x0 * x0 + 1.5 * 2 * x0 * (x - x0)
    return x * x


def b(g, x):
    return (1.5 * 2 * x * g,)
