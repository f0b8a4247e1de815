"""Benchmark of `train --animate`, run by hand: `python3 bench/animate_bench.py [--rounds R]`.

The race of rosenbrock's example (sgd, momentum and adam, 40 steps: 40 frames) animated as the .html page and as
the .gif, in this process. The gif draws each frame once and keeps its pixels: the floor of an animation. The
page (matplotlib's HTML player) also encodes each frame as a PNG. Printed: CPU time per frame of each, and their
ratio (html / gif). Target ≤ 1.3: the page draws each frame once too. Measured 1.0 (0.24 s a frame); before,
2.05: FuncAnimation redrew the figure after every frame for a window on screen, and each frame's savefig drew it
once more for the placeholder layout engine that tight_layout leaves behind.

Method: both warmed up once; the rounds alternate the two, so the machine's noise hits both alike; the ratio is
best against best, with the median of the rounds' ratios beside it.
"""

from __future__ import annotations

import argparse
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import statistics  # noqa: E402
import time  # noqa: E402

import backprop_cli  # noqa: E402
from backprop_cli.outputs.formats.plots import animate_runs  # noqa: E402
from backprop_cli.training.loop import train  # noqa: E402
from backprop_cli.training.optimizers import make_optimizer  # noqa: E402

STEPS = 40
TARGET = 1.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating timed runs of each (default 5)")
    rounds = parser.parse_args().rounds
    graph = backprop_cli.load("rosenbrock")
    runs = [train(graph, make_optimizer(name, lr=lr), STEPS) for name, lr in [("sgd", 1e-3), ("momentum", 1e-3)]]
    runs.append(train(graph, make_optimizer("adam", lr=0.1), STEPS))
    times: dict[str, list[float]] = {"html": [], "gif": []}
    for fmt in times:
        animate_runs(graph, runs, fmt)  # warm-up: matplotlib's imports, fonts
    for _ in range(rounds):
        for fmt, spent in times.items():
            start = time.process_time()
            animate_runs(graph, runs, fmt)
            spent.append((time.process_time() - start) / STEPS)
    for fmt, spent in times.items():
        print(f"{fmt:4s} {1000 * min(spent):6.1f} ms of CPU a frame (best of {rounds})")
    ratios = [h / g for h, g in zip(times["html"], times["gif"], strict=True)]
    best = min(times["html"]) / min(times["gif"])
    verdict = "ok" if best <= TARGET else "OVER"
    print(f"html / gif: {best:.2f} (median of rounds {statistics.median(ratios):.2f}); target <= {TARGET}: {verdict}")


if __name__ == "__main__":
    main()
