# expect: fail: rel
import backprop_cli.verify.verdicts as verdicts

verdicts.Report.status = property(lambda self: "pass")  # in the worker only: the verdict is made elsewhere


def f(x):
    return x * x


def b(g, x):
    return (3 * x * g,)
