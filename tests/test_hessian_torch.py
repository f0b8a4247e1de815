"""Differential test of `backprop hessian` against torch.autograd.functional.hessian on generated graphs.

Where every op of a generated graph is analytic, backprop's Hessian (the complex step applied to reverse
mode) must equal torch's double backward to rounding. Skipped without torch, a failure when
BACKPROP_REQUIRE_TORCH=1. Seeds: derandomized, the same graphs every run.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from generated_graphs import examples, graphs, hypothesis_run, kink_distance, seed_note
from hypothesis import assume, given, reject

import backprop_cli
from backprop_cli.engines.evaluate import evaluate
from backprop_cli.errors import EvaluationError
from backprop_cli.ops import OPS
from backprop_cli.verify.hessian import Gradients, hessian, is_labels

GRAPHS = 60
MAX_ELEMENTS = 40  # differentiable leaf elements: torch's Hessian is n double-backward passes
RTOL, ATOL = 1e-8, 1e-10
KINK_MARGIN = 1e-3  # central differences step about 6e-6 of a value: far enough from every kink


@pytest.fixture(scope="module")
def oracle():
    try:
        import torch_oracle
    except ImportError as missing:
        if os.environ.get("BACKPROP_REQUIRE_TORCH") == "1":
            pytest.fail(f"BACKPROP_REQUIRE_TORCH=1 but torch cannot be imported: {missing}", pytrace=False)
        pytest.skip(f"torch is not installed ({missing})")
    return torch_oracle


def test_hessian_equals_torch_on_analytic_graphs(oracle):
    compared = 0

    @hypothesis_run(GRAPHS)
    @given(graphs())
    def compare(generated):
        nonlocal compared
        assume(all(OPS[op].analytic for op in generated.ops()))
        graph = backprop_cli.loads(generated.text)
        names = [n for n in generated.differentiable if not is_labels(graph, n)]  # not only compared or indices
        assume(names and sum(generated.leaves[n].value.size for n in names) <= MAX_ELEMENTS)
        try:
            ours = hessian(graph, names, check=False)
        except EvaluationError:
            reject()
        theirs = oracle.hessian(generated, names)
        # exact to rounding: of the terms an entry is summed from where they cancel (Hessian.rounding)
        atol = max(ATOL, ours.rounding)
        np.testing.assert_allclose(ours.matrix, theirs, RTOL, atol, err_msg=f"({seed_note()})\n{generated.text}")
        assert ours.method == "complex"
        compared += 1

    compare()
    print(f"compared with torch: {compared} Hessians")
    assert compared >= examples(GRAPHS) // 3, f"only {compared} graphs compared"


def test_hessian_by_differences_is_close_to_torch_on_piecewise_graphs(oracle):
    """Through ReLU, max, abs, ... backprop takes central differences of gradients: close to torch, not exact,
    away from the kinks (where torch's second derivative of a piecewise op is its piece's)."""
    compared = 0

    @hypothesis_run(GRAPHS // 2)
    @given(graphs())
    def compare(generated):
        nonlocal compared
        assume(not all(OPS[op].analytic for op in generated.ops()))
        graph = backprop_cli.loads(generated.text)
        names = [n for n in generated.differentiable if not is_labels(graph, n)]  # not only compared or indices
        assume(names and sum(generated.leaves[n].value.size for n in names) <= MAX_ELEMENTS)
        try:
            assume(kink_distance(graph, evaluate(graph)) > KINK_MARGIN)
            ours = hessian(graph, names, check=False)
        except EvaluationError:
            reject()
        try:
            theirs = oracle.hessian(generated, names)
        except RuntimeError as err:  # torch has no double backward for some ops (multi_margin_loss)
            assert "not implemented" in str(err)
            reject()
        scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
        np.testing.assert_allclose(ours.matrix, theirs, 0, 1e-5 * scale, err_msg=f"({seed_note()})\n{generated.text}")
        assert ours.method == ("complex" if Gradients(graph, names).analytic else "central")  # by the leaves' paths
        compared += 1

    compare()
    print(f"compared with torch: {compared} Hessians by differences")
    assert compared >= examples(GRAPHS // 2) // 3, f"only {compared} graphs compared"


def test_a_linear_function_of_cancelling_terms_has_a_zero_hessian_within_rounding(run, graph_file):
    """Found by the generated graphs (seed 99): (x / v) @ v is linear in x and does not depend on v, but with
    v = 0.0012 its second-derivative terms are 1e6 and cancel: the complex step gave -2.5e-10 where torch gives 0,
    and the command called the Hessian "indefinite: a saddle" with a condition number of 3.5e7."""
    text = (
        "inputs: {g: 1.25}\nparams: {x: [0.548, -0.921], v: [0.0016027567687951388, 0.0012095899718636777]}\n"
        "nodes:\n  n: (div(x, v, broadcast=true) @ v)\n  f: sum(n * g)\noutput: f\n"
    )
    ours = hessian(backprop_cli.loads(text), ["x", "v"], check=False)
    assert 0 < ours.rounding < 1e-7 and np.max(np.abs(ours.matrix)) <= ours.rounding
    assert ours.condition_number is None
    shown = run("hessian", str(graph_file(text)), "--wrt", "x", "--wrt", "v").stdout
    assert "∞ (singular); semidefinite" in shown and "saddle" not in shown
