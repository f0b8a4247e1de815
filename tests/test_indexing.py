"""Indexing and slicing in expressions (issue 14): NumPy's basic indexing, parsed (never eval'ed).

Oracles: Python's and NumPy's own indexing for the values, gradcheck's numerical reference for the
gradients (the op sweep and the torch differential test check the rules themselves).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import backprop_cli
from backprop_cli.errors import GraphFileError, ShapeError
from backprop_cli.fileformat.expression_text import render
from backprop_cli.fileformat.expressions import parse_expression
from backprop_cli.verify.check import gradcheck

X = np.arange(12.0).reshape(3, 4) - 5.5
V = np.array([1.0, -2.0, 3.0, -4.0, 5.0, -6.0])

# (expression, the same in NumPy on X and V)
CASES = [
    ("v[0]", lambda X, V: V[0]),
    ("v[-1]", lambda X, V: V[-1]),
    ("v[1:3]", lambda X, V: V[1:3]),
    ("v[::2]", lambda X, V: V[::2]),
    ("v[::-1]", lambda X, V: V[::-1]),
    ("v[-2:]", lambda X, V: V[-2:]),
    ("v[:-4:-2]", lambda X, V: V[:-4:-2]),
    ("X[1, 2]", lambda X, V: X[1, 2]),
    ("X[:, 1]", lambda X, V: X[:, 1]),
    ("X[1]", lambda X, V: X[1]),
    ("X[-1, 1:]", lambda X, V: X[-1, 1:]),
    ("X[0:2, ::3]", lambda X, V: X[0:2, ::3]),
    ("X[1:][0]", lambda X, V: X[1:][0]),
    ("(X * 2)[2, 3]", lambda X, V: (X * 2)[2, 3]),
    ("-v[1] ** 2", lambda X, V: -(V[1] ** 2)),
    ("index(X, at=[[none, none, -1], 0])", lambda X, V: X[::-1, 0]),
]


def _graph(expr: str):
    text = (
        f"params:\n  X: {X.tolist()}\n  v: {V.tolist()}\nnodes:\n  y: {json.dumps(expr)}\n  f: sum(y * y)\noutput: f\n"
    )
    return backprop_cli.loads(text)


@pytest.mark.parametrize("expr, numpy", CASES, ids=[c[0] for c in CASES])
def test_values_are_numpys_and_gradients_pass_gradcheck(expr, numpy):
    graph = _graph(expr)
    np.testing.assert_array_equal(graph.forward()["y"], numpy(X, V))
    report = gradcheck(graph)
    assert report.status == "pass", {n: (c.status, c.findings) for n, c in report.leaves.items()}


def test_the_gradient_is_zero_outside_the_picked_slots():
    grads = _graph("X[:, 1]").backward()
    expected = np.zeros_like(X)
    expected[:, 1] = 2 * X[:, 1]  # d sum(y²)/dy = 2y, scattered back
    np.testing.assert_array_equal(grads["X"], expected)
    assert not np.any(grads["v"])


def test_cs231n_neuron_indexes_w_and_x():
    graph = backprop_cli.loads(
        "inputs: {x: [-1, -2]}\nparams: {w: [2, -3, -3]}\nnodes:\n"
        "  f: sigmoid(w[0]*x[0] + w[1]*x[1] + w[2])\noutput: f\n"
    )
    s = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(graph.backward()["w"], [-s * (1 - s), -2 * s * (1 - s), s * (1 - s)], rtol=1e-15)


@pytest.mark.parametrize(
    "text", ["w[0]", "X[1, 2]", "X[:, 1]", "v[1:3]", "v[::2]", "v[-1:0:-2]", "(a + b)[0]", "-w[0] ** 2", "w[0][1]"]
)
def test_rendering_gives_the_same_tree_back(text):
    tree = parse_expression(text)
    assert parse_expression(render(tree)) == tree or render(parse_expression(render(tree))) == render(tree)


def test_index_gates_read_as_brackets_and_are_routers():
    graph = _graph("X[0:2, ::3]")
    node = graph.nodes["y"]
    assert node.expr == "X[0:2, ::3]" and node.operation.gate_kind.role == "router"


@pytest.mark.parametrize(
    "expr, column, words",
    [
        ("v[6]", 7, "index 6 is out of bounds for axis 0 of size 6"),
        ("v[-7]", 7, "index -7 is out of bounds"),
        ("X[0, 1, 2]", 7, "3 indices for a 2-d operand (3×4)"),
        ("v[::0]", 7, "a slice step cannot be zero"),
        ("v[0.5]", 8, "an index must be a whole number"),
        ("v[x]", 8, "undefined name 'x'"),
        ("v[]", 8, "expected an index"),
        ("v[1:2:3:4]", 13, "at most three parts"),
        ("v[0", 7, "this '[' is never closed: add ']'"),
        ("sum(v) + x:1", 16, "':' is not part of the expression language outside an index"),
    ],
)
def test_bad_indices_name_file_line_and_column(expr, column, words):
    """Syntax errors point at the token; errors of the shape rule (bounds) at the index's '['."""
    text = f"params:\n  X: {X.tolist()}\n  v: {V.tolist()}\nnodes:\n  y: {expr}\noutput: y\n"
    with pytest.raises((GraphFileError, ShapeError)) as err:
        backprop_cli.loads(text)
    assert words in err.value.message
    assert (err.value.where.line, err.value.where.column) == (5, column), err.value.where


def test_explain_and_routes_call_the_index_a_router(run, graph_file):
    path = graph_file("params: {w: [2.0, -3.0, 4.0]}\nnodes:\n  f: w[1] * w[1]\noutput: f\n")
    result = run("trace", str(path), "--explain")
    assert result.exit_code == 0, result.stderr
    assert "index routes" in result.stdout and "scattered into (3)" in result.stdout
    from backprop_cli.engines.trace import run_trace
    from backprop_cli.outputs.routes import trace_routes

    notes = trace_routes(run_trace(backprop_cli.load(str(path)))).notes
    assert notes["f.index1"] == "to 1 of 3"
