"""n-th derivatives (issue 24): `backprop derivatives`, backprop_cli.derivatives and gradcheck --order N.

Oracles: torch's repeated autograd.grad (create_graph) along the same direction on generated graphs, and
closed forms (poles and branch points near the point: 1/(x - a), √x, log x). A reverse rule wrong only in
its third derivative must fail at order 3 and pass at orders 1 and 2. The published numbers (JAX's tanh,
the polynomial, autodidax's sin) are in tests/external_examples.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from generated_graphs import graphs, hypothesis_run, kink_distance, seed_note
from hypothesis import assume, given, reject
from hypothesis import strategies as st

import backprop_cli
from backprop_cli.engines.evaluate import evaluate
from backprop_cli.errors import EvaluationError, UsageError
from backprop_cli.ops import OPS
from backprop_cli.verify.derivatives import derivatives
from backprop_cli.verify.hessian import is_labels

ORDER = 3
# tanh's derivatives at 2, to the sixth (sympy, 30 digits)
TANH = [0.9640275800758169, 0.07065082485316447, -0.13621868742711304, 0.2526540650980627]
TANH += [-0.4293871981827611, 0.5737472735196657, -0.11452669158685999]


def _scalar(expr: str, x: float, **leaves: object) -> backprop_cli.Graph:
    others = "".join(f", {k}: {v}" for k, v in leaves.items())
    return backprop_cli.loads(f"inputs: {{x: {x}{others}}}\nnodes:\n  f: {expr}\noutput: f\n")


def test_generated_graphs_equal_torch_along_a_random_direction():
    """Cauchy's formula on reverse mode against torch's double, triple backward, along a random direction."""
    import torch_oracle

    torch = torch_oracle.torch
    compared = 0

    @hypothesis_run(10)
    @given(graphs(), st.integers(0, 2**32 - 1))
    def compare(generated, seed):
        nonlocal compared
        graph = backprop_cli.loads(generated.text)
        names = [n for n in generated.differentiable if not is_labels(graph, n)]
        assume(names)
        leaf = names[seed % len(names)]
        v = np.random.default_rng(seed).standard_normal(graph.nodes[leaf].shape)
        try:
            ours = derivatives(graph, leaf, ORDER, v if v.ndim else float(v))
        except EvaluationError:
            reject()
        assume(ours.kink is None)  # a tie at the point (max(x, x)): no derivative for either library
        # at a kink the libraries' conventions may differ even where the direction keeps to one piece: clip(x, m, m)
        # with x < m is m along every direction, yet torch's clamp gives neither bound a gradient (seed 202)
        assume(kink_distance(graph, evaluate(graph)) > 1e-6)
        t = torch.zeros((), dtype=torch.float64, requires_grad=True)
        env = {n: torch.tensor(lf.value, dtype=torch.float64) for n, lf in generated.leaves.items()}
        env[leaf] = env[leaf] + t * torch.tensor(v)
        for name, tree in generated.trees.items():
            env[name] = torch_oracle.evaluate_tree(tree, env, [])
        y, theirs = env["f"], []
        try:
            for _ in range(ORDER):
                theirs.append(y.item())
                (y,) = torch.autograd.grad(y, t, create_graph=True, allow_unused=True)
                y = torch.zeros((), dtype=torch.float64, requires_grad=True) if y is None else y
            theirs.append(y.item())
        except RuntimeError as err:  # torch has no double backward for some ops (multi_margin_loss)
            assert "not implemented" in str(err) or "does not require grad" in str(err)
            reject()
        scale = max(1.0, *(abs(x) for x in theirs))
        where = f"({seed_note()}) along {leaf}\n{generated.text}"
        np.testing.assert_allclose(ours.values, theirs, 1e-9, 1e-9 * scale, err_msg=where)
        for k in range(1, ORDER + 1):  # printed as 0 only where torch's is 0 too (within the same tolerance)
            assert not ours.zero(k) or abs(theirs[k]) <= 1e-9 * scale + 2 * ours.errors[k], (k, where)
        assert ours.status == "pass", (ours.check.findings, where)
        compared += 1

    compare()
    assert compared >= 6, f"only {compared} graphs compared"


@pytest.mark.parametrize(
    "expr, x, reach, exact",
    [
        ("1 / (x - 0.3)", 0.0, 0.3, lambda k, x: (-1) ** k * math.factorial(k) / (x - 0.3) ** (k + 1)),  # a pole
        ("log(x)", 0.05, 0.05, lambda k, x: math.log(x) if k == 0 else (-1) ** (k - 1) * math.factorial(k - 1) / x**k),
        ("sqrt(x)", 0.2, 0.2, lambda k, x: math.prod(0.5 - j for j in range(k)) * x ** (0.5 - k)),  # a branch point
        ("exp(3 * x)", 1.5, 2.0, lambda k, x: 3**k * math.exp(3 * x)),  # entire, large derivatives
        ("tanh(x)", 2.0, 2.54, lambda k, x: TANH[k]),  # poles at ±iπ/2: 2.54 away
    ],
)
def test_singularities_near_the_point_are_kept_outside_the_circle(expr, x, reach, exact):
    found = derivatives(_scalar(expr, x), "x", 6)
    expected = [exact(k, x) for k in range(7)]
    np.testing.assert_allclose(found.values, expected, rtol=1e-9)
    assert found.status == "pass" and found.radius < reach, found.radius


def test_a_branch_chosen_by_where_is_differentiated_on_its_piece():
    """autodidax's f: 2x³ on x > 0, and on the other piece the other branch; the tie at 0 is a kink."""
    graph = _scalar("2 * x**3 if x > 0 else x", 1.5)
    np.testing.assert_allclose(derivatives(graph, "x", 4).values, [6.75, 13.5, 18, 12, 0], atol=1e-9)
    below = derivatives(graph.with_values({"x": -1.5}), "x", 4)
    np.testing.assert_allclose(below.values, [-1.5, 1, 0, 0, 0], atol=1e-12)
    on = derivatives(graph.with_values({"x": 0.0}), "x", 4)
    assert on.status == "kink" and on.kink == "f.greater1" and on.values[1:] == [None] * 4


def test_a_direction_in_a_tensor_leaf_and_an_element():
    graph = backprop_cli.loads("params: {w: [0.5, -1.0]}\nnodes:\n  f: sum(exp(w * [2, 3]))\noutput: f\n")
    along = derivatives(graph, "w", 3, "[1, -1]")
    # f(w + t·v) = e^{2(0.5 + t)} + e^{3(-1 - t)}: its k-th derivative is 2^k e^1 + (-3)^k e^-3
    np.testing.assert_allclose(along.values, [2**k * math.e + (-3) ** k * math.exp(-3) for k in range(4)], 1e-12)
    element = derivatives(graph, "w[1]", 2)
    np.testing.assert_allclose(element.values, [math.e + math.exp(-3), 3 * math.exp(-3), 9 * math.exp(-3)], 1e-12)


def _tanh_right_to_second_order(monkeypatch) -> None:
    """tanh's reverse rule replaced by its slope's Taylor polynomial of degree 1 at x = 2: the value and the
    curvature it gives are right there, its third derivative (of tanh) is not."""
    s0 = 1 - math.tanh(2.0) ** 2
    s1 = -2 * math.tanh(2.0) * s0
    op = OPS["tanh"]
    wrong = replace(op, vjp=(lambda g, out, x: g * (s0 + s1 * (x - 2.0)),))
    monkeypatch.setitem(OPS, "tanh", wrong)


def test_a_rule_wrong_in_its_third_derivative_fails_order_3_only(monkeypatch):
    _tanh_right_to_second_order(monkeypatch)
    graph = _scalar("tanh(x)", 2.0)
    found = derivatives(graph, "x", 3)
    assert found.status == "fail" and [f.index[0] + 1 for f in found.check.findings] == [3]
    assert backprop_cli.gradcheck(graph, order=2).passed
    report = backprop_cli.gradcheck(graph, order=3)
    assert not report.passed and report.higher_order["x"].status == "fail"


def test_a_plugin_op_on_the_path_takes_differences_of_the_reverse_mode_slope():
    graph = backprop_cli.load("tests/plugins/net.yaml", allow_python=True)
    found = derivatives(graph, "b2[0]", 2)
    assert found.method == "richardson" and found.status == "pass" and "not built in" in found.notes[0]
    exact = derivatives(backprop_cli.load("tests/plugins/net.yaml", allow_python=True), "b2[0]", 1)
    assert found.values[1] == exact.values[1]  # order 1 is reverse mode itself


# ---------------------------------------------------------------- the command


def test_the_command_prints_each_order_in_words_and_the_taylor_expansion(run, graph_file):
    path = graph_file("inputs: {x: 2.0}\nnodes:\n  f: tanh(x)\noutput: f\n")
    result = run("derivatives", str(path), "--order", "3")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"derivatives of f along x, at x = 2 ({path})"
    assert "0.25265406509806 " in result.stdout and "change of curvature" in result.stdout
    assert "Taylor: f(x + t) ≈ 0.964028 + 0.0706508·t − 0.0681093·t² + 0.042109·t³" in result.stdout
    assert "0  0.964027580075817 " in result.stdout  # 15 digits where the error estimate vouches for them
    assert lines[-1].startswith("PASS: 3 orders against central differences of f")


def test_the_json_document(run, graph_file):
    path = graph_file("inputs: {x: 1.0}\nnodes:\n  f: x**3 + 2*x**2 - 3*x + 1\noutput: f\n")
    doc = json.loads(run("derivatives", str(path), "--order", "4", "--json").stdout)
    assert (doc["schema"], doc["version"], doc["status"], doc["passed"]) == ("backprop.derivatives", 1, "pass", True)
    assert [d["order"] for d in doc["derivatives"]] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose([d["value"] for d in doc["derivatives"]], [1, 4, 10, 6, 0], atol=1e-12)
    np.testing.assert_allclose([d["taylor"] for d in doc["derivatives"]], [1, 4, 5, 1, 0], atol=1e-12)
    assert doc["method"] == "contour" and doc["points"] == 64 and doc["check"]["orders"] == 4


def test_a_kink_is_exit_0_and_says_where(run, graph_file):
    path = graph_file("inputs: {x: 0.0}\nnodes:\n  f: where(x > 0, x ** 2, 0)\noutput: f\n")
    result = run("derivatives", str(path), "--json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 0 and doc["status"] == "kink" and doc["kink"] == "f.greater1"


def test_a_wrong_rule_is_exit_1(run, graph_file, monkeypatch):
    _tanh_right_to_second_order(monkeypatch)
    path = graph_file("inputs: {x: 2.0}\nnodes:\n  f: tanh(x)\noutput: f\n")
    result = run("derivatives", str(path), "--order", "3")
    assert result.exit_code == 1 and result.stdout.splitlines()[-1].startswith("FAIL: 3 orders")
    assert "order 3:" in result.stdout
    checked = run("gradcheck", str(path), "--order", "3", "--json")
    assert checked.exit_code == 1 and json.loads(checked.stdout)["higher_order"]["x"]["status"] == "fail"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--order", "11"], "11 is not in the range 0<=x<=10"),
        (["--wrt", "z"], "'z' is not a leaf of the graph"),
        (["--wrt", "k"], "k is read only where no derivative is taken"),
        (["--wrt", "x", "--direction", "[1, 2]"], "the tangent of x has shape (2), the leaf scalar"),
        (["--wrt", "x", "--direction", "0"], "the direction must be finite and not all zeros"),
        ([], "name the leaf to differentiate along (leaves: x, y)"),
    ],
)
def test_usage_errors(run, graph_file, args, words):
    path = graph_file("inputs: {x: 1.0, y: 2.0, k: 1}\nnodes:\n  f: x * y + where(k > 0, x, y)\noutput: f\n")
    result = run("derivatives", str(path), *args)
    assert result.exit_code == 2 and words in result.stderr, result.stderr


def test_a_tensor_output_is_refused():
    with pytest.raises(UsageError, match="derivatives need a scalar output"):
        derivatives(backprop_cli.loads("inputs: {x: [1, 2]}\nnodes:\n  f: x * 2\noutput: f\n"), "x")


def test_gradcheck_order_n_checks_every_leaf_along_a_direction(run):
    doc = json.loads(run("gradcheck", "circuit", "--order", "4", "--json").stdout)
    assert doc["order"] == 4 and set(doc["higher_order"]) == {"x", "y", "z"}
    assert all(leaf["status"] == "pass" for leaf in doc["higher_order"].values())
    assert run("gradcheck", "circuit", "--order", "11").exit_code == 2
