# expect: fail: b raised GeneratorExit
def f(x):
    return x * x


def b(g, x):
    raise GeneratorExit
