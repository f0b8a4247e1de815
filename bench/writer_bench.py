"""Benchmark of writing a graph back to graph-file text, run by hand: `python3 bench/writer_bench.py [--rounds R]`.

`backprop_cli.dumps` of the lecture's two-layer network (101,000 numbers inline; `train -o` puts values that large
in .npy files, but the API writes what it is given), against json.dumps of the same document (the C encoder: the
floor of writing these numbers as text), in this process, CPU time. Target ratio ≤ 15. Measured 8-11; PyYAML's own
emitter, used before, 43 (9 s): dumps now uses libyaml's emitter (CSafeDumper), which writes the same text.

Method: the rounds alternate the two; the ratio is best against best, with the median of the rounds' ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import backprop_cli
from backprop_cli.fileformat.writer import dumps, to_document

TARGET = 15.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating timed runs of each (default 3)")
    rounds = parser.parse_args().rounds
    graph = backprop_cli.load("two_layer")
    document = to_document(graph)
    times: dict[str, list[float]] = {"dumps": [], "json.dumps": []}
    for _ in range(rounds):
        for name, write in (("dumps", lambda: dumps(graph)), ("json.dumps", lambda: json.dumps(document))):
            start = time.process_time()
            write()
            times[name].append(time.process_time() - start)
    for name, spent in times.items():
        print(f"{name:10s} {min(spent):6.2f} s of CPU (best of {rounds})")
    ratios = [d / j for d, j in zip(times["dumps"], times["json.dumps"], strict=True)]
    best = min(times["dumps"]) / min(times["json.dumps"])
    verdict = "ok" if best <= TARGET else "OVER"
    print(
        f"dumps / json.dumps: {best:.1f} (median of rounds {statistics.median(ratios):.1f}); target <= {TARGET:g}: {verdict}"
    )


if __name__ == "__main__":
    main()
