# expect: fail: rel
import numpy as np


def f(x):
    x *= 2  # changes the leaf in place: the worker's copy, never backprop's
    return x


def b(g, x):
    return (np.zeros_like(x),)
