"""How many threads BLAS (NumPy's matrix products) may use: the commands choose, unless the user has.

BLAS starts as many threads as there are cores. On products the size of a lecture's network (64×1000 by
1000×100) they cost more than they save, and when other programs share the cores (an autograder running
several checks side by side) their threads wait on each other: the lecture's NumPy step went from 0.7 ms to
8-40 ms with two threads on two busy cores. So a command whose largest matrix product (or convolution) is
small uses one BLAS thread; a user's own setting always wins (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
MKL_NUM_THREADS or BLIS_NUM_THREADS).
The Python API leaves BLAS as it is: use threadpoolctl there.
"""

from __future__ import annotations

import os

import numpy as np

from ..graph import Graph

SETTINGS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
ONE_THREAD_BELOW = 2**27  # multiply-adds of the largest product (a 512×512 by 512×512 product): threads help above


def largest_product(graph: Graph) -> int:
    """Multiply-adds of the graph's largest matrix product or convolution (0: it has none)."""
    largest = 0
    for node in graph.gates:
        shapes = [np.shape(x.value) if not isinstance(x, str) else graph.nodes[x].shape for x in node.inputs]
        if node.op == "matmul" and len(shapes) == 2 and shapes[0]:
            largest = max(largest, int(np.prod(node.shape, dtype=np.int64)) * shapes[0][-1])
        elif node.op == "conv2d" and len(shapes) >= 2 and len(shapes[1]) == 4:
            _, channels, kh, kw = shapes[1]
            largest = max(largest, int(np.prod(node.shape, dtype=np.int64)) * channels * kh * kw)
    return largest


_limit: list = []  # the threadpoolctl limit in force, if any (a command may load several graphs)


def choose_blas_threads(graph: Graph) -> int | None:
    """One BLAS thread for the rest of the command when the graph's products are small and the user set none of
    SETTINGS (a later graph with big products lifts it again). Returns the limit in force (None: BLAS's own)."""
    if any(os.environ.get(name) for name in SETTINGS):
        return None
    work = largest_product(graph)
    small = 0 < work < ONE_THREAD_BELOW  # no products: nothing to gain (and no import to pay for)
    if small and not _limit:
        from threadpoolctl import threadpool_limits  # ~20 ms with its look at the loaded libraries: only if needed

        _limit.append(threadpool_limits(1, user_api="blas"))
    elif work >= ONE_THREAD_BELOW and _limit:
        _limit.pop().restore_original_limits()
    return 1 if _limit else None
