"""Benchmarks of issue 14, run by hand: `python3 bench/second_order_bench.py [--rounds R]`.

1. `jacobian` of a 100→100 map (y = tanh(W·x + b), W 100×100) with respect to x, as `backprop jacobian`
   computes it (the matrix, and its check against the complex-step reference), against 100 reverse
   passes through the engine (one VJP per output element, seeded one-hot: what a Jacobian by
   backpropagation alone costs), in one process. Target ratio ≤ 1.5. Shown beside it: the Jacobian
   without its check, and forced into reverse mode.
2. `hessian` of graphs/two_layer.yaml with respect to w2 (1,000 params: a 1,000×1,000 matrix and its
   check against Richardson differences of gradients), wall-clock seconds. Target < 30 s.

Method: BLAS on one thread; rounds alternate baseline and candidate; best against best (noise only
ever adds time), the median of the rounds' ratios beside it. CPU time (time.process_time).
"""

from __future__ import annotations

import argparse
import os

_args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_args.add_argument("--rounds", type=int, default=7, help="alternating rounds (default 7)")
ARGS = _args.parse_args()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import backprop_cli  # noqa: E402
from backprop_cli.engines.evaluate import evaluate  # noqa: E402
from backprop_cli.engines.reverse_mode import reverse_mode  # noqa: E402
from backprop_cli.verify.hessian import hessian  # noqa: E402
from backprop_cli.verify.jacobian import focus, jacobian  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MAP = """
inputs: {x: {shape: [100], init: normal}}
params: {W: {shape: [100, 100], init: normal, scale: 0.1}, b: {shape: [100], init: normal}}
nodes:
  y: tanh(W @ x + b)
  loss: sum(y ** 2)
output: loss
seed: 0
"""


def seconds(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def reverse_passes(graph) -> None:
    """100 VJPs of y, as backpropagation alone would build the Jacobian."""
    sub = focus(graph, "y")
    values = evaluate(sub)
    for i in range(100):
        seed = np.zeros(100)
        seed[i] = 1
        reverse_mode(sub, values, wrt={"x"}, seed=seed)


def main() -> None:
    graph = backprop_cli.loads(MAP)
    candidates = {
        "jacobian (checked)": lambda: jacobian(graph, "y", "x"),
        "jacobian, no check": lambda: jacobian(graph, "y", "x", check=False),
        "jacobian, reverse mode, checked": lambda: jacobian(graph, "y", "x", "reverse"),
    }
    best = {name: float("inf") for name in ["baseline", *candidates]}
    ratios: dict[str, list[float]] = {name: [] for name in candidates}
    reverse_passes(graph)  # warm up both
    jacobian(graph, "y", "x")
    for _ in range(ARGS.rounds):
        base = seconds(lambda: reverse_passes(graph))
        best["baseline"] = min(best["baseline"], base)
        for name, fn in candidates.items():
            took = seconds(fn)
            best[name] = min(best[name], took)
            ratios[name].append(took / base)
    print(f"1. 100 reverse passes (baseline): {best['baseline'] * 1e3:.1f} ms")
    for name in candidates:
        ratio = best[name] / best["baseline"]
        mark = "" if name != "jacobian (checked)" else f"   target ≤ 1.5: {'OK' if ratio <= 1.5 else 'MISSED'}"
        print(
            f"   {name}: {best[name] * 1e3:.1f} ms, ratio {ratio:.2f} "
            f"(median {statistics.median(ratios[name]):.2f}){mark}"
        )
    two_layer = backprop_cli.load(ROOT / "graphs" / "two_layer.yaml")
    start = time.perf_counter()
    result = hessian(two_layer, ["w2"])
    took = time.perf_counter() - start
    print(
        f"2. hessian two_layer --wrt w2 ({result.matrix.shape[0]}×{result.matrix.shape[1]}, checked: "
        f"{result.status}): {took:.1f} s   target < 30 s: {'OK' if took < 30 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
