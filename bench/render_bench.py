"""Benchmark of issue 4, run by hand: `python3 bench/render_bench.py [gates]`.

Wall time of `backprop render` (the command, in a subprocess, as a user runs it) on a generated
graph of about 300 gates (a chain whose five params are each read by every fifth node: long
wires and wide forks, the hard case for dot's layout), on the lecture's two-layer network, and
of `--steps` on NPFL114's ReLU network. Target: the 300-gate graph in a few seconds.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path


def chain(gates: int) -> str:
    """a_i = a_{i-1} · w_{i mod 5} + sin(a_{i-2}): three gates per node."""
    nodes = ["  a0: x * w0", "  a1: x * w1"]
    nodes += [f"  a{i}: a{i - 1} * w{i % 5} + sin(a{i - 2})" for i in range(2, gates // 3 + 2)]
    params = ", ".join(f"w{k}: 0.{k + 1}" for k in range(5))
    return "\n".join(["inputs: {x: 0.5}", f"params: {{{params}}}", "nodes:", *nodes, f"output: a{gates // 3 + 1}\n"])


def timed(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "backprop_cli", "render", *args], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    gates = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory() as folder:
        graph = Path(folder) / "chain.yaml"
        graph.write_text(chain(gates))
        runs = [
            (f"{gates}-gate chain, svg", [str(graph), "-o", f"{folder}/chain.svg"]),
            (f"{gates}-gate chain, png", [str(graph), "-o", f"{folder}/chain.png"]),
            (f"{gates}-gate chain, dot text only", [str(graph), "-o", f"{folder}/chain.dot"]),
            ("two_layer (64×1000 tensors), svg", ["two_layer", "-o", f"{folder}/two_layer.svg"]),
            ("two_layer, png", ["two_layer", "-o", f"{folder}/two_layer.png"]),
            ("circuit, svg", ["circuit", "-o", f"{folder}/circuit.svg"]),
            ("npfl114_relu --steps (20 frames)", ["npfl114_relu", "--steps", f"{folder}/frames"]),
        ]
        for what, args in runs:
            print(f"{what:<36} {timed(*args):6.2f} s")


if __name__ == "__main__":
    main()
