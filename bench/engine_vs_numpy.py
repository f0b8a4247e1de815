"""What users call, timed: the Python API against NumPy, and the start-up of `backprop trace` as a process.

    python3 bench/engine_vs_numpy.py [--rounds R]

1. `g.forward(); g.backward()` on the lecture's two-layer network (graphs/two_layer.yaml: N=64, D_in=1000,
   H=100, D_out=10) against the lecture's NumPy lines extended to every gradient backward() gives: the loss,
   dw1, dw2 and also dx, dy. One BLAS thread for both (set before NumPy loads); CPU time; alternated rounds.
   Target ≤ 1.15. `g.backward(wrt=["w1", "w2"])` after forward against the lecture's own lines (loss, dw1,
   dw2) is shown beside it.
2. `backprop trace circuit` process against `python -c "import numpy, yaml"`, in this environment (minus
   the thread settings of part 1), with another process busy on one core, twice: bytecode cached (as after
   `pip install`; a private PYTHONPYCACHEPREFIX filled by a warm-up run) and not (PYTHONDONTWRITEBYTECODE=1,
   as this repository's development environment runs). Target ≤ 1.4 for both, on the median CPU times.
"""

from __future__ import annotations

import argparse
import os

_args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_args.add_argument("--rounds", type=int, default=15, help="alternating rounds of each benchmark (default 15)")
ARGS = _args.parse_args()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy loads BLAS (the processes of part 2 run without these)

import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from timing import alternate_calls, alternate_processes, backprop_command, busy_core, default_env, ratio_line  # noqa: E402

import backprop_cli  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import lecture_numpy  # noqa: E402  (the lecture's NumPy lines, shared with the tests)

TARGETS = {"api": 1.15, "startup": 1.4}


def numpy_every_gradient(x, y, w1, w2):
    """The lecture's lines (tests/lecture_numpy.py) extended to dx and dy, which backward() also gives."""
    h = 1 / (1 + np.exp(-x.dot(w1)))
    y_pred = h.dot(w2)
    loss = np.square(y_pred - y).sum()
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h.T.dot(grad_y_pred)
    grad_h = grad_y_pred.dot(w2.T)
    grad_z = grad_h * h * (1 - h)
    grad_w1 = x.T.dot(grad_z)
    grad_x = grad_z.dot(w1.T)
    grad_y = -grad_y_pred
    return loss, grad_w1, grad_w2, grad_x, grad_y


def api_ratio(rounds: int) -> None:
    graph = backprop_cli.load("two_layer")
    v = graph.leaf_values
    args = (v["x"], v["y"], v["w1"], v["w2"])

    def every():
        graph.forward()
        return graph.backward()

    def params():
        graph.forward()
        return graph.backward(wrt=["w1", "w2"])

    fns = {
        "numpy": lambda: numpy_every_gradient(*args),
        "api": every,
        "numpy_params": lambda: lecture_numpy.step(*args),
        "api_params": params,
    }
    loss, gw1, gw2, gx, gy = fns["numpy"]()
    grads = every()
    for name, expected in (("w1", gw1), ("w2", gw2), ("x", gx), ("y", gy)):
        assert np.allclose(grads[name], expected), f"backprop disagrees with NumPy on d{name}"
    times = alternate_calls(fns, rounds, number=20)
    ms = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    print(f"two-layer network, one BLAS thread, {rounds} alternating rounds of 20 calls, CPU time (medians)")
    print(f"  NumPy lines, loss and dw1, dw2, dx, dy: {ms['numpy']:.3f} ms")
    print(f"  g.forward(); g.backward():              {ms['api']:.3f} ms")
    print(f"    -> {ratio_line(times, 'api', 'numpy', TARGETS['api'])}")
    print(f"  NumPy lines, loss and dw1, dw2:         {ms['numpy_params']:.3f} ms")
    print(f"  g.forward(); g.backward(wrt=[w1, w2]):  {ms['api_params']:.3f} ms")
    print(f"    -> {ratio_line(times, 'api_params', 'numpy_params', None)}")


def startup_ratio(rounds: int) -> None:
    commands = {"base": [sys.executable, "-c", "import numpy, yaml"], "trace": backprop_command("trace", "circuit")}
    with tempfile.TemporaryDirectory() as cache, busy_core():
        cached = alternate_processes(
            commands, default_env(PYTHONDONTWRITEBYTECODE=None, PYTHONPYCACHEPREFIX=cache), rounds
        )
        uncached = alternate_processes(commands, default_env(PYTHONDONTWRITEBYTECODE="1"), rounds)
    print(f"start-up, {rounds} alternating runs each, another process busy on one core (medians)")
    for label, t in (("bytecode cached", cached), ("no bytecode cache", uncached)):
        base, trace = (statistics.median(t[k]["cpu"]) * 1e3 for k in ("base", "trace"))
        wall = statistics.median(t["trace"]["wall"]) / statistics.median(t["base"]["wall"])
        print(
            f"  {label}: import numpy, yaml {base:.0f} ms CPU; backprop trace circuit {trace:.0f} ms CPU "
            f"-> CPU {ratio_line(t, 'trace', 'base', TARGETS['startup'], 'cpu')}; wall-clock ratio {wall:.2f}"
        )


if __name__ == "__main__":
    api_ratio(ARGS.rounds)
    startup_ratio(ARGS.rounds)
