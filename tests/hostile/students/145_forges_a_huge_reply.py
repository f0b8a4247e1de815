# expect: error: the worker sent arrays of shapes (137438953472,) for a request of shapes (4,)
import json
import os
import struct
import sys


def _request_number():
    frame = sys._getframe()
    while frame is not None and "number" not in frame.f_locals:  # the worker's loop, a few frames up
        frame = frame.f_back
    return frame.f_locals["number"]


def f(x):
    if x.any():  # not while the file loads: on the checked values, a reply of 1 TiB with the right number
        text = json.dumps({"ok": True, "id": _request_number(), "arrays": [[2**37]]}).encode()
        for fd in map(int, os.listdir("/proc/self/fd")):
            try:
                os.write(fd, struct.pack("<QQ", len(text), 2**40) + text)
            except OSError:
                pass
        os._exit(0)
    return x * x


def b(g, x):
    return (3 * x * g,)
