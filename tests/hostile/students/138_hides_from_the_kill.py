# expect: error: b did not finish within 2 s (gradcheck --timeout)
import signal
import time


def f(x):
    return x * x


def b(g, x):
    for name in ("SIGTERM", "SIGINT", "SIGALRM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    time.sleep(3600)
