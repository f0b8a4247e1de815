# expect: fail: is not an array of numbers (Sneaky: RuntimeError: no numbers here)
class Sneaky:
    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("no numbers here")


def f(x):
    return x * x


def b(g, x):
    return (Sneaky(),)
