# expect: fail: b raised OSError: [Errno 30] Read-only file system
from pathlib import Path


def f(x):
    return x * x


def b(g, x):  # the student's code writes no file: not its answers, not a fake report beside the graph
    Path(__file__).with_name("report.json").write_text('{"passed": true}\n')
    return (2 * x * g,)
