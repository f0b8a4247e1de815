# expect: error: b ended the process (exit code 0
import os


def f(x):
    return x * x


def b(g, x):
    os._exit(0)
