# expect: fail: rel
import numpy as np


def f(x):
    """A kink that only the widest points of gradcheck's stencil cross (between h/2 and h of the checked values):
    Richardson's two extrapolations disagree, and their disagreement, taken as the reference's error, used to
    excuse a backward 1.5× too large."""
    r = np.round(x * 10) / 10
    h = 1e-3 * np.maximum(np.abs(r), np.sqrt(np.mean(r * r)))
    return x * x + 100 * np.maximum(x - (r + 0.75 * h), 0)


def b(g, x):
    return (1.5 * 2 * x * g,)
