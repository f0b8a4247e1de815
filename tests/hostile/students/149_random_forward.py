# expect: error: f is not a function of its inputs
import numpy as np


def f(x):  # dropout without a seed: no two calls alike, so no derivative to check a backward against
    return x * x * (1 + 1e-13 * np.random.standard_normal(x.shape))  # too little to disturb the check


def b(g, x):
    return (2 * x * g,)
