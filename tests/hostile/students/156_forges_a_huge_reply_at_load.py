# expect: error: sent 1024 GiB of numbers, more than gradcheck --memory allows
import json
import os
import struct
import sys


def f(x):
    """While the file loads (the forward on zeros, whose output's shape is not known yet), a reply of 1 TiB with
    the right number: refused by its size before a byte is read into backprop's memory."""
    frame = sys._getframe()
    while "number" not in frame.f_locals:
        frame = frame.f_back
    text = json.dumps({"ok": True, "id": frame.f_locals["number"], "arrays": [[2**37]]}).encode()
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            if fd > 2 and os.fstat(fd).st_mode & 0o170000 == 0o010000:
                os.write(fd, struct.pack("<QQ", len(text), 2**40) + text)
        except OSError:
            pass
    os._exit(0)


def b(g, x):
    return (3 * x * g,)
