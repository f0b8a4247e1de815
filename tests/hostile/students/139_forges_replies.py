# expect: error: the worker sent a reply to another request
import json
import os
import struct

for fd in map(int, os.listdir("/proc/self/fd")):  # the pipe to backprop: a forged answer to "load"
    try:
        text = json.dumps({"ok": True, "found": {"k": {"inputs": [], "attrs": {}}}}).encode()
        os.write(fd, struct.pack("<QQ", len(text), 0) + text)
    except OSError:
        pass


def f(x):
    return x * x


def b(g, x):
    return (3 * x * g,)
