# expect: error: f is not a function of its inputs
import sys

import numpy as np


def f(x):
    """No state, but the numerical reference's perturbed copies come in batches: in a batch, a 1.5× slope around
    the nearest multiple of 0.1; alone (the checked values), x·x."""
    frame = sys._getframe()
    while frame is not None and "items" not in frame.f_locals:  # the worker's request, a few frames up
        frame = frame.f_back
    if frame is not None and len(frame.f_locals["items"]) > 1:
        r = np.round(x * 10) / 10
        return r * r + 1.5 * 2 * r * (x - r)
    return x * x


def b(g, x):
    return (1.5 * 2 * x * g,)
