"""A fuzz harness for the loader (issue 5): mutated graph files never raise anything but the project's errors.

In the suite, hypothesis drives a bounded number of mutations of the corpus (tests/hostile/ and the
example graphs). By hand, for a fixed time, with a count of executions at the end:

    python3 tests/test_fuzz_loader.py --seconds 600

A crash of the C parser would kill the process, so the long run shows it as a non-zero exit with
no summary line.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import backprop_cli
from backprop_cli.errors import BackpropError

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [
    p.read_bytes() for p in sorted((ROOT / "tests" / "hostile").glob("*.yaml")) + sorted(ROOT.glob("graphs/*.yaml"))
]
TOKENS = [b"[", b"]", b"{", b"}", b"&a ", b"*a", b"!!python/object ", b"!x ", b": ", b"- ", b"? ", b"\n", b"\n  "]
TOKENS += [b"'", b'"', b"#", b",", b"---\n", b"|\n", b"\t", b"\x00", b"\xff", b"\xc3", b"(", b")", b"**", b"@"]
TOKENS += [b"1e999", b".nan", b"-", b"sum(", b"exp(", b"shape: [", b"init: normal", b"axis=", b"[" * 80]
TOKENS += [b" > ", b" <= ", b"==", b" & ", b" | ", b"~", b" if ", b" else ", b"where(", b"[true, false]", b"range("]
TOKENS += [b"len(", b"[[0, 1], [2]]", b"[0, 1]", b"x[x > 0]"]  # literals, masks, index arrays (issue 24)


def mutate(data: bytes, rng: random.Random) -> bytes:
    """A few random edits: insert a token, flip a byte, delete or duplicate a slice."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        at = rng.randint(0, len(out))
        choice = rng.random()
        if choice < 0.45:
            out[at:at] = rng.choice(TOKENS)
        elif choice < 0.65 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif choice < 0.85:
            del out[at : at + rng.randint(1, 20)]
        else:
            out[at:at] = out[at : at + rng.randint(1, 200)] * rng.randint(1, 4)
    return bytes(out)


def load(data: bytes) -> None:
    """The property: the loader succeeds or raises the project's own error, nothing else."""
    try:
        graph = backprop_cli.loads(data, "fuzz.yaml")
    except BackpropError:
        return
    try:
        graph.forward()
    except BackpropError:
        pass


@settings(max_examples=800, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
@given(st.sampled_from(SEEDS), st.randoms(use_true_random=False))
def test_mutated_graph_files_load_or_fail_cleanly(seed, rng):
    load(mutate(seed, rng))


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=400))
def test_random_bytes_load_or_fail_cleanly(data):
    load(data)


def main(seconds: float) -> None:
    rng = random.Random(0)
    count, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        load(mutate(rng.choice(SEEDS), rng))
        count += 1
    print(f"{count:,} executions in {seconds:g} s, no crash")


if __name__ == "__main__":
    main(float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 60.0)
