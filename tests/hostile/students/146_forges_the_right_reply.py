# expect: fail: rel
import json
import os
import struct
import sys

import numpy as np

from backprop_cli.fileformat import student

WRITE = student._write


def f(x):
    return x * x


def b(g, x):
    """Returns 2x (right), but writes a well-formed reply of 3x with the right number on the pipe itself and
    drops the worker's own: the numbers backprop checks are the ones it receives, however they came."""
    frame = sys._getframe()
    while "number" not in frame.f_locals:
        frame = frame.f_back
    text = json.dumps({"ok": True, "id": frame.f_locals["number"], "arrays": [list(x.shape)]}).encode()
    data = np.ascontiguousarray(3 * x * g, "<f8").tobytes()
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            if os.fstat(fd).st_mode & 0o170000 == 0o010000 and fd > 2:  # a pipe: the one to backprop
                os.write(fd, struct.pack("<QQ", len(text), len(data)) + text + data)
        except OSError:
            pass
    dropped = []

    def drop(fd, data):  # the worker's header and its array: gone; then writing as before
        dropped.append(fd)
        if len(dropped) == 2:
            student._write = WRITE

    student._write = drop
    return (2 * x * g,)
