"""Differential test against PyTorch (issue 5): on 1,000 generated graphs, every value and gradient as torch.autograd's.

The graphs come from tests/generated_graphs.py: every op of the table, on tensors of small random
shapes (matrices, batches, images, broadcasting, reductions over axes). tests/torch_oracle.py
rebuilds each graph with torch calls on float64 tensors. Compared, within RTOL and ATOL: the value of
every named node and of the output f, and d f / d every leaf (labels have no derivative) and every
named node. A graph counts only once compared: one that backprop refuses (exit 3; the second test
checks torch finds a NaN or inf there too) or that lies within KINK_MARGIN of a kink, where the two
libraries may pick different subgradients, is rejected and another drawn. The test asserts that
≥ MIN_GRAPHS graphs were compared and that together they used every op of the table. The last
tests check the conventions at the kinks themselves, where torch makes the same choice.

Without torch this file is skipped, unless BACKPROP_REQUIRE_TORCH=1 (set by CI), which turns a
missing torch into a failure. Seeds: derandomized, the same graphs every run;
BACKPROP_HYPOTHESIS_SEED=<int> draws others, BACKPROP_HYPOTHESIS_SCALE=<factor> draws more.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from generated_graphs import examples, graphs, hypothesis_run, kink_distance, seed_note
from hypothesis import assume, given, reject

import backprop_cli
from backprop_cli.engines.evaluate import evaluate, operands
from backprop_cli.engines.reverse_mode import reverse_mode
from backprop_cli.errors import EvaluationError
from backprop_cli.ops import OPS

RTOL, ATOL = 1e-9, 1e-12  # float64: torch sums in other orders, ~1e-15 apart
KINK_MARGIN = 1e-6  # far beyond rounding: both libraries are on the same side of every kink
MIN_GRAPHS = 1000
REQUIRE_TORCH = os.environ.get("BACKPROP_REQUIRE_TORCH") == "1"


@pytest.fixture(scope="module")
def oracle():
    """tests/torch_oracle.py: skipped without torch, a failure when BACKPROP_REQUIRE_TORCH=1."""
    try:
        import torch_oracle
    except ImportError as missing:
        if REQUIRE_TORCH:
            pytest.fail(f"BACKPROP_REQUIRE_TORCH=1 but torch cannot be imported: {missing}", pytrace=False)
        pytest.skip(f"torch is not installed ({missing}); pip install torch==2.13.0 (CPU) runs these tests")
    return torch_oracle


def test_the_oracle_maps_every_op(oracle):
    assert set(oracle.TORCH) == set(OPS), f"ops without a torch equivalent: {sorted(set(OPS) - set(oracle.TORCH))}"


def test_values_and_gradients_equal_torch_autograd(oracle):
    drawn, compared, ops = 0, 0, Counter()

    @hypothesis_run(MIN_GRAPHS)
    @given(graphs())
    def compare(generated):
        nonlocal drawn, compared
        drawn += 1
        graph = backprop_cli.loads(generated.text)  # generated graphs type-check by construction
        try:
            values = evaluate(graph)
            grads = reverse_mode(graph, values)
        except EvaluationError:
            reject()
        assume(kink_distance(graph, values) > KINK_MARGIN)
        assume(well_conditioned(graph, generated, values, grads))
        theirs, their_grads = oracle.values_and_gradients(generated)
        where = f"({seed_note()})\n{generated.text}"
        for name, expected in theirs.items():
            np.testing.assert_allclose(values[name], expected, RTOL, ATOL, err_msg=f"value of {name} {where}")
        for name, expected in their_grads.items():
            np.testing.assert_allclose(grads[name], expected, RTOL, ATOL, err_msg=f"d f / d {name} {where}")
        compared += 1
        ops.update(generated.ops())

    compare()
    print(f"compared with torch: {compared} of {drawn} graphs drawn, {len(ops)} of {len(OPS)} ops")
    assert compared >= examples(MIN_GRAPHS), f"only {compared} graphs compared"
    assert not set(OPS) - set(ops), f"ops never compared with torch: {sorted(set(OPS) - set(ops))}"


def well_conditioned(graph, generated, values, grads) -> bool:
    """Whether the graph's values and gradients hold to the comparison's tolerance when every leaf moves by a few
    units in the last place: torch sums in other orders, so where they do not (sin of sinh(94) @ log(x), an argument
    of 1e41: seed 707) the two libraries' numbers differ for no fault of either, and there is nothing to compare."""
    rng = np.random.default_rng(0)
    moved = dict(graph.leaf_values)
    for name in generated.differentiable:
        value = graph.leaf_values[name]
        moved[name] = value * (1 + 1e-15 * rng.uniform(-1, 1, np.shape(value)))
    try:
        again = evaluate(graph, moved)
        again_grads = reverse_mode(graph, again)
    except EvaluationError:
        return False
    compared = [*generated.trees, *generated.differentiable]  # as the test compares them
    return all(np.allclose(again[n], values[n], RTOL / 10, ATOL / 10) for n in generated.trees) and all(
        np.allclose(again_grads[n], grads[n], RTOL / 10, ATOL / 10) for n in compared
    )


def _pow_at_zero(graph, values) -> bool:
    """a ** b at a = 0: d/db = a^b·ln a has no value; torch returns 0 by convention, backprop exit 3."""
    return any(node.op == "pow" and np.any(operands(node, values, graph.dtype)[0] == 0) for node in graph.gates)


def test_an_evaluation_error_is_a_non_finite_number_in_torch_too(oracle):
    """On reckless graphs (log, sqrt, divisions and powers of any sign), backprop refuses a graph (exit 3)
    only where torch's value or gradient is NaN or inf."""
    refused = Counter()

    @hypothesis_run(200)
    @given(graphs(reckless=True))
    def check(generated):
        graph = backprop_cli.loads(generated.text)
        seen = []  # every op's output: a NaN that a later op masks (prelu, relu's slope 0) still stops backprop
        _, their_grads = oracle.values_and_gradients(generated, seen)
        try:
            values = evaluate(graph)
        except EvaluationError:
            finite = all(v.isfinite().all() for v in seen)
            assert not finite, f"backprop refused values that torch finds finite\n{generated.text}"
            refused["values"] += 1
            return
        try:
            reverse_mode(graph, values)
        except EvaluationError:
            assume(not _pow_at_zero(graph, values))
            grads = [*their_grads.values(), *(out.grad.numpy() for out in seen if out.grad is not None)]
            finite = all(np.isfinite(g).all() for g in grads)
            assert not finite, f"backprop refused gradients that torch finds finite\n{generated.text}"
            refused["gradients"] += 1

    check()
    assert refused.total() >= examples(10), f"too few refusals to test: {dict(refused)}"


# ---------------------------------------------------------------- at the kinks themselves

# Where the derivative does not exist each library picks a side; where torch picks the same one, the
# gradients must agree there too. Each case: backprop's expression of x (and y), the same in torch
# (T: tests/torch_oracle.py).
AT_KINKS = [
    ("relu(x)", [0.0, 1.5, -1.5], None, lambda T, x, y: T.torch.relu(x)),  # relu'(0) = 0
    ("leaky_relu(x, alpha=0.3)", [0.0, 2.0], None, lambda T, x, y: T.F.leaky_relu(x, 0.3)),  # slope α at 0
    ("elu(x, alpha=2.0)", [0.0, -1.0], None, lambda T, x, y: T.F.elu(x, 2.0)),  # slope α at 0
    ("prelu(x, y)", [0.0, 1.0, -2.0], [0.25], lambda T, x, y: T.F.prelu(x, y)),  # slope a at 0
    ("abs(x)", [0.0, -1.0], None, lambda T, x, y: T.torch.abs(x)),  # sign(0) = 0
    ("max(x, axis=1)", [[1.0, 1.0, 0.0], [2.0, 2.0, 2.0]], None, lambda T, x, y: T.torch.amax(x, 1)),  # ties split
    ("min(x)", [[1.0, 3.0], [1.0, 1.0]], None, lambda T, x, y: T.torch.amin(x)),  # ties split evenly
    ("max_pool2d(x)", [[[1.0, 1.0], [1.0, 0.0]]], None, lambda T, x, y: T.F.max_pool2d(x, 2)),  # the first wins
    ("hinge(x, y)", [1.0, -1.0, 0.5], [1.0, 1.0, -1.0], lambda T, x, y: T.TORCH["hinge"](x, y)),  # met: no slope
    ("sign(x)", [0.0, 2.0, -1.0], None, lambda T, x, y: T.torch.sign(x)),  # slope 0, at 0 too
    ("clip(x, -1, 1)", [-1.0, 1.0, 0.5, 2.0], None, lambda T, x, y: T.torch.clamp(x, -1, 1)),  # a bound met: x's
    ("clip(x, y, 1)", [0.5, -2.0, 0.0], [0.5], lambda T, x, y: T.torch.clamp(x, y, T.torch.tensor(1.0))),
    ("x[1:] * 2", [1.0, 2.0, 3.0], None, lambda T, x, y: x[1:] * 2),  # 0 to the slot not picked
    # a tie goes to the first operand; torch.maximum and minimum halve it
    ("maximum(x, y)", [1.0, 2.0], [1.0, 0.0], lambda T, x, y: T.torch.where(x >= y, x, y)),
    ("minimum(x, y)", [1.0, 2.0], [1.0, 0.0], lambda T, x, y: T.torch.where(x <= y, x, y)),
]


@pytest.mark.parametrize("expr, x, y, theirs", AT_KINKS, ids=[case[0] for case in AT_KINKS])
def test_the_conventions_at_kinks_are_torchs(oracle, expr, x, y, theirs):
    params = f"x: {x}" + (f", y: {y}" if y is not None else "")
    graph = backprop_cli.loads(f"params: {{{params}}}\nnodes:\n  p: {expr}\n  f: sum(p * p) + sum(p)\noutput: f\n")
    grads = reverse_mode(graph, evaluate(graph))
    torch = oracle.torch
    leaves = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in (("x", x), ("y", y)) if v}
    p = theirs(oracle, leaves["x"], leaves.get("y"))
    ((p * p).sum() + p.sum()).backward()
    for name, leaf in leaves.items():
        np.testing.assert_allclose(grads[name], leaf.grad.numpy(), RTOL, ATOL, err_msg=f"d f / d {name}")


def test_multiclass_hinge_at_its_margin_is_torchs(oracle):
    """A margin of exactly 0 counts as met, in backprop and in torch's multi_margin_loss."""
    text = "inputs: {k: [2, 0]}\nparams: {s: [[1.0, 0.0, 2.0], [0.5, 1.0, -3.0]]}\nnodes:\n  f: multiclass_hinge(s, k)\noutput: f\n"
    graph = backprop_cli.loads(text)
    grads = reverse_mode(graph, evaluate(graph))
    torch = oracle.torch
    s = torch.tensor([[1.0, 0.0, 2.0], [0.5, 1.0, -3.0]], dtype=torch.float64, requires_grad=True)
    oracle.TORCH["multiclass_hinge"](s, torch.tensor([2.0, 0.0])).backward()
    np.testing.assert_allclose(grads["s"], s.grad.numpy(), RTOL, ATOL)


# ---------------------------------------------------------------- BACKPROP_REQUIRE_TORCH


@pytest.mark.parametrize("required, verdict", [("1", "1 error"), ("", "skipped")])
def test_a_missing_torch_fails_only_when_required(required, verdict):
    """CI sets BACKPROP_REQUIRE_TORCH=1, so a failed torch install fails the run instead of skipping quietly."""
    blocked = "import sys, pytest; sys.modules['torch'] = None; sys.exit(pytest.main(sys.argv[1:]))"
    test = "tests/test_torch_differential.py::test_the_oracle_maps_every_op"
    env = {**os.environ, "BACKPROP_REQUIRE_TORCH": required}
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", blocked, test, "-p", "no:cacheprovider"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert verdict in done.stdout, done.stdout + done.stderr
    assert (done.returncode != 0) == (required == "1"), done.stdout
