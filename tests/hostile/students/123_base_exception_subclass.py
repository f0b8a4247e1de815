# expect: fail: b raised Verdict: pass
class Verdict(BaseException):
    pass


def f(x):
    return x * x


def b(g, x):
    raise Verdict("pass")
