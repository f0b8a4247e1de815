# expect: fail: "ops": {"y: x": {"status": "fail"
def f(x):
    return x * x


def b(g, x):  # 2x, not 2x·g: right wherever the graph hands the op ones (L = sum(y)), wrong anywhere else
    return (2 * x,)
