from __future__ import annotations

import os
import subprocess
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


class _DotOnce:
    """subprocess for backprop_cli.outputs.graphviz_program: a drawing dot made before, with the same options and
    input, is given again instead of running dot again (dot's output is a function of them; the suite asked for
    ~400 drawings, ~160 of them repeats, at ~35 ms of CPU each). Only successful runs are kept; a test that replaces
    subprocess.run gets its replacement."""

    def __init__(self) -> None:
        self.made: dict[tuple, subprocess.CompletedProcess] = {}

    def __getattr__(self, name: str):
        return getattr(subprocess, name)

    def run(self, command, input=None, **kwargs):
        if subprocess.run is not _SUBPROCESS_RUN:
            return subprocess.run(command, input=input, **kwargs)
        key = (tuple(command), input, tuple(sorted(kwargs.items())))
        if key not in self.made:
            done = _SUBPROCESS_RUN(command, input=input, **kwargs)
            if done.returncode != 0:
                return done
            self.made[key] = done
        return self.made[key]


_SUBPROCESS_RUN = subprocess.run


@pytest.fixture(autouse=True, scope="session")
def _dot_draws_each_drawing_once():
    from backprop_cli.outputs import graphviz_program

    graphviz_program.subprocess = _DotOnce()
    yield
    graphviz_program.subprocess = subprocess


# The longest tests, started first and shared out between two workers by their usual CPU seconds (longest first,
# each to the lighter share): a long test that starts last ends the run alone. pytest-xdist (--dist worksteal)
# hands each worker a contiguous half of the collection, so each share leads one half; with other worker counts
# or without xdist only the order changes. A module named whole keeps its module-scoped fixtures in one worker.
LONG = {
    "tests/test_verdict_properties.py::test_gradcheck_passes_or_finds_a_kink_on_every_correct_graph": 23,
    "tests/test_torch_differential.py::test_values_and_gradients_equal_torch_autograd": 17,
    "tests/test_hostile_students.py::": 14,
    "tests/test_wheel.py::": 12,
    "tests/test_verdict_properties.py::test_the_cli_gives_the_apis_verdict_on_one_file_and_on_several": 8,
    "tests/test_verdict_properties.py::test_a_perturbed_rule_fails_naming_only_leaves_on_its_path": 7,
    "tests/test_verdict_properties.py::test_jacobian_and_hessian_agree_with_the_engine_and_torch": 6,
    "tests/test_generated.py::test_reverse_forward_and_finite_differences_agree": 5,
    "tests/test_derivatives.py::test_generated_graphs_equal_torch_along_a_random_direction": 5,
    "tests/test_hessian_torch.py::test_hessian_by_differences_is_close_to_torch_on_piecewise_graphs": 4,
}
# The tests that import torch (3.5-4.5 s of CPU in each process that does) all lead the first share, so that one
# worker imports it, not both.
TORCH = (
    "tests/test_torch_differential.py::",
    "tests/test_hessian_torch.py::",
    "tests/test_external_examples.py::test_the_example_equals_torch",
    "tests/test_external_examples.py::test_derivatives_equal_torch",
    "tests/test_verdict_properties.py::test_jacobian_and_hessian_agree_with_the_engine_and_torch",
    "tests/test_derivatives.py::test_generated_graphs_equal_torch_along_a_random_direction",
    "tests/test_derivatives_rounding.py::test_transcendental_derivatives_equal_torch",
)


def pytest_collection_modifyitems(config, items):
    def weight(item) -> float:
        return max((seconds for prefix, seconds in LONG.items() if item.nodeid.startswith(prefix)), default=0.0)

    torch = sorted((item for item in items if item.nodeid.startswith(TORCH)), key=lambda item: -weight(item))
    shares: list[list] = [list(torch), []]
    weights = [sum(seconds for prefix, seconds in LONG.items() if prefix.startswith(TORCH)), 0.0]
    for prefix, seconds in sorted(LONG.items(), key=lambda entry: -entry[1]):
        if prefix.startswith(TORCH):
            continue
        lighter = weights.index(min(weights))
        shares[lighter] += [item for item in items if item.nodeid.startswith(prefix)]
        weights[lighter] += seconds
    chosen = {id(item) for share in shares for item in share}
    rest = [item for item in items if id(item) not in chosen]
    first = max(0, len(items) // 2 - len(shares[0]))
    items[:] = shares[0] + rest[:first] + shares[1] + rest[first:]
