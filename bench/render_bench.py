"""Benchmark of issues 4 and 16, run by hand: `python3 bench/render_bench.py [--quick]`.

Wall time of `backprop render` (the command, in a subprocess, as a user runs it) on generated graphs
up to 1,000 gates, in the two hard cases for dot's layout: a chain whose five params are each read
by every fifth node, and one param read by every node (a wire from one box to every column). Above
200 gates render draws each node's gates as one box (said on stderr; --expand draws every gate) and
draws a leaf read all along once per wire. Also the page (-o .html), the lecture's two-layer
network and --steps. Each time is printed with its ratio to `render circuit` in the same run
(start-up and one small dot run: the floor). Target (issue 16): every graph up to 1,000 gates
under 10 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 10.0  # seconds, any graph up to 1,000 gates


def chain(gates: int) -> str:
    """a_i = a_{i-1} · w_{i mod 5} + sin(a_{i-2}): three gates per node."""
    nodes = ["  a0: x * w0", "  a1: x * w1"]
    nodes += [f"  a{i}: a{i - 1} * w{i % 5} + sin(a{i - 2})" for i in range(2, gates // 3 + 2)]
    params = ", ".join(f"w{k}: 0.{k + 1}" for k in range(5))
    return "\n".join(["inputs: {x: 0.5}", f"params: {{{params}}}", "nodes:", *nodes, f"output: a{gates // 3 + 1}\n"])


def one_param(gates: int) -> str:
    """s_i = w · s_{i-1} + tanh(s_{i-1}): the one param w feeds every node."""
    nodes = ["  s0: w * x"] + [f"  s{i}: w * s{i - 1} + tanh(s{i - 1})" for i in range(1, gates // 3)]
    return "inputs: {x: 0.5}\nparams: {w: 0.9}\nnodes:\n" + "\n".join(nodes) + f"\noutput: s{gates // 3 - 1}\n"


def single_gates(gates: int) -> str:
    """a_i = a_{i-1} · w and tanh, alternating: one gate per node, so nothing collapses."""
    nodes = ["  a0: x * w"] + [f"  a{i}: {f'a{i - 1} * w' if i % 2 else f'tanh(a{i - 1})'}" for i in range(1, gates)]
    return "inputs: {x: 0.5}\nparams: {w: 0.9}\nnodes:\n" + "\n".join(nodes) + f"\noutput: a{gates - 1}\n"


def wide(gates: int) -> str:
    """Half the gates read the same x and w (u_i = w·x), the other half sum them up in a tree."""
    nodes = [f"  u{i}: w * x" for i in range(gates // 2)]
    level, k = [f"u{i}" for i in range(gates // 2)], 0
    while len(level) > 1:
        pairs = [(level[j], level[j + 1]) for j in range(0, len(level) - 1, 2)]
        nodes += [f"  t{k + j}: {a} + {b}" for j, (a, b) in enumerate(pairs)]
        level = [f"t{k + j}" for j in range(len(pairs))] + (level[-1:] if len(level) % 2 else [])
        k += len(pairs)
    return "inputs: {x: 0.5}\nparams: {w: 0.9}\nnodes:\n" + "\n".join(nodes) + f"\noutput: {level[0]}\n"


def timed(*args: str, repeats: int = 1) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "backprop_cli", "render", *args], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    quick = "--quick" in sys.argv
    sizes = (200, 1000) if quick else (200, 300, 500, 1000)
    with tempfile.TemporaryDirectory() as folder:
        runs: list[tuple[str, list[str]]] = []
        for gates in sizes:
            shapes = [("chain, 5 params", chain(gates)), ("one param feeds all", one_param(gates))]
            if gates == 1000:
                shapes += [("one gate per node", single_gates(gates)), ("wide tree", wide(gates))]
            for kind, text in shapes:
                graph = Path(folder) / f"{kind[:3]}{gates}.yaml"
                graph.write_text(text)
                runs.append((f"{gates} gates, {kind}, svg", [str(graph), "-o", f"{folder}/g.svg"]))
                if gates == 1000 and kind in ("chain, 5 params", "one param feeds all"):
                    runs.append((f"{gates} gates, {kind}, --expand", [str(graph), "-o", f"{folder}/g.svg", "--expand"]))
        runs += [
            ("two_layer (64×1000 tensors), svg", ["two_layer", "-o", f"{folder}/two_layer.svg"]),
            ("npfl114_relu, png", ["npfl114_relu", "-o", f"{folder}/n.png"]),
            ("npfl114_relu, html page", ["npfl114_relu", "-o", f"{folder}/n.html"]),
            ("npfl114_relu --steps (20 frames)", ["npfl114_relu", "--steps", f"{folder}/frames"]),
        ]
        floor = timed("circuit", "-o", f"{folder}/circuit.svg", repeats=3)
        print(f"{'render circuit (the floor)':<44} {floor:6.2f} s   1.0×")
        worst = 0.0
        for what, args in runs:
            seconds = timed(*args)
            if "gates" in what:
                worst = max(worst, seconds)
            print(f"{what:<44} {seconds:6.2f} s {seconds / floor:5.1f}×")
        verdict = "met" if worst < TARGET else "MISSED"
        print(f"slowest generated graph: {worst:.2f} s; target under {TARGET:g} s: {verdict}")


if __name__ == "__main__":
    main()
