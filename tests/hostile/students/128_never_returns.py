# expect: error: b did not finish within 2 s (gradcheck --timeout)
import time


def f(x):
    return x * x


def b(g, x):
    while True:
        time.sleep(0.05)
