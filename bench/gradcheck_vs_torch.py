"""gradcheck as users meet it: against torch.autograd.gradcheck, in one process, and at scale.

    python3 bench/gradcheck_vs_torch.py            # everything (the full-mode comparison takes a few minutes)
    python3 bench/gradcheck_vs_torch.py --auto     # skip the full-mode comparison

1. Auto mode, whole processes, in this environment (no BLAS thread settings: backprop chooses its own), with
   another process busy on one core: `backprop gradcheck two_layer -q` against a script that imports torch
   and runs gradcheck(fast_mode=True) on w1 and w2 at the same weights. Target ≤ 0.3 (medians).
2. Auto mode in one process: gradcheck(load("two_layer")), BLAS as the command sets it. Target ≤ 0.08 s.
3. Scale: a sum of 10,000 scalar leaves (target under 10 s), and a chain of 1,500 gates whose gradient
   (~1e-303) underflows the complex step's imaginary parts (target: passes).
4. Full mode, one process: every element of w1 and w2 (--elements full --wrt w1,w2) against torch's
   gradcheck(fast_mode=False). Target ≤ 0.5.
Needs torch for 1 and 4 (pip install torch).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from timing import alternate_processes, backprop_command, busy_core, default_env, ratio_line  # noqa: E402

ROUNDS = 7
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


def auto_processes(weights: Path, script: Path) -> None:
    commands = {
        "backprop": backprop_command("gradcheck", "two_layer", "-q"),
        "torch": [sys.executable, str(script), str(weights), "fast"],
    }
    with busy_core():
        times = alternate_processes(commands, default_env(), ROUNDS, cwd=str(ROOT))
    med = {k: statistics.median(t["wall"]) for k, t in times.items()}
    print(f"1. auto mode, whole processes, another process busy on one core, {ROUNDS} alternating runs (medians)")
    print(f"   backprop gradcheck two_layer {med['backprop']:.2f} s, torch fast gradcheck {med['torch']:.2f} s")
    print(f"   wall-clock {ratio_line(times, 'backprop', 'torch', 0.3, 'wall')}")
    print(f"   CPU time   {ratio_line(times, 'backprop', 'torch', 0.3, 'cpu')}")


def auto_in_process() -> None:
    from backprop_cli import gradcheck, load
    from backprop_cli.commands.threads import choose_blas_threads

    graph = load("two_layer")
    choose_blas_threads(graph)  # as the command does
    gradcheck(graph)  # warm-up
    wall, cpu = [], []
    for _ in range(ROUNDS):
        start, start_cpu = time.perf_counter(), time.process_time()
        report = gradcheck(load("two_layer"))
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    assert report.passed
    median = statistics.median(cpu)
    print(
        f"2. auto mode in one process (load + gradcheck), one BLAS thread: median {median:.3f} s CPU "
        f"(target ≤ 0.08 s: {'met' if median <= 0.08 else 'MISSED'}), {statistics.median(wall):.3f} s wall-clock"
    )


def scale() -> None:
    from backprop_cli import gradcheck, loads

    n = 10_000
    leaves = "".join(f"  x{i}: {0.5 + i / n}\n" for i in range(n))
    chain = "".join(f"  s{i}: s{i - 1} + x{i}\n" for i in range(2, n))
    graph = loads(f"inputs:\n{leaves}nodes:\n  s1: x0 + x1\n{chain}output: s{n - 1}\n")
    start, start_cpu = time.perf_counter(), time.process_time()
    report = gradcheck(graph)
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    assert report.passed and len(report.leaves) == n
    print(
        f"3. a sum of {n:,} scalar leaves: gradcheck {cpu:.1f} s CPU (target under 10 s: "
        f"{'met' if cpu < 10 else 'MISSED'}), {seconds:.1f} s wall-clock"
    )
    gates = "".join(f"  a{i}: " + (f"tanh(a{i - 1})\n" if i % 2 == 0 else f"a{i - 1} * w\n") for i in range(1, 1500))
    deep = loads(f"inputs: {{x: 0.5}}\nparams: {{w: 1.5}}\nnodes:\n  a0: tanh(x)\n{gates}output: a1499\n")
    report = gradcheck(deep)
    print(f"   a chain of 1,500 gates, gradient of x {deep.backward()['x']:.3e}: {report.status} (target: pass)")


def full_mode(weights: Path) -> None:
    import torch
    from torch.autograd import gradcheck as torch_gradcheck

    from backprop_cli import gradcheck, load

    graph = load("two_layer")
    start = time.perf_counter()
    report = gradcheck(graph, mode="full", wrt=["w1", "w2"])  # --elements full on the command line
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
    print(
        f"4. full mode, 101,000 elements: backprop {ours:.1f} s, torch slow gradcheck {theirs:.1f} s: ratio "
        f"{ours / theirs:.2f} (target ≤ 0.5: {'met' if ours / theirs <= 0.5 else 'MISSED'})"
    )


def main() -> None:
    from backprop_cli import load

    try:
        import torch  # noqa: F401
    except ImportError:
        torch = None
    values = load("two_layer").forward()
    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / "two_layer.npz"
        np.savez(weights, **{k: values[k] for k in ("x", "y", "w1", "w2")})
        script = Path(folder) / "torch_gradcheck.py"
        script.write_text(TORCH_SCRIPT)
        if torch is not None:
            auto_processes(weights, script)
        auto_in_process()
        scale()
        if torch is not None and "--auto" not in sys.argv:
            full_mode(weights)


if __name__ == "__main__":
    main()
