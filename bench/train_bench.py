"""Benchmark of issue 6, run by hand: `python3 bench/train_bench.py [--steps S] [--threads N] [--rounds R]`.

Training steps per second of the lecture's two-layer network (graphs/two_layer.yaml: N=64, D_in=1000,
H=100, D_out=10; plain SGD, lr 1e-4) through `backprop train`'s loop (evaluate, reverse mode to the
params, the optimizer's update) vs the lecture's hand-written NumPy loop, in one process, from the same
weights. Target ratio (backprop time / NumPy time) ≤ 1.2. Both must reach the same loss (to 1e-9).

Then an Adam step against an SGD step plus the Adam update written by hand in NumPy (on fixed gradients):
what Adam's own update costs beyond the forward and backward pass. Target ≤ 1.2.

Method: BLAS runs on the same number of threads for both loops (1 unless --threads); both are warmed
up; the rounds alternate the two loops so the machine's noise hits both alike; the ratio is best
against best (noise only ever adds time), with the median of the rounds' ratios beside it. On one
thread the times are CPU time (time.process_time: other programs taking the CPU do not count); with
more threads, wall-clock time (BLAS's helper threads spin while they wait).
"""

from __future__ import annotations

import argparse
import os

_args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_args.add_argument("--steps", type=int, default=300, help="training steps per timed run (default 300)")
_args.add_argument("--threads", type=int, default=1, help="BLAS threads for both loops (default 1)")
_args.add_argument("--rounds", type=int, default=9, help="alternating timed runs of each loop (default 9)")
ARGS = _args.parse_args()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)  # before NumPy loads BLAS

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import backprop_cli  # noqa: E402
from backprop_cli.training.loop import train  # noqa: E402
from backprop_cli.training.optimizers import make_optimizer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GRAPH = ROOT / "graphs" / "two_layer.yaml"
sys.path.insert(0, str(ROOT / "tests"))
import lecture_numpy  # noqa: E402  (the lecture's NumPy lines, shared with the tests)

TARGET = 1.2
ADAM_TARGET = 1.2  # an Adam step vs an SGD step plus the NumPy Adam update written by hand
CLOCK = time.process_time if ARGS.threads == 1 else time.perf_counter


def numpy_adam(params, grads, steps, lr=1e-4, b1=0.9, b2=0.999, eps=1e-8):
    """The Adam update written by hand in NumPy (the lecture's formula), on fixed gradients."""
    s = {k: np.zeros_like(v) for k, v in params.items()}
    r = {k: np.zeros_like(v) for k, v in params.items()}
    for t in range(1, steps + 1):
        for k, theta in params.items():
            g = grads[k]
            s[k] = b1 * s[k] + (1 - b1) * g
            r[k] = b2 * r[k] + (1 - b2) * g * g
            theta -= lr / np.sqrt(r[k] / (1 - b2**t) + eps) * (s[k] / (1 - b1**t))


def adam_ratio(graph) -> None:
    """An Adam step against an SGD step plus the NumPy Adam update: the update's own cost (target ≤ 1.2)."""
    steps = ARGS.steps
    params = {k: graph.leaf_values[k].copy() for k in graph.params}
    grads = {k: np.ones_like(v) for k, v in params.items()}
    runs = {
        "sgd": lambda: train(graph, make_optimizer("sgd", lr=1e-4), steps),
        "adam": lambda: train(graph, make_optimizer("adam", lr=1e-4), steps),
        "numpy_adam": lambda: numpy_adam(params, grads, steps),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()
    for _ in range(ARGS.rounds):
        for name, run in runs.items():
            start = CLOCK()
            run()
            times[name].append(CLOCK() - start)
    med = {name: statistics.median(t) / steps * 1e3 for name, t in times.items()}
    ratio = med["adam"] / (med["sgd"] + med["numpy_adam"])
    print(
        f"  Adam step {med['adam']:.3f} ms; SGD step {med['sgd']:.3f} ms + NumPy Adam update {med['numpy_adam']:.3f} ms"
        f" -> ratio {ratio:.3f} (target ≤ {ADAM_TARGET}: {'met' if ratio <= ADAM_TARGET else 'MISSED'})"
    )


def main() -> None:
    graph = backprop_cli.load(str(GRAPH))
    v = graph.leaf_values
    steps = ARGS.steps
    loops = {
        "numpy": lambda: lecture_numpy.loop(v["x"], v["y"], v["w1"], v["w2"], steps)[0][-1],
        "backprop": lambda: train(graph, make_optimizer("sgd", lr=1e-4), steps).losses[-1],
    }
    last = {name: loop() for name, loop in loops.items()}  # warm-up, and the check that both train alike
    assert abs(last["backprop"] - last["numpy"]) <= 1e-9 * abs(last["numpy"]), last
    times: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(ARGS.rounds):
        for name, loop in loops.items():
            start = CLOCK()
            loop()
            times[name].append(CLOCK() - start)
    best = {name: min(t) for name, t in times.items()}
    paired = statistics.median(b / n for b, n in zip(times["backprop"], times["numpy"], strict=True))
    ratio = best["backprop"] / best["numpy"]
    clock = "CPU time" if ARGS.threads == 1 else "wall-clock time"
    print(f"two-layer SGD, BLAS threads {ARGS.threads}, {ARGS.rounds} alternating runs of {steps} steps each, {clock}")
    for name in loops:
        print(
            f"  {name:8s} best {steps / best[name]:,.0f} steps/s, median {steps / statistics.median(times[name]):,.0f}"
        )
    print(
        f"  ratio backprop/numpy time {ratio:.3f}, median of runs {paired:.3f} "
        f"(target ≤ {TARGET}: {'met' if ratio <= TARGET else 'MISSED'}); loss after {steps} steps {last['numpy']:.6g}"
    )


if __name__ == "__main__":
    main()
    adam_ratio(backprop_cli.load(str(GRAPH)))
