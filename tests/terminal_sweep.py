"""Every bundled example on an 80-column pseudo-terminal (script(1)): trace, trace --explain, gradcheck,
ops. Prints the lines where a number or a word is cut with `…`; exit 1 if there is one.

    python3 tests/terminal_sweep.py        # ~1 minute; tests/test_terminal_output.py runs two examples
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
CUT = re.compile(r"[\w.)\]]…")


def main() -> int:
    backprop = f"{shlex.quote(sys.executable)} -m backprop_cli"
    commands = [f"{backprop} ops"]
    for graph in sorted((ROOT / "graphs").glob("*.yaml")):
        for command in ("trace", "trace --explain", "gradcheck"):
            commands.append(f"{backprop} {command} {shlex.quote(str(graph))}")
    shell = "stty cols 80; " + "; ".join(f"echo '=== {c}'; {c}" for c in commands)
    out = subprocess.run(["script", "-qc", shell, "/dev/null"], capture_output=True, text=True, cwd=ROOT).stdout
    current, bad = "", []
    for line in ANSI.sub("", out).splitlines():
        if line.startswith("=== "):
            current = line[4:]
        elif CUT.search(line):
            bad.append(f"{current}: {line}")
    print("\n".join(bad) or f"{len(commands)} commands on 80 columns: nothing cut")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
