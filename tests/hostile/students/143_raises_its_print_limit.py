# expect: error: b printed (or wrote to a file) more than 1 MiB: stopped
import os
import resource


def f(x):
    return x * x


def b(g, x):
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
    except (ValueError, OSError):
        pass
    line = b"PASS " * 20_000
    for fd in (1, 2, os.dup(1)):  # each way to the captured output
        for _ in range(200):
            os.write(fd, line)
    return (2 * x * g,)
