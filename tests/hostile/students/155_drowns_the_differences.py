# expect: fail: the numerical reference cannot tell
def f(x):  # + 1e15: every difference of outputs is rounding, and the reference's error estimate passed anything
    return x * x + 1e15


def b(g, x):
    return (3 * x * g,)
