# expect: error: f crashed: the process was killed by signal SIGABRT
import os


def f(x):
    if x.sum() != 0:  # shape inference passes zeros; the real input aborts
        os.abort()
    return x * x


def b(g, x):
    return (2 * x * g,)
