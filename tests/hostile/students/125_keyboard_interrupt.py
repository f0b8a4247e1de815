# expect: fail: b raised KeyboardInterrupt
def f(x):
    return x * x


def b(g, x):
    raise KeyboardInterrupt
