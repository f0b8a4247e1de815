# expect: error: b ran out of memory (300 MiB allowed; gradcheck --memory)
import numpy as np


def f(x):
    return x * x


def b(g, x):
    hoard = []
    while True:
        hoard.append(np.ones(2**27))  # 1 GiB at a time, without end
