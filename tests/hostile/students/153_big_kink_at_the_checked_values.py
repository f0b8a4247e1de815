# expect: fail: half a step beside its kink
import numpy as np


def f(x):  # kinks so steep at the checked values that 0 lies between their one-sided slopes 2x ∓ 1000
    return x * x + 1000 * np.abs(x - np.round(x * 10) / 10)


def b(g, x):
    return (np.zeros_like(x),)
