# expect: fail: returned a gradient of shape (3000000,) for x of shape (4,)
import numpy as np


def f(x):
    return x * x


def b(g, x):
    return (np.ones(3_000_000),)
