"""Benchmarks of issue 2, run by hand: `python3 bench/engine_vs_numpy.py [--threads N] [--rounds R]`.

1. Forward + backward of the lecture's two-layer network (graphs/two_layer.yaml: N=64, D_in=1000,
   H=100, D_out=10) through backprop's engines vs the same computation hand-written in NumPy (the
   lecture's lines), in one process. Target ratio ≤ 1.15. Both sides do the same work: the loss and
   the gradients of w1 and w2, as one training step needs them (`evaluate`, then `reverse_mode` with
   wrt the params). `graph.backward()`, which also computes every node's gradient and x's (64×1000,
   a third matrix product), is shown beside it for information.
2. `backprop trace circuit` process time vs `python -c "import numpy, yaml"`. Target ≤ 1.6. Both
   start with their bytecode cached, as after `pip install`: the runs use a private
   PYTHONPYCACHEPREFIX, filled by a first run of each. Without a cache (PYTHONDONTWRITEBYTECODE=1
   and an editable install) Python compiles backprop's ~30 modules at every start while numpy and
   yaml load theirs from site-packages; that figure is shown for information.

Method: BLAS runs on the same number of threads for both sides (1 unless --threads); each side is
warmed up; the rounds alternate baseline and backprop so the machine's noise hits both alike; the
ratio is best against best (noise only ever adds time), with the median of the rounds' ratios beside it.
On one thread the in-process figures are CPU time (time.process_time: other programs taking the CPU
do not count); with more threads, wall-clock time (BLAS's helper threads spin while they wait).
"""

from __future__ import annotations

import argparse
import os

_args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_args.add_argument("--threads", type=int, default=1, help="BLAS threads for both sides (default 1)")
_args.add_argument("--rounds", type=int, default=15, help="alternating rounds of each benchmark (default 15)")
ARGS = _args.parse_args()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)  # before NumPy loads BLAS; the trace subprocesses inherit it

import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import backprop_cli  # noqa: E402
from backprop_cli.engines.evaluate import evaluate  # noqa: E402
from backprop_cli.engines.reverse_mode import reverse_mode  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GRAPH = ROOT / "graphs" / "two_layer.yaml"
sys.path.insert(0, str(ROOT / "tests"))
import lecture_numpy  # noqa: E402  (the lecture's NumPy lines, shared with the tests)

TARGETS = {"engine": 1.15, "startup": 1.6}


CLOCK = time.process_time if ARGS.threads == 1 else time.perf_counter


def per_call(fn, number: int) -> float:
    start = CLOCK()
    for _ in range(number):
        fn()
    return (CLOCK() - start) / number


def alternate(fns: dict, rounds: int, number: int) -> dict[str, list[float]]:
    """Seconds per call of each function, one figure per round; the functions take turns in every round."""
    for fn in fns.values():  # warm-up: caches, BLAS buffers, backprop's per-graph plans
        per_call(fn, number)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(per_call(fn, number))
    return times


def verdict(times: dict[str, list[float]], base: str, name: str, target: float | None) -> str:
    best = min(times[name]) / min(times[base])
    paired = statistics.median(t / b for t, b in zip(times[name], times[base], strict=True))
    aim = f" (target ≤ {target}: {'met' if best <= target else 'MISSED'})" if target else " (for information)"
    return f"ratio {best:.3f}, median of rounds {paired:.3f}{aim}"


def ms(values: list[float]) -> str:
    return f"best {min(values) * 1e3:.3f} ms, median {statistics.median(values) * 1e3:.3f} ms"


def engine_ratio(rounds: int) -> None:
    graph = backprop_cli.load(str(GRAPH))
    v = graph.leaf_values
    params = set(graph.params)
    fns = {
        "numpy": lambda: lecture_numpy.step(v["x"], v["y"], v["w1"], v["w2"]),
        "backprop": lambda: reverse_mode(graph, evaluate(graph), wrt=params),
        "backward": graph.backward,
    }
    loss, gw1, gw2 = fns["numpy"]()
    grads = fns["backprop"]()
    assert np.allclose(grads["w1"], gw1) and np.allclose(grads["w2"], gw2), "backprop disagrees with NumPy"
    times = alternate(fns, rounds, number=20)
    clock = "CPU time" if ARGS.threads == 1 else "wall-clock time"
    print(f"two-layer forward + backward, BLAS threads {ARGS.threads}, {rounds} rounds of 20 calls, {clock}")
    print(f"  numpy (the lecture's lines):          {ms(times['numpy'])}")
    print(f"  backprop (evaluate + reverse to w1, w2): {ms(times['backprop'])}")
    print(f"    -> {verdict(times, 'numpy', 'backprop', TARGETS['engine'])}")
    print(f"  graph.backward() (every gradient, x's too): {ms(times['backward'])}")
    print(f"    -> {verdict(times, 'numpy', 'backward', None)}")


def process_times(commands: dict[str, list[str]], env: dict[str, str], rounds: int) -> dict[str, list[float]]:
    def run(cmd: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        return time.perf_counter() - start

    for cmd in commands.values():  # warm-up: fills the bytecode cache (when there is one) and the OS's file cache
        run(cmd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            times[name].append(run(cmd))
    return times


def startup_ratio(rounds: int) -> None:
    commands = {
        "base": [sys.executable, "-c", "import numpy, yaml"],
        "trace": [sys.executable, "-m", "backprop_cli", "trace", "circuit"],
    }
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        times = process_times(commands, {**env, "PYTHONPYCACHEPREFIX": cache}, rounds)
    uncached = process_times(commands, {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, rounds)
    print(f"process time, {rounds} alternating runs each (median, the figure the target is about)")
    for label, t in (("bytecode cached, as installed", times), ("no bytecode cache (information)", uncached)):
        base, trace = statistics.median(t["base"]), statistics.median(t["trace"])
        aim = f" (target ≤ {TARGETS['startup']}: {'met' if trace / base <= TARGETS['startup'] else 'MISSED'})"
        print(
            f"  {label}: python -c 'import numpy, yaml' {base * 1e3:.0f} ms, backprop trace circuit "
            f"{trace * 1e3:.0f} ms -> ratio {trace / base:.2f}{aim if t is times else ''}"
        )


if __name__ == "__main__":
    engine_ratio(ARGS.rounds)
    startup_ratio(ARGS.rounds)
