"""Benchmark of issue 25, run by hand: `python3 bench/worksheet_bench.py [--quick]`.

`backprop worksheet` for a class of 200 (the done-when: "in a few seconds"), as a user runs it (a
subprocess), on the bundled relu_versions (a version is accepted about 1 draw in 17: one ReLU dead, two
alive, a bound on a gradient) and on the test suite's drawn circuit (about 1 in 3), as tables alone (--format md
--no-diagram, no Graphviz), as Markdown with the graph drawn beside each sheet (--format md: ID.svg and
ID.key.svg, 2 dot runs per student) and drawn (--format svg, 2 dot runs per student). Each is printed with its ratio to the floor
in the same run: `backprop trace` of the same graph once (start-up, loading, one draw of the file's own
version). Then, in-process, the cost of one version (the draws until one is accepted) and of grading a
class's answers.csv. Target: 200 students under 5 s as tables alone, on one core.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TARGET = 5.0  # seconds for 200 students, as tables
BACKPROP = [sys.executable, "-m", "backprop_cli"]


def timed(args: list[str]) -> tuple[float, float]:
    """(wall, CPU of the child) seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    quick = "--quick" in sys.argv
    students = 50 if quick else 200
    from test_variants import CIRCUIT

    with tempfile.TemporaryDirectory() as tmp:
        place = Path(tmp)
        roster = place / "roster.csv"
        roster.write_text("id\n" + "".join(f"s{i:03d}\n" for i in range(students)))
        circuit = place / "drawn_circuit.yaml"
        circuit.write_text(CIRCUIT)
        print(f"backprop worksheet, {students} students (wall s / CPU s, ratio to the floor: trace once)")
        for graph in ("relu_versions", str(circuit)):
            floor = timed([*BACKPROP, "trace", graph])
            for fmt, more in (("md", ["--no-diagram"]), ("md", []), ("svg", [])):
                if more == [] and quick:
                    continue
                out = place / f"out-{Path(graph).stem}-{fmt}{len(more)}"
                args = [*BACKPROP, "worksheet", graph, "--students", str(roster), "--secret", "k", "-o", str(out)]
                wall, cpu = timed([*args, "--format", fmt, *more, "-q", "--force"])
                mark = "  (target < 5 s)" if more else ""
                shown = f"{fmt} {' '.join(more)}" if more else f"{fmt} (drawn)" if fmt == "md" else fmt
                print(
                    f"  {Path(graph).stem:14} {shown:16}  {wall:6.2f} s wall  {cpu:6.2f} s CPU   "
                    f"{wall / floor[0]:5.1f}x the floor ({floor[0]:.2f} s){mark}"
                )
                if more:
                    wall, cpu = timed(
                        [*BACKPROP, "gradcheck", graph, "--secret", "k", "--answers", str(out / "answers.csv")]
                    )
                    print(f"  {'':14} grading answers.csv: {wall:6.2f} s wall  {cpu:6.2f} s CPU")

    import backprop_cli
    from backprop_cli.fileformat.variants import version

    for name in ("relu_versions", "circuit-drawn"):
        graph = backprop_cli.load(name) if name == "relu_versions" else backprop_cli.loads(CIRCUIT, "c.yaml")
        start = time.perf_counter()
        for i in range(students):
            version(graph, f"s{i}", "k")
        each = (time.perf_counter() - start) / students
        print(f"  one version of {name}: {each * 1e3:.1f} ms (draws until accepted, in-process)")


if __name__ == "__main__":
    main()
