"""Benchmark of issue 20 (loader scale), run by hand: `python3 bench/loader_bench.py [--quick]`.

`backprop trace` in a subprocess (as a user runs it: start-up included) on files at the documented
limits (docs/limits.md), each time printed as CPU seconds, peak memory, and its ratio to a baseline in
the same run:

- graph files: a chain of 25,000 nodes (25,000 gates, the gate limit), a chain of 25,000 nodes with a
  list where its last node belongs (reported before any expression is parsed), a list of 49,990 numbers
  with text as its last element, and a 100,000-node file (refused on a count of lines). Baseline: `trace circuit`
  (start-up and a tiny graph: the floor).
- a CSV of 10,000,000 rows of two numbers (--quick: 1,000,000). Baseline: numpy.loadtxt of the same
  file in a process of its own (numpy's C parser alone).

Before issue 20: 490,000 nodes took 77 s and 1.7 GiB; a list of 100,000 numbers with a bad last one
2.8 s of CPU (the hostile corpus allows 2 s); the 10M-row CSV 31 s of CPU and 2.5 GB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """(CPU seconds, peak MiB, exit code) of one child process."""
    script = (
        "import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True, cwd=cwd)
    cpu, mib, code = out.stdout.split()
    return float(cpu), float(mib), int(code)


def chain(n: int, late_list: bool = False) -> str:
    lines = ["inputs: {x: 1}", "nodes:", "  n0: x * 2"] + [f"  n{i}: n{i - 1} * 1.0001" for i in range(1, n)]
    if late_list:
        lines.append(f"  bad: [n{n - 1}, 1]")
    return "\n".join([*lines, f"output: n{n - 1}\n"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 1,000,000-row CSV instead of 10,000,000")
    args = parser.parse_args()
    backprop = [sys.executable, "-m", "backprop_cli", "trace"]
    rows = 1_000_000 if args.quick else 10_000_000
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        late_list = "inputs: {x: [" + "1.25, " * 49_990 + "oops]}\nnodes: {f: sum(x)}\noutput: f\n"
        files = {
            "chain, 25,000 nodes (25,000 gates)": chain(25_000),
            "25,000 nodes, a list as the last": chain(25_000, late_list=True),
            "49,990 numbers, text last": late_list,
            "100,000 nodes (refused)": chain(100_000),
        }
        for k, text in enumerate(files.values()):
            (work / f"g{k}.yaml").write_text(text)
        with (work / "big.csv").open("w") as stream:
            stream.write("a,b\n")
            for start in range(0, rows, 100_000):
                stream.write("".join(f"{k * 0.001:.6f},{k % 7}\n" for k in range(start, start + 100_000)))
        (work / "csv.yaml").write_text("inputs: {x: {file: big.csv}}\nnodes: {f: sum(x)}\noutput: f\n")

        floor, floor_mib, _ = measure([*backprop, "circuit"], work)
        print(f"baseline: trace circuit  {floor:.2f} s CPU, {floor_mib:.0f} MiB")
        for k, name in enumerate(files):
            cpu, mib, code = measure([*backprop, f"g{k}.yaml"], work)
            print(f"{name:<40} exit {code}  {cpu:6.2f} s CPU ({cpu / floor:5.1f}× baseline)  {mib:6.0f} MiB")
        numpy_alone = [sys.executable, "-c", "import numpy; numpy.loadtxt('big.csv', delimiter=',', skiprows=1)"]
        base, base_mib, _ = measure(numpy_alone, work)
        cpu, mib, code = measure([*backprop, "csv.yaml"], work)
        print(f"baseline: numpy.loadtxt of {rows:,} rows  {base:.2f} s CPU, {base_mib:.0f} MiB")
        print(f"{f'CSV of {rows:,} rows':<40} exit {code}  {cpu:6.2f} s CPU ({cpu / base:5.2f}× numpy)  {mib:6.0f} MiB")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
