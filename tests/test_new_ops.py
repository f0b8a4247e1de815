"""The ops of issue 14 at the CLI: domains refused with the node named, stop_gradient shown as stopped,
concat and stack with any number of operands, and the op table as `backprop ops` lists it.

Their rules are checked by the op sweep (central differences), the generated graphs and torch.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import backprop_cli
from backprop_cli.ops import OPS
from backprop_cli.ops.table import DOMAINS

NEW = ["tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "log1p", "expm1"]
NEW += ["log2", "log10", "exp2", "sign", "square", "clip", "stop_gradient", "concat", "stack", "index"]


@pytest.mark.parametrize(
    "expr, x",
    [
        ("arcsin(x)", 1.5),
        ("arccos(x)", -2.0),
        ("arccosh(x)", 0.5),
        ("arctanh(x)", 1.0),
        ("log1p(x)", -1.0),
        ("log2(x)", -1.0),
        ("log10(x)", 0.0),
        ("expm1(x)", 800.0),
        ("cosh(x)", 800.0),
    ],
)
def test_outside_its_domain_an_op_is_an_evaluation_error_naming_the_node(run, graph_file, expr, x):
    path = graph_file(f"params: {{x: {x}}}\nnodes:\n  h: {expr}\n  f: h * 2\noutput: f\n")
    result = run("trace", str(path))
    assert result.exit_code == 3, result.stdout
    assert f"{path}:3:6: node h = {expr} is" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_every_declared_domain_is_described_and_the_ops_listing_shows_them(run):
    assert all(d in DOMAINS for op in OPS.values() for d in op.domain)
    listed = {row["op"]: row for row in json.loads(run("ops", "--json").stdout)["ops"]}
    assert set(NEW) <= set(listed)
    assert listed["arcsin"]["domain"] == ["unit"] and listed["div"]["domain"] == ["real", "nonzero"]
    assert listed["stop_gradient"]["gate"] == "stopper" and listed["index"]["gate"] == "router"
    assert listed["clip"]["gate"] == "router" and listed["clip"]["kinks"] and not listed["tan"]["kinks"]
    assert listed["concat"]["variadic"] and listed["concat"]["operands"] == 1 and not listed["clip"]["variadic"]
    table = run("ops").stdout
    assert "stopper" in table and "stop_gradient" in table


def test_stop_gradient_is_shown_as_stopped_in_tables_explanations_and_diagrams(run, graph_file):
    path = graph_file("params: {x: 3.0}\nnodes:\n  c: stop_gradient(x * x)\n  f: c * x\noutput: f\n")
    data = json.loads(run("trace", str(path), "--json").stdout)
    assert data["gradients"]["x"] == 9.0  # c, not 3x² = 27: the path through c is stopped
    gates = {n["name"]: n for n in data["nodes"]}
    assert gates["c"]["gate"] == "stopper"
    explained = run("trace", str(path), "--explain").stdout
    assert "stop_gradient stops the gradient" in explained
    from backprop_cli.engines.trace import run_trace
    from backprop_cli.outputs.routes import trace_routes

    routes = trace_routes(run_trace(backprop_cli.load(str(path))))
    assert routes.notes["c"] == "gradient stopped (0)"
    (into_c,) = [w for w in routes.wires if w.head == "c"]
    assert into_c.zero == "stopped"


def test_gradcheck_holds_a_stopped_value_constant_and_skips_a_leaf_behind_it(run, graph_file):
    mixed = graph_file("params: {x: 1.5, y: 2.0}\nnodes:\n  f: stop_gradient(x * y) * x + y\noutput: f\n")
    for method in ("complex", "richardson", "central"):
        result = run("gradcheck", str(mixed), "--method", method, "--json")
        assert result.exit_code == 0, result.stdout
        assert json.loads(result.stdout)["status"] == "pass"
    behind = graph_file("params: {x: 1.5, y: 2.0}\nnodes:\n  f: stop_gradient(x) * y\noutput: f\n", "b.yaml")
    report = json.loads(run("gradcheck", str(behind), "--json").stdout)
    assert "stopped" in json.dumps(report) and report["status"] == "pass"


def test_concat_and_stack_take_any_number_of_operands():
    graph = backprop_cli.loads(
        "params: {a: [1.0, 2.0], b: [3.0], c: [[4.0, 5.0]]}\nnodes:\n"
        "  j: concat(a, b, a, axis=0)\n  s: stack(a, a * 2, a * 3, axis=1)\n"
        "  f: sum(j * j) + sum(s) + sum(concat(c, c))\noutput: f\n"
    )
    values, grads = graph.forward(), graph.backward()
    np.testing.assert_array_equal(values["j"], [1, 2, 3, 1, 2])
    np.testing.assert_array_equal(values["s"], [[1, 2, 3], [2, 4, 6]])
    np.testing.assert_array_equal(grads["a"], 2 * 2 * np.array([1.0, 2.0]) + 6)  # twice in j, and 1 + 2 + 3 from s
    np.testing.assert_array_equal(grads["b"], [6.0])
    with pytest.raises(backprop_cli.errors.ShapeError, match="the other sizes differ"):
        backprop_cli.loads("params: {a: [[1.0, 2.0]], b: [[3.0]]}\nnodes:\n  f: sum(concat(a, b))\noutput: f\n")


@pytest.mark.parametrize("count", [0, 65])
def test_a_variadic_op_says_how_many_operands_it_takes(count):
    args = ", ".join(["a"] * count)
    with pytest.raises(
        backprop_cli.errors.GraphFileError, match=f"stack takes 1 or more \\(up to 64\\) operands, got {count}"
    ):
        backprop_cli.loads(f"params: {{a: [1.0]}}\nnodes:\n  f: sum(stack({args}))\noutput: f\n")


def test_d2l_detach_example():
    """d2l 2.5.4: y = x * x; u = y.detach(); z = u * x; z.sum().backward(); x.grad == u (written out in NumPy)."""
    graph = backprop_cli.load("detach")
    x = np.arange(4.0)
    u = x * x
    np.testing.assert_array_equal(graph.backward()["x"], u)
    assert graph.nodes["u"].operation.gate_kind.role == "stopper"


@pytest.mark.parametrize("method", ["complex", "central"])
def test_the_hessian_treats_a_stopped_value_as_a_constant(method):
    """f = Σ x·u with u = stop_gradient(x²): ∇f = u (a constant), so H = 0 (torch: hessian through detach);
    g = Σ x²·u adds 2u on the diagonal."""
    from backprop_cli.verify.hessian import hessian

    x = np.array([0.5, -1.5])
    graph = backprop_cli.loads(
        f"params: {{x: {x.tolist()}}}\nnodes:\n  u: stop_gradient(x * x)\n  f: sum(x * x * u) + sum(x * u)\noutput: f\n"
    )
    result = hessian(graph, method=method)
    np.testing.assert_allclose(result.matrix, np.diag(2 * x * x), rtol=1e-7, atol=1e-9)


def test_the_jacobian_through_stop_gradient_is_zero_where_every_path_is_stopped(run, graph_file):
    path = graph_file("params: {x: [1.0, 2.0]}\nnodes:\n  u: stop_gradient(x) * 2\n  f: u + x * x\noutput: f\n")
    stopped = run("jacobian", str(path), "--of", "u", "--wrt", "x", "--json")
    assert stopped.exit_code == 0, stopped.output
    assert json.loads(stopped.stdout)["jacobian"] == [[0, 0], [0, 0]]
    mixed = json.loads(run("jacobian", str(path), "--of", "f", "--wrt", "x", "--json").stdout)
    assert mixed["jacobian"] == [[2.0, 0.0], [0.0, 4.0]]  # 2x: the path through u is stopped


def test_log_loss_is_exact_to_rounding_where_its_terms_cancel():
    """log(1 + e^z) - y·z at large z, y = 1, is e^-z-sized from terms of size z: computed as written it lost every
    digit by z = 37 (torch's binary_cross_entropy_with_logits too: 1.3e-2 off at z = 30). Against math.log1p of
    e^-z, and softplus itself where nothing cancels."""
    import math

    from backprop_cli.ops import OPS

    forward = OPS["log_loss"].forward
    for z in (1e-3, 1.0, 10.4, 30.0, 37.0, 300.0):
        assert forward(np.array([z]), np.array([1.0])) == pytest.approx(math.log1p(math.exp(-z)), rel=1e-15)
        assert forward(np.array([-z]), np.array([0.0])) == pytest.approx(math.log1p(math.exp(-z)), rel=1e-15)
        assert forward(np.array([z]), np.array([0.0])) == pytest.approx(z + math.log1p(math.exp(-z)), rel=1e-15)
        assert forward(np.array([-z]), np.array([1.0])) == pytest.approx(z + math.log1p(math.exp(-z)), rel=1e-15)
