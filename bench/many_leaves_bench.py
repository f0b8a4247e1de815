"""Benchmark of issue 19 (gradcheck stays linear in scalar leaves), run by hand:
`python3 bench/many_leaves_bench.py [--rounds N]`.

`backprop gradcheck` as a process (start-up included, as users run it) on 10,000 scalar leaves summed in
10 sums of 1,000 whose sums are squared (t = Σ s_j * s_j: each s_j read twice by one gate), and on 1,000
and 5,000 leaves of the same shape; each timed against `backprop trace` of the same file in the same round
(the baseline: loading and evaluating the graph, which gradcheck must do too). Printed: wall-clock and CPU
seconds, the ratio of gradcheck to trace, and the target (issue 19: the 10,000-leaf check passes in under
10 s). Linear in leaves means the per-leaf cost (gradcheck - trace) stays about flat from 1,000 to 10,000.

Before issue 19 the 10,000-leaf graph ended in exit 4 (KeyError); after the merge of the kink rule each
scalar leaf's two judgments cost ~0.7 ms (29 s in all) until the rows of all leaves were judged at once.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import alternate_processes, backprop_command, default_env  # noqa: E402


def squared_sums(sums: int, per_sum: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    lines = ["inputs:"]
    lines += [f"  x{j}_{i}: {rng.uniform(-1, 1):.4f}" for j in range(sums) for i in range(per_sum)]
    lines.append("nodes:")
    lines += [f"  s{j}: " + " + ".join(f"x{j}_{i}" for i in range(per_sum)) for j in range(sums)]
    lines.append("  t: " + " + ".join(f"s{j} * s{j}" for j in range(sums)))
    return "\n".join([*lines, "output: t", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env = default_env()
    with tempfile.TemporaryDirectory() as folder:
        for leaves in (1_000, 5_000, 10_000):
            path = Path(folder) / f"sq{leaves}.yaml"
            path.write_text(squared_sums(10, leaves // 10))
            commands = {
                "gradcheck": backprop_command("gradcheck", str(path), "-q"),
                "trace": backprop_command("trace", str(path), "--json"),
            }
            times = alternate_processes(commands, env, args.rounds)
            check, trace = (statistics.median(times[n]["cpu"]) for n in ("gradcheck", "trace"))
            wall = statistics.median(times["gradcheck"]["wall"])
            target = " (target < 10 s: " + ("met" if wall < 10 else "MISSED") + ")" if leaves == 10_000 else ""
            print(
                f"{leaves:>6,} leaves: gradcheck {wall:5.2f} s wall, {check:5.2f} s CPU; trace {trace:5.2f} s CPU; "
                f"ratio {check / trace:4.1f}; per leaf {(check - trace) / leaves * 1e3:.2f} ms{target}"
            )


if __name__ == "__main__":
    main()
