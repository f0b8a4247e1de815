"""`backprop trace --json` on a wide network, as a process: time and peak memory.

    python3 bench/trace_json_bench.py [--hidden H]

The lecture's two-layer network with H hidden units (default 4000: w1 is 1000×4000), traced to JSON on
stdout (to /dev/null), in this environment. Peak memory is the process's maximum resident set (ru_maxrss),
compared with the bytes of the arrays the document prints (every value and gradient, float64) and with
`python -c "import numpy, yaml"` (the interpreter and libraries alone). Targets: under 5 s; peak memory
under 3× the arrays printed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
import numpy as np  # noqa: E402
from timing import backprop_command, default_env  # noqa: E402


def peak(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak resident MiB) of a child process."""
    script = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True, env=default_env())
    wall, cpu, mib = (float(x) for x in out.stdout.split())
    return wall, cpu, mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=4000)
    hidden = parser.parse_args().hidden
    text = (ROOT / "graphs" / "two_layer.yaml").read_text()
    text = text.replace("[1000, 100]", f"[1000, {hidden}]").replace("[100, 10]", f"[{hidden}, 10]")
    import backprop_cli

    with tempfile.TemporaryDirectory() as folder:
        graph = Path(folder) / "wide.yaml"
        graph.write_text(text)
        g = backprop_cli.load(graph)
        arrays = sum(np.asarray(a).nbytes for part in (g.forward(), g.backward()) for a in part.values())
        del g
        _, _, base = peak([sys.executable, "-c", "import numpy, yaml"])
        wall, cpu, mib = peak(backprop_command("trace", str(graph), "--json"))
    arrays_mib = arrays / 2**20
    print(f"trace --json, two-layer network with H={hidden}: {arrays_mib:.0f} MiB of arrays printed")
    print(
        f"  {wall:.1f} s wall-clock (target under 5 s: {'met' if wall < 5 else 'MISSED'}), {cpu:.1f} s CPU "
        f"({'met' if cpu < 5 else 'MISSED'} on CPU time, the figure that holds on a shared machine)"
    )
    print(
        f"  peak memory {mib:.0f} MiB = {mib / arrays_mib:.2f}× the arrays (target under 3×: "
        f"{'met' if mib < 3 * arrays_mib else 'MISSED'}); Python with numpy and yaml alone: {base:.0f} MiB"
    )


if __name__ == "__main__":
    main()
