"""The Python API and the graph language, checked against independent computations."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import backprop_cli
from backprop_cli import GraphFileError


def test_forward_backward_jvp_types_and_values():
    g = backprop_cli.loads("inputs: {x: -2, y: 5, z: -4}\nnodes:\n  q: x + y\n  f: q * z\noutput: f\n")
    values, grads = g.forward(), g.backward()
    assert values == {"x": -2.0, "y": 5.0, "z": -4.0, "q": 3.0, "f": -12.0}
    assert grads == {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}
    assert all(type(v) is float for v in values.values())
    assert g.jvp({"x": 1.0})["f"] == grads["x"]
    assert g.jvp({"z": 1.0})["f"] == grads["z"]


def test_sigmoid_neuron_expands_into_the_lecture_gates():
    g = backprop_cli.loads(
        "inputs: {w0: 2, x0: -1, w1: -3, x1: -2, w2: -3}\n"
        "nodes:\n  f: 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))\noutput: f\n"
    )
    ops = [n.op for n in g.gates]
    assert ops == ["mul", "mul", "add", "add", "neg", "exp", "add", "div"]
    assert [n.name for n in g.gates][:2] == ["f.mul1", "f.mul2"] and g.gates[-1].name == "f"
    s = 1 / (1 + math.exp(-(2 * -1 + -3 * -2 - 3)))
    grads = g.backward()
    local = s * (1 - s)  # dσ/dz
    for name, expected in {"w0": -1 * local, "x0": 2 * local, "w1": -2 * local, "x1": -3 * local, "w2": local}.items():
        assert grads[name] == pytest.approx(expected, rel=1e-12)


def test_broadcast_gradient_is_summed_back_to_the_bias_shape():
    g = backprop_cli.loads(
        "inputs: {x: [[1, 2, 3], [4, 5, 6]]}\nparams: {b: [0.5, -1, 2]}\nnodes:\n  s: sum((x + b) ** 2)\noutput: s\n"
    )
    x = np.array([[1, 2, 3], [4, 5, 6.0]])
    b = np.array([0.5, -1, 2])
    grads = g.backward()
    assert grads["b"].shape == (3,)
    np.testing.assert_allclose(grads["b"], (2 * (x + b)).sum(axis=0))


def test_rank_raising_broadcast_is_an_error_unless_asked_for():
    text = "inputs: {a: [1, 2, 3], c: [[1], [2], [3]]}\nnodes:\n  f: sum(EXPR)\noutput: f\n"
    with pytest.raises(GraphFileError, match="both be expanded"):
        backprop_cli.loads(text.replace("EXPR", "a * c"))
    g = backprop_cli.loads(text.replace("EXPR", "mul(a, c, broadcast=true)"))
    assert g.forward()["f"] == pytest.approx(np.sum(np.array([1, 2, 3.0]) * np.array([[1], [2], [3.0]])))


def test_yaml_1_1_numbers_and_explicit_form_and_groups():
    g = backprop_cli.loads(
        "inputs: {x: 1e-3}\nparams: {w: 2.5e+1}\nnodes:\n"
        "  a: {op: mul, inputs: [w, x], group: layer1}\n"
        "  b: {op: leaky_relu, inputs: [a], alpha: 0.1}\n"
        "  c: {expr: 'b * 2', group: layer1}\n"
        "output: c\n"
    )
    assert g.forward()["a"] == pytest.approx(0.025)
    assert g.nodes["a"].group == "layer1" and g.nodes["c"].group == "layer1"
    assert g.nodes["b"].attrs["alpha"] == 0.1


def test_inits_follow_the_lectures():
    text = (
        "params:\n"
        "  wx: {shape: [400, 300], init: xavier}\n"
        "  wh: {shape: [400, 300], init: he}\n"
        "  wn: {shape: [100], init: normal, scale: 0.01}\n"
        "  wz: {shape: [2, 2], init: zeros}\n"
        "nodes: {f: sum(wx) + sum(wh) + sum(wn) + sum(wz)}\noutput: f\nseed: 3\n"
    )
    g = backprop_cli.loads(text)
    v = g.leaf_values
    bound = math.sqrt(6 / (400 + 300))
    assert np.abs(v["wx"]).max() <= bound and np.abs(v["wx"]).max() > 0.95 * bound
    assert np.std(v["wh"]) == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    assert np.std(v["wn"]) == pytest.approx(0.01, rel=0.3)
    assert not v["wz"].any()
    again = backprop_cli.loads(text)
    np.testing.assert_array_equal(again.leaf_values["wh"], v["wh"])  # the seed makes it reproducible


def test_float32_graph_stays_float32():
    g = backprop_cli.loads("inputs: {x: [1, 2]}\nnodes: {f: sum(sigmoid(x) * x)}\noutput: f\ndtype: float32\n")
    grads = g.backward()
    assert g.leaf_values["x"].dtype == np.float32
    assert grads["x"].dtype == np.float32


def test_with_values_overrides_a_leaf():
    g = backprop_cli.loads("inputs: {x: 1}\nnodes: {f: x * x}\noutput: f\n")
    assert g.with_values({"x": 3}).backward()["x"] == 6.0
    assert g.backward()["x"] == 2.0


def test_fork_sums_gradients():
    g = backprop_cli.loads("inputs: {x1: 2, x2: 3}\nnodes:\n  f: sin(x2) + x1 * x2\noutput: f\n")
    assert g.backward()["x2"] == pytest.approx(math.cos(3) + 2)
    assert g.consumers()["x2"] == ["f.sin1", "f.mul1"]


def test_a_long_chain_traces_without_recursion():
    """3 times Python's recursion limit (3,000 nodes): any recursive walk of the graph would fail here. (20 times
    took 7 s, most of it loading 20,000 lines: bench/loader_bench.py measures a 25,000-node chain.)"""
    n = 3 * max(sys.getrecursionlimit(), 1000)
    lines = ["inputs: {x: 0.5}", "nodes:", "  n1: x + 1"]
    lines += [f"  n{i}: n{i - 1} + 1" for i in range(2, n + 1)]
    g = backprop_cli.loads("\n".join(lines) + f"\noutput: n{n}\n")
    assert g.forward()[f"n{n}"] == n + 0.5
    assert g.backward()["x"] == 1.0
    assert g.jvp({"x": 2.0})[f"n{n}"] == 2.0


def test_tensor_jvp_equals_vjp_projection():
    g = backprop_cli.loads(
        "inputs: {x: {shape: [5, 4], init: normal}}\nparams: {w: {shape: [4, 3], init: normal}, b: [0.1, 0.2, 0.3]}\n"
        "nodes:\n  h: tanh(x @ w + b)\n  L: mean(h ** 2)\noutput: L\nseed: 1\n"
    )
    rng = np.random.default_rng(0)
    v = rng.standard_normal((4, 3))
    assert g.jvp({"w": v})["L"] == pytest.approx(float(np.sum(g.backward()["w"] * v)), rel=1e-12)


def test_a_copy_with_other_nodes_does_not_reuse_the_originals_plans():
    """Graph.cache holds what follows from the nodes; dataclasses.replace must start a copy afresh."""
    from dataclasses import replace

    square = backprop_cli.loads("inputs: {x: 3.0}\nnodes: {f: x * x}\noutput: f\n")
    double = backprop_cli.loads("inputs: {x: 3.0}\nnodes: {f: x + x}\noutput: f\n")
    assert square.backward()["x"] == 6.0  # fills square's cache
    copy = replace(square, nodes=double.nodes)
    assert copy.forward()["f"] == 6.0 and copy.backward()["x"] == 2.0
