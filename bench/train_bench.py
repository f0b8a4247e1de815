"""Benchmark of issue 6, run by hand: `python3 bench/train_bench.py [steps]`.

Training steps per second of the lecture's two-layer network (N=64, D_in=1000, H=100, D_out=10;
plain SGD, lr 1e-4) through `backprop train`'s loop (evaluate, reverse mode to the params, the
optimizer's update) vs the lecture's hand-written NumPy loop, in one process, from the same
weights. Target ratio (backprop time / NumPy time) ≤ 1.2. Also checks that both reach the same loss.
BLAS runs on one thread (unless OPENBLAS_NUM_THREADS etc. are set): both loops do the same matrix
products, and on a shared machine threads only add noise to the ratio.
"""

from __future__ import annotations

import os
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402  (after the thread settings)

import backprop_cli  # noqa: E402
from backprop_cli.training.loop import train  # noqa: E402
from backprop_cli.training.optimizers import make_optimizer  # noqa: E402

TWO_LAYER = """
name: two_layer_bench
inputs:
  x: {shape: [64, 1000], init: normal}
  y: {shape: [64, 10], init: normal}
params:
  w1: {shape: [1000, 100], init: normal}
  w2: {shape: [100, 10], init: normal}
nodes:
  h: sigmoid(x @ w1)
  y_pred: h @ w2
  loss: sum((y_pred - y) ** 2)
output: loss
seed: 0
"""


def numpy_loop(x, y, w1, w2, steps):
    """The lecture's 20 lines (the print left out)."""
    w1, w2 = w1.copy(), w2.copy()
    loss = None
    for _t in range(steps):
        h = 1 / (1 + np.exp(-x.dot(w1)))
        y_pred = h.dot(w2)
        loss = np.square(y_pred - y).sum()
        grad_y_pred = 2.0 * (y_pred - y)
        grad_w2 = h.T.dot(grad_y_pred)
        grad_h = grad_y_pred.dot(w2.T)
        grad_w1 = x.T.dot(grad_h * h * (1 - h))
        w1 -= 1e-4 * grad_w1
        w2 -= 1e-4 * grad_w2
    return loss


def main(steps: int = 2000, repeats: int = 5) -> None:
    graph = backprop_cli.loads(TWO_LAYER)
    v = graph.leaf_values
    t_np, t_bp = [], []
    for _ in range(repeats):  # interleaved, best of each: the machine's noise hits both alike
        start = time.perf_counter()
        loss_np = numpy_loop(v["x"], v["y"], v["w1"], v["w2"], steps)
        t_np.append(time.perf_counter() - start)
        start = time.perf_counter()
        run = train(graph, make_optimizer("sgd", lr=1e-4), steps)
        t_bp.append(time.perf_counter() - start)
    assert abs(run.losses[-1] - loss_np) <= 1e-9 * abs(loss_np), (run.losses[-1], loss_np)
    best_np, best_bp = min(t_np), min(t_bp)
    print(
        f"two-layer SGD, {steps} steps: numpy {steps / best_np:,.0f} steps/s, backprop {steps / best_bp:,.0f} steps/s"
    )
    print(f"ratio backprop/numpy time: {best_bp / best_np:.3f} (target ≤ 1.2); last loss {run.losses[-1]:.6g}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
