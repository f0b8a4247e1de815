"""Benchmarks of issue 2, run by hand: `python3 bench/engine_vs_numpy.py`.

1. Forward + backward of the lecture's two-layer network (N=64, D_in=1000, H=100, D_out=10)
   through backprop's engines vs the same computation hand-written in NumPy (the lecture's
   lines), in one process. Target ratio ≤ 1.15.
2. `backprop trace circuit` process time vs `python -c "import numpy, yaml"`. Target ≤ 1.6.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np

import backprop_cli
from backprop_cli.engines.evaluate import evaluate
from backprop_cli.engines.reverse_mode import reverse_mode

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


def numpy_step(x, y, w1, w2):
    """The lecture's forward and backward pass, line for line."""
    h = 1 / (1 + np.exp(-x.dot(w1)))
    y_pred = h.dot(w2)
    loss = np.square(y_pred - y).sum()
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h.T.dot(grad_y_pred)
    grad_h = grad_y_pred.dot(w2.T)
    grad_w1 = x.T.dot(grad_h * h * (1 - h))
    return loss, grad_w1, grad_w2


def best_of(fn, repeats: int = 7, number: int = 20) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def engine_ratio() -> None:
    graph = backprop_cli.loads(TWO_LAYER)
    v = graph.leaf_values
    params = set(graph.params)

    def engine():
        values = evaluate(graph)
        return reverse_mode(graph, values, wrt=params)

    def engine_all():
        return reverse_mode(graph, evaluate(graph))

    def hand():
        return numpy_step(v["x"], v["y"], v["w1"], v["w2"])

    grads = engine()
    loss, gw1, gw2 = hand()
    assert np.allclose(grads["w1"], gw1) and np.allclose(grads["w2"], gw2), "engine disagrees with NumPy"
    t_np, t_bp, t_all = best_of(hand), best_of(engine), best_of(engine_all)
    print(f"two-layer forward+backward: numpy {t_np * 1e3:.3f} ms, backprop (params) {t_bp * 1e3:.3f} ms "
          f"-> ratio {t_bp / t_np:.3f} (target <= 1.15)")
    print(f"  backprop with gradients of every leaf and node (x too): {t_all * 1e3:.3f} ms -> ratio {t_all / t_np:.3f}")


def process_time(cmd: list[str], runs: int = 11) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def startup_ratio() -> None:
    base = process_time([sys.executable, "-c", "import numpy, yaml"])
    trace = process_time([sys.executable, "-m", "backprop_cli", "trace", "circuit"])
    print(f"process time: python -c 'import numpy, yaml' {base * 1e3:.0f} ms, backprop trace circuit "
          f"{trace * 1e3:.0f} ms -> ratio {trace / base:.2f} (target <= 1.6)")


if __name__ == "__main__":
    engine_ratio()
    startup_ratio()
