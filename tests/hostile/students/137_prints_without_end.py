# expect: error: b printed (or wrote to a file) more than 1 MiB: stopped
def f(x):
    return x * x


def b(g, x):
    while True:
        print("PASS " * 20)
