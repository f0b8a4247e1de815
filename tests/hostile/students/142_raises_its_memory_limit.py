# expect: error: b ran out of memory (300 MiB allowed; gradcheck --memory)
import resource

import numpy as np


def f(x):
    return x * x


def b(g, x):
    for kind in (resource.RLIMIT_AS, resource.RLIMIT_DATA, resource.RLIMIT_CPU):
        try:  # the soft limit back up to the hard one, then both to infinity (as root too)
            resource.setrlimit(kind, (resource.getrlimit(kind)[1],) * 2)
            resource.setrlimit(kind, (resource.RLIM_INFINITY,) * 2)
        except (ValueError, OSError):
            pass
    hoard = np.ones(2**29)  # 4 GiB
    hoard[:: 2**9] = 2.0
    return (2 * x * g,)
