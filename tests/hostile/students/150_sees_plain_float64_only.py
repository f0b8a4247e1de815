# expect: pass: a forward that refuses anything but fresh float64 C-order arrays (every call gets them)
import numpy as np


def _plain(x):
    if type(x) is not np.ndarray or x.dtype != np.float64 or not x.flags.c_contiguous or not x.flags.writeable:
        raise TypeError(f"told apart: {type(x)} {x.dtype} {x.flags}")


def f(x):
    _plain(x)
    return x * x


def b(g, x):
    _plain(g)
    _plain(x)
    return (2 * x * g,)
