"""Benchmark of issue 12, run by hand: `python3 bench/plugin_batch_bench.py [files]`.

Plugin ops run in a worker process per file (fileformat/sandbox.py). This times one
`backprop gradcheck --allow-python` over 40 homework folders (each with the two-layer net of
tests/plugins: affine, ReLU and softmax loss from the student's layers.py), against one
`backprop gradcheck` over 40 small built-in graphs without plugin ops, both as users run them
(a subprocess each, the best of three). A third batch is the same two-layer net written with
built-in ops (x @ w1 + b1, relu, cross_entropy): plugin against built-in isolates what the workers
cost. Wall time depends on how busy the machine is (each round trip to a worker is a context
switch); CPU time (the command and its workers, user + system) much less, so both are shown.
Targets: the plugin batch at most 3 s; the plain batch about 0.6 s.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAIN = ["circuit", "gates", "sigmoid_neuron", "sin_fork", "saddle", "beale", "rosenbrock", "relu_layer"]


def best_of(command: list[str], repeats: int = 3) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its workers), each the best of repeats."""
    walls, cpus = [], []
    for _ in range(repeats):
        before = os.times()
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, cwd=ROOT)
        walls.append(time.perf_counter() - start)
        after = os.times()
        cpus.append(after.children_user + after.children_system - before.children_user - before.children_system)
        if result.returncode not in (0, 1):
            raise SystemExit(f"{command[:4]}...: exit {result.returncode}: {result.stderr.decode()[-500:]}")
    return min(walls), min(cpus)


def builtin_twin() -> str:
    """tests/plugins/net.yaml with the student's layers replaced by built-in ops."""
    text = (ROOT / "tests" / "plugins" / "net.yaml").read_text()
    text = "\n".join(
        line
        for line in text.splitlines()
        if not line.startswith(("ops:", "  affine:", "  relu_layer:", "  softmax_loss:"))
    )
    for old, new in (
        ("affine(x, w1, b1)", "x @ w1 + b1"),
        ("relu_layer(a1)", "relu(a1)"),
        ("affine(h1, w2, b2)", "h1 @ w2 + b2"),
        ("softmax_loss(scores, y)", "cross_entropy(scores, y)"),
    ):
        text = text.replace(old, new)
    return text + "\n"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    with tempfile.TemporaryDirectory() as folder:
        plugin_files = []
        for k in range(count):
            home = Path(folder) / f"student{k:02d}"
            home.mkdir()
            shutil.copy(ROOT / "tests" / "plugins" / "layers.py", home / "layers.py")
            shutil.copy(ROOT / "tests" / "plugins" / "net.yaml", home / "hw.yaml")
            plugin_files.append(str(home / "hw.yaml"))
        plain_files = [str(ROOT / "graphs" / f"{PLAIN[k % len(PLAIN)]}.yaml") for k in range(count)]
        twin = Path(folder) / "builtin.yaml"
        twin.write_text(builtin_twin())
        cli = [sys.executable, "-m", "backprop_cli", "gradcheck", "-q"]
        rows = [
            (f"{count} plugin-op files (two-layer net, layers.py)", best_of([*cli, *plugin_files, "--allow-python"])),
            (f"{count} small files without plugin ops", best_of([*cli, *plain_files])),
            (f"{count} x the same net with built-in ops", best_of([*cli, *[str(twin)] * count])),
            ("backprop --version (start-up alone)", best_of([sys.executable, "-m", "backprop_cli", "--version"])),
        ]
    for label, (wall, cpu) in rows:
        print(f"{label:<48} wall {wall:5.2f} s   cpu {cpu:5.2f} s")
    (plugin_wall, plugin_cpu), (plain_wall, plain_cpu), (twin_wall, twin_cpu), _ = (r for _, r in rows)
    print(f"ratio plugin / small plain files: wall {plugin_wall / plain_wall:.2f}, cpu {plugin_cpu / plain_cpu:.2f}")
    print(f"ratio plugin / built-in twin:     wall {plugin_wall / twin_wall:.2f}, cpu {plugin_cpu / twin_cpu:.2f}")
    print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
