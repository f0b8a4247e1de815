"""Benchmark of issue 20, run by hand: `python3 bench/plugin_reply_bench.py [MiB ...]` (default 64 256).

A plugin forward whose output is N MiB: how much memory backprop's own process takes to receive it. Each size
runs in a fresh process that loads the graph (the forward runs once on zeros to learn the output's shape) and
evaluates it (once more), and reports its peak resident memory (ru_maxrss) above what it held before loading,
as a ratio to the output's size. The reply is read straight into one buffer, and the node's value is a view of
it. Target: 1.1 at most. Measured (2 cores): 1.05 at 64 MiB, 1.01 at 256 MiB; before issue 20, 2.03 and 2.01
(a reply was gathered chunk by chunk, then copied), and gradcheck's path peaked at 4× (a 512 MiB reply, 2 GiB).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = """import numpy as np

def f(x):
    return np.ones(SIZE) * x.sum()

def b(g, x):
    return (np.full(x.shape, g.sum()),)
"""
GRAPH = "ops:\n  k: {module: m.py, forward: f, backward: b}\ninputs: {x: [1.0, 2.0]}\nnodes:\n  y: k(x)\noutput: y\n"
PROBE = """import resource, sys
from backprop_cli import load
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
graph = load(sys.argv[1], allow_python=True)
values = graph.forward()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * 1024)
"""


def peak(mib: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "m.py").write_text(MODULE.replace("SIZE", str(mib * 2**20 // 8)))
        (Path(folder) / "g.yaml").write_text(GRAPH)
        result = subprocess.run(
            [sys.executable, "-c", PROBE, str(Path(folder) / "g.yaml")],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        return int(result.stdout.split()[-1])


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [64, 256]
    print(f"{'output':>10}  {'backprop peak above start':>26}  {'ratio':>6}")
    for mib in sizes:
        grown = peak(mib)
        print(f"{mib:>6} MiB  {grown / 2**20:>22.0f} MiB  {grown / (mib * 2**20):>6.2f}")


if __name__ == "__main__":
    main()
