from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

# One BLAS and OpenMP thread per test process (and for the CLIs the tests start): on a shared 2-core machine
# numpy's and torch's thread pools spinning against each other, and against pytest-xdist's other worker, made
# single tests ten times slower. Read when numpy or torch is first imported; an explicit setting wins.
for _pool in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")
if "numpy" in sys.modules:  # a plugin imported it first: limit the pools it has already started
    from threadpoolctl import threadpool_limits

    _ONE_THREAD = threadpool_limits(limits=1)

ROOT = Path(__file__).resolve().parent.parent
GRAPHS = ROOT / "graphs"


@pytest.fixture
def run():
    """Run the CLI in-process: run("trace", "circuit") -> click Result (exit_code, stdout, stderr)."""
    from backprop_cli.cli import main

    def invoke(*args: str, **kwargs):
        return CliRunner().invoke(main, list(args), catch_exceptions=False, **kwargs)

    return invoke


@pytest.fixture
def graph_file(tmp_path):
    """Write a graph file and return its path: graph_file("nodes: ...")."""

    def write(text: str, name: str = "g.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
