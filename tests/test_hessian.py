"""`backprop hessian` and `gradcheck --order 2`: second derivatives against closed forms (the JAX README's
derivatives of tanh, Rosenbrock's Hessian), torch.autograd.functional.hessian, and differences of gradients."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

import backprop_cli
from backprop_cli.ops import OPS
from backprop_cli.verify.hessian import hessian


def test_second_derivative_of_tanh_is_the_closed_form():
    """JAX README: grad(grad(tanh)); d²/dx² tanh x = −2 tanh x (1 − tanh² x), at 1.0 as there."""
    graph = backprop_cli.loads("inputs: {x: 1.0}\nnodes:\n  y: tanh(x)\noutput: y\n")
    result = hessian(graph)
    t = np.tanh(1.0)
    np.testing.assert_allclose(result.matrix, [[-2 * t * (1 - t**2)]], rtol=1e-15)
    assert result.method == "complex" and result.status == "pass"


def test_third_derivative_of_tanh_from_the_hessian_of_its_gradient_graph():
    """grad(grad(grad(tanh)))(1.0): the Hessian of y = tanh'(x) = 1 − tanh² x written as a graph."""
    graph = backprop_cli.loads("inputs: {x: 1.0}\nnodes:\n  y: 1 - tanh(x) ** 2\noutput: y\n")
    t = np.tanh(1.0)
    third = -2 * (1 - t**2) * (1 - 3 * t**2)  # d³/dx³ tanh
    np.testing.assert_allclose(hessian(graph).matrix, [[third]], rtol=1e-14)


def test_rosenbrock_hessian_is_the_analytic_one(run):
    x, y = -1.5, 2.0  # graphs/rosenbrock.yaml's start
    analytic = np.array([[1200 * x**2 - 400 * y + 2, -400 * x], [-400 * x, 200]])
    result = run("hessian", "rosenbrock", "--json")
    assert result.exit_code == 0, result.stderr
    obj = json.loads(result.stdout)
    assert obj["schema"] == "backprop.hessian" and obj["version"] == 1
    assert obj["wrt"] == ["x", "y"] and obj["shapes"] == [[], []]
    np.testing.assert_allclose(obj["hessian"], analytic, rtol=1e-14)
    eig = np.linalg.eigvalsh(analytic)
    np.testing.assert_allclose(obj["eigenvalues"], eig, rtol=1e-12)
    np.testing.assert_allclose(obj["condition_number"], eig[1] / eig[0], rtol=1e-12)
    assert obj["check"]["passed"]


def test_matches_torch_and_keeps_the_order_given():
    torch = pytest.importorskip("torch")
    text = """
inputs: {x: [[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]], t: [[0.2, 0.8], [0.6, 0.4]]}
params: {w: [[0.3, -0.7], [1.1, 0.4], [-0.2, 0.9]], b: [0.1, -0.2]}
nodes:
  loss: sum(t * log_softmax(tanh(x @ w + b), axis=1)) * -1
output: loss
"""
    graph = backprop_cli.loads(text)
    x, t = (torch.tensor(graph.leaf_values[k]) for k in ("x", "t"))

    def loss(b, w):
        return -(t * torch.log_softmax(torch.tanh(x @ w + b), dim=1)).sum()

    inputs = (torch.tensor(graph.leaf_values["b"]), torch.tensor(graph.leaf_values["w"]))
    blocks = torch.autograd.functional.hessian(loss, inputs)
    theirs = np.block(
        [[blocks[i][j].reshape(inputs[i].numel(), inputs[j].numel()).numpy() for j in range(2)] for i in range(2)]
    )
    result = hessian(graph, ["b", "w"])
    assert result.wrt == ["b", "w"] and result.shapes == [(2,), (3, 2)]
    np.testing.assert_allclose(result.matrix, theirs, rtol=1e-12, atol=1e-14)
    assert result.status == "pass"


def test_singular_hessian_has_no_condition_number(run, graph_file):
    path = graph_file("params: {a: 1.0, b: 2.0}\nnodes:\n  f: (a + b) ** 2\noutput: f\n")  # H = 2·[[1,1],[1,1]]
    obj = json.loads(run("hessian", str(path), "--json").stdout)
    np.testing.assert_allclose(obj["hessian"], [[2, 2], [2, 2]], rtol=1e-15)
    assert obj["condition_number"] is None
    assert "∞ (singular)" in run("hessian", str(path)).stdout


def test_ill_conditioned_quadratic_and_saddle_are_named(run):
    out = run("hessian", "saddle").stdout
    assert "indefinite: a saddle" in out
    text = run("hessian", "rosenbrock").stdout
    assert "positive definite" in text and "condition number: 214.6" in text


def test_non_analytic_path_uses_differences_and_says_so():
    graph = backprop_cli.loads("params: {x: [0.5, -0.3]}\nnodes:\n  f: sum(relu(x) ** 3)\noutput: f\n")
    result = hessian(graph)
    assert result.method == "central" and result.notes
    np.testing.assert_allclose(result.matrix, np.diag([6 * 0.5, 0.0]), rtol=1e-7, atol=1e-9)
    assert result.status == "pass"


def test_usage_errors(run, graph_file):
    for args, words in (
        (["two_layer"], "at most"),
        (["rosenbrock", "--wrt", "z"], "not a leaf"),
        (["rosenbrock", "-o", "h.bmp"], "cannot tell the format"),
    ):
        result = run("hessian", *args)
        assert result.exit_code == 2 and words in result.stderr, (args, result.stderr)
    vector = graph_file("inputs: {x: [1.0, 2.0]}\nnodes:\n  y: x * x\noutput: y\n")
    result = run("hessian", str(vector))
    assert result.exit_code == 2 and "scalar output" in result.stderr


# ------------------------------------------------------------ gradcheck --order 2

NEURON = """
inputs: {x: [0.5, -1.5, 2.0]}
params: {w: [0.3, -0.2, 0.4]}
nodes:
  f: sum(sin(x * w) * w)
output: f
"""


def test_order_2_passes_and_reports_json_fields(run, graph_file):
    result = run("gradcheck", str(graph_file(NEURON)), "--order", "2", "--json")
    assert result.exit_code == 0, result.stdout
    obj = json.loads(result.stdout)
    assert obj["order"] == 2 and set(obj["second_order"]) == {"x", "w"}
    assert all(leaf["status"] == "pass" and leaf["elements"] == 3 for leaf in obj["second_order"].values())
    plain = json.loads(run("gradcheck", str(graph_file(NEURON)), "--json").stdout)
    assert plain["order"] == 1 and plain["second_order"] == {}


def test_order_2_catches_a_reverse_rule_that_is_right_only_on_real_numbers(run, graph_file, monkeypatch):
    """sin's reverse rule with cos(real(x)): every gradient is right (order 1 passes), but the rule is not the
    derivative's analytic continuation, so its own derivative along x is wrong: as gradgradcheck would find."""
    bad = replace(OPS["sin"], vjp=(lambda g, out, x: g * np.cos(np.real(x)),))
    monkeypatch.setitem(OPS, "sin", bad)
    path = str(graph_file(NEURON))
    assert run("gradcheck", path, "-q").exit_code == 0
    result = run("gradcheck", path, "--order", "2")
    assert result.exit_code == 1
    assert "second order" in result.stdout and "FAIL" in result.stdout


def test_order_2_needs_a_scalar_output(run, graph_file):
    path = graph_file("inputs: {x: [1.0, 2.0]}\nnodes:\n  y: x * x\noutput: y\n")
    result = run("gradcheck", str(path), "--order", "2")
    assert result.exit_code == 2 and "scalar output" in result.stderr
    assert run("gradcheck", str(path), "--order", "3").exit_code == 2


def test_labels_are_left_out_and_refused_by_name(run):
    obj = json.loads(run("hessian", "mlp_float32", "--wrt", "b2", "--json").stdout)
    assert obj["wrt"] == ["b2"] and np.shape(obj["hessian"]) == (3, 3)
    for command in ("hessian", "jacobian"):
        result = run(command, "mlp_float32", "--wrt", "labels")
        assert result.exit_code == 2 and "labels" in result.stderr


def test_python_api_exports():
    graph = backprop_cli.load("circuit")  # f = (x + y) z
    np.testing.assert_array_equal(backprop_cli.jacobian(graph, "q", "x").array, 1.0)
    np.testing.assert_array_equal(
        backprop_cli.hessian(graph, ["x", "y", "z"]).matrix, [[0, 0, 1], [0, 0, 1], [1, 1, 0]]
    )
    assert backprop_cli.gradcheck(graph, order=2).passed


@pytest.mark.parametrize("command", ["hessian", "jacobian"])
@pytest.mark.parametrize("option", ["--rtol", "--atol"])
def test_tolerances_must_be_finite(run, command, option):
    for value in ("nan", "inf", "-1"):
        assert run(command, "rosenbrock", option, value).exit_code == 2
