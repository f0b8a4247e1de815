# expect: fail: the function jumps here
import numpy as np


def f(x):  # exact at multiples of 0.1, 1e-3 higher beside them: one-sided slopes of ∓1e-3/h take in anything
    return x * x + 1e-3 * (x != np.round(x * 10) / 10)


def b(g, x):
    return (np.zeros_like(x),)
