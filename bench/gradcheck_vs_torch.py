"""gradcheck on the two-layer network (101,000 parameters) against torch.autograd.gradcheck, same weights.

    python3 bench/gradcheck_vs_torch.py            # both comparisons (the full one takes a few minutes)
    python3 bench/gradcheck_vs_torch.py --auto     # only the auto-mode comparison

1. Auto mode, whole processes (what a user or an autograder waits for): `backprop gradcheck two_layer`
   against a script that imports torch and runs gradcheck(fast_mode=True) on w1 and w2. Runs are
   interleaved; medians of REPEATS. Target: backprop ≤ 1/3 of torch.
2. Full mode, one process: every element of w1 and w2 (backprop --mode full --wrt w1,w2) against
   torch's gradcheck(fast_mode=False). Target: backprop ≤ 1/2 of torch.
Needs torch (pip install torch==2.13.0). Both sides use the machine's default BLAS threads.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 5
TORCH_SCRIPT = """
import sys, numpy as np, torch
from torch.autograd import gradcheck
d = np.load(sys.argv[1])
x, y = torch.tensor(d["x"]), torch.tensor(d["y"])
w1 = torch.tensor(d["w1"], requires_grad=True)
w2 = torch.tensor(d["w2"], requires_grad=True)
def loss(w1, w2):
    return ((torch.sigmoid(x @ w1) @ w2 - y) ** 2).sum()
assert gradcheck(loss, (w1, w2), fast_mode=sys.argv[2] == "fast", eps=1e-6, atol=1e-5, rtol=1e-3)
"""


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def auto_mode(weights: Path, script: Path) -> None:
    ours = [sys.executable, "-m", "backprop_cli", "gradcheck", "two_layer", "-q"]
    theirs = [sys.executable, str(script), str(weights), "fast"]
    seconds(ours), seconds(theirs)  # warm the file cache
    a, b = [], []
    for _ in range(REPEATS):
        a.append(seconds(ours))
        b.append(seconds(theirs))
    ratio = statistics.median(a) / statistics.median(b)
    print(
        f"auto mode, whole process: backprop {statistics.median(a):.2f} s (min {min(a):.2f}), "
        f"torch fast gradcheck {statistics.median(b):.2f} s (min {min(b):.2f})"
    )
    print(f"  ratio {ratio:.2f}   target ≤ 0.33   {'met' if ratio <= 1 / 3 else 'NOT met'}")


def full_mode(weights: Path) -> None:
    import torch
    from torch.autograd import gradcheck as torch_gradcheck

    from backprop_cli import gradcheck, load

    graph = load("two_layer")
    start = time.perf_counter()
    report = gradcheck(graph, mode="full", wrt=["w1", "w2"])
    ours = time.perf_counter() - start
    assert report.passed and sum(c.elements for c in report.leaves.values()) == 101_000

    d = np.load(weights)
    x, y = torch.tensor(d["x"]), torch.tensor(d["y"])
    w1, w2 = (torch.tensor(d[k], requires_grad=True) for k in ("w1", "w2"))
    start = time.perf_counter()
    ok = torch_gradcheck(
        lambda w1, w2: ((torch.sigmoid(x @ w1) @ w2 - y) ** 2).sum(),
        (w1, w2),
        fast_mode=False,
        eps=1e-6,
        atol=1e-5,
        rtol=1e-3,
    )
    theirs = time.perf_counter() - start
    assert ok
    ratio = ours / theirs
    methods = sorted({c.method for c in report.leaves.values()})
    print(
        f"full mode, 101,000 elements: backprop {ours:.1f} s ({', '.join(methods)}; max rel error "
        f"{max(c.max_rel_error for c in report.leaves.values()):.1e}), torch slow gradcheck {theirs:.1f} s"
    )
    print(f"  ratio {ratio:.2f}   target ≤ 0.50   {'met' if ratio <= 0.5 else 'NOT met'}")


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from backprop_cli import load

    values = load("two_layer").forward()
    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / "two_layer.npz"
        np.savez(weights, **{k: values[k] for k in ("x", "y", "w1", "w2")})
        script = Path(folder) / "torch_gradcheck.py"
        script.write_text(TORCH_SCRIPT)
        auto_mode(weights, script)
        if "--auto" not in sys.argv:
            full_mode(weights)


if __name__ == "__main__":
    main()
