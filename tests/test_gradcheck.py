"""gradcheck (issue 3) against oracles: injected errors must be caught, kinks must be named, the example
graphs must pass, and the grouped batch engine must give what one-at-a-time evaluation gives."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from backprop_cli import load, loads
from backprop_cli.engines.reverse_mode import unbroadcast
from backprop_cli.errors import UsageError
from backprop_cli.examples import bundled
from backprop_cli.verify import gradcheck
from backprop_cli.verify.check import float64_reference
from backprop_cli.verify.numerical import Probe, derivative, make_probe, stencil_elements, steps_for


@pytest.mark.parametrize("path", bundled(), ids=lambda p: p.stem)
def test_every_example_graph_passes(path):
    report = gradcheck(load(path))
    bad = {n: (c.status, c.max_rel_error, c.findings[:1]) for n, c in report.leaves.items() if c.status != "pass"}
    assert report.status == "pass" and not bad, bad
    assert report.leaves, "something was checked"


# ------------------------------------------------------------------ injected errors are caught


def wrong_rule(graph, gate: str, slot: int, flat: int, rel: float, which: str = "vjp"):
    """The graph with one element of one gate's reverse (or forward) rule off by a relative error."""
    node = graph.nodes[gate]
    op = node.operation
    rules = list(getattr(op, which))
    rule = rules[slot]

    def wrong(g, out, *xs, **attrs):
        result = rule(g, out, *xs, **attrs)
        if which == "jvp":  # the whole tangent, however gradcheck batches it
            return result * (1 + rel)
        result = np.array(unbroadcast(result, np.shape(xs[slot])), dtype=float, copy=True)
        result.reshape(-1)[flat] *= 1 + rel
        return result

    rules[slot] = wrong
    nodes = dict(graph.nodes)
    nodes[gate] = replace(node, operation=replace(op, **{which: tuple(rules)}))
    return replace(graph, nodes=nodes)


INJECTIONS = [  # (graph, gate, operand slot): the operand is a leaf whose gradient gets one wrong element
    ("two_layer", "y_pred", 1),  # w2, 1000 elements
    ("npfl114_relu", "o.mul1", 0),  # w7
    ("conv_small", "out", 1),  # the 2x3x5x5 filters
    ("softmax_l2", "z", 1),  # W
    ("sigmoid_neuron", "f.mul1", 0),  # w0
    ("logistic_regression", "u", 0),  # w
    ("sigmoid_chain", "a2", 0),  # w2
]


@pytest.mark.parametrize("name, gate, slot", INJECTIONS)
@pytest.mark.parametrize("which", ["largest", "median"])
def test_a_relative_error_of_1e_6_in_one_element_is_caught(name, gate, slot, which):
    graph = load(name)
    leaf = graph.nodes[gate].inputs[slot]
    grad = np.abs(np.asarray(graph.backward()[leaf])).reshape(-1)
    nonzero = np.flatnonzero(grad > 0)
    flat = int(np.argmax(grad)) if which == "largest" else int(nonzero[np.argsort(grad[nonzero])[len(nonzero) // 2]])
    report = gradcheck(wrong_rule(graph, gate, slot, flat, 1e-6))
    check = report.leaves[leaf]
    assert check.status == "fail" and not report.passed, (check.max_rel_error, check.worst_index)
    assert check.worst_index == tuple(int(i) for i in np.unravel_index(flat, graph.nodes[leaf].shape))
    assert all(c.status == "pass" for n, c in report.leaves.items() if n != leaf)


def test_a_wrong_forward_rule_is_caught_though_reverse_mode_is_right():
    graph = load("sigmoid_neuron")
    report = gradcheck(wrong_rule(graph, "f.mul1", 0, 0, 1e-4, which="jvp"))
    check = report.leaves["w0"]
    assert check.status == "fail"
    assert check.worst_reverse == pytest.approx(check.worst_numeric, rel=1e-12)
    assert check.worst_forward != pytest.approx(check.worst_numeric, rel=1e-6)


def test_no_false_alarm_without_injection_at_the_same_points():
    for name, *_ in INJECTIONS:
        assert gradcheck(load(name)).status == "pass", name


# ------------------------------------------------------------------ kinks are kinks, with the gate named

KINKS = {  # graph file text, its output, the gate whose kink the stencil crosses
    "relu at 0": (
        "inputs: {x: [1.0, 0.0, -2.0]}\nparams: {w: [0.5, 1.5, -1.0]}\nnodes:\n  L: sum(relu(x * w) * 3)",
        "L",
        "L.relu1",
    ),
    "leaky relu at 0": ("inputs: {x: 0.0}\nnodes:\n  h: leaky_relu(x, alpha=0.1)\n  L: 2 * h", "L", "h"),
    "abs next to its kink": ("inputs: {x: 1.0}\nnodes:\n  h: abs(x - 1.000000001)\n  L: 2 * h", "L", "h"),
    "max tie": ("inputs: {z: 2, w: 2}\nnodes:\n  n: max(z, w)\n  f: 2 * n", "f", "n"),
    "min tie": ("inputs: {z: 2, w: 2}\nnodes:\n  n: min(z, w)\n  f: 2 * n", "f", "n"),
    "max over an axis, near a tie": ("inputs: {x: [1.0, 3.0, 3.000000001]}\nnodes:\n  m: max(x)\n  f: 2 * m", "f", "m"),
    "hinge at the margin": (
        "inputs: {x: [1.0, -2.0], y: [1, -1]}\nparams: {w: 1.0}\nnodes:\n  L: hinge(w * x, y)",
        "L",
        "L",
    ),
    "svm loss at the margin": (
        "inputs: {s: [[1.0, 0.0, 0.5]], labels: [0]}\nnodes:\n  L: multiclass_hinge(s, labels)",
        "L",
        "L",
    ),
    # the difference happens to agree with the subgradient (0 both ways): still a kink, as relu's is (issue 14)
    "3·abs(x) at 0": ("inputs: {x: 0.0}\nnodes:\n  L: 3 * abs(x)", "L", "L.abs1"),
    "relu(x) + relu(-x) at 0": ("inputs: {x: 0.0}\nnodes:\n  h: relu(x)\n  L: h + relu(-x)", "L", "h"),
    "sign at 0": ("inputs: {x: [0.0, 1.0]}\nnodes:\n  h: sign(x)\n  L: sum(h * 2)", "L", "h"),
    "clip at its lower bound": ("inputs: {x: [0.0, 0.5]}\nnodes:\n  c: clip(x, 0, 1)\n  L: sum(c * c)", "L", "c"),
    "clip at its upper bound": ("inputs: {x: [1.0, 0.5]}\nnodes:\n  c: clip(x, 0, 1)\n  L: sum(c * c)", "L", "c"),
    "max pool tie": (
        "inputs:\n  x: [[[1.0, 1.0], [0.5, -1.0]]]\nnodes:\n  p: max_pool2d(x, size=2)\n  L: sum(p * 3)",
        "L",
        "p",
    ),
}


@pytest.mark.parametrize("case", KINKS)
def test_a_stencil_across_a_kink_is_a_kink_with_its_gate_never_a_failure(case):
    body, output, gate = KINKS[case]
    graph = loads(f"{body}\noutput: {output}\n")
    report = gradcheck(graph)
    assert report.passed and report.status == "kink", {n: c.status for n, c in report.leaves.items()}
    kinks = [f for c in report.leaves.values() for f in c.findings if f.status == "kink"]
    assert kinks and all(f.gate == gate for f in kinks), [(f.index, f.gate) for f in kinks]
    assert all(c.failures == 0 for c in report.leaves.values())
    strict = gradcheck(graph, strict=True)
    assert not strict.passed and strict.status == "fail"


def test_one_sided_slopes_are_reported_at_a_relu_kink():
    report = gradcheck(loads("inputs: {x: 0.0}\nnodes: {L: 3 * relu(x)}\noutput: L\n"))
    (finding,) = [f for f in report.leaves["x"].findings if f.index is not None]
    assert (finding.left, finding.right, finding.reverse) == (pytest.approx(0), pytest.approx(3), 0)


def test_a_kink_near_the_point_is_stepped_over_not_reported():
    """The pre-activation is 1e-4 from 0: the first step crosses it, a smaller one does not."""
    report = gradcheck(loads("inputs: {x: 1.0e-4}\nparams: {w: 1.0}\nnodes: {L: 3 * relu(w * x - 0.0)}\noutput: L\n"))
    assert report.status == "pass", report.leaves["w"].findings


# ------------------------------------------------------------------ float32, modes, methods


def test_float32_graphs_pass_against_a_float64_reference_and_still_catch_errors():
    graph = load("mlp_float32")
    assert graph.dtype == np.float32
    report = gradcheck(graph, mode="full")
    assert report.status == "pass" and report.dtype == "float32"
    assert max(c.max_rel_error for c in report.leaves.values()) < 1e-3
    grad = np.abs(graph.backward()["w2"]).reshape(-1)
    broken = gradcheck(wrong_rule(graph, "scores.matmul1", 1, int(np.argmax(grad)), 1e-2))
    assert broken.leaves["w2"].status == "fail"


def test_modes_choose_the_elements():
    graph = load("two_layer")
    full = gradcheck(graph, mode="full", wrt=["w2"])
    assert full.leaves["w2"].elements == 1000 and full.leaves["w2"].mode == "full"
    sample = gradcheck(graph, mode="sample", samples=5, wrt=["w1"])
    assert 5 <= sample.leaves["w1"].elements <= 6 and sample.leaves["w1"].directions == 2
    direction = gradcheck(graph, mode="direction", directions=3, wrt=["w1"])
    assert direction.leaves["w1"].elements == 0 and direction.leaves["w1"].directions == 3
    auto = gradcheck(graph)  # x 64x1000 and w1 1000x100 are big: a sample; y 64x10 and w2 100x10: every element
    assert {n: c.mode for n, c in auto.leaves.items()} == {"x": "sample", "y": "full", "w1": "sample", "w2": "full"}


def test_methods_complex_where_analytic_richardson_elsewhere_and_on_request():
    graph = load("npfl114_relu")
    report = gradcheck(graph)
    assert report.leaves["w7"].method == "complex"  # o and the squared error: analytic
    assert report.leaves["w1"].method == "richardson"  # through a ReLU
    forced = gradcheck(graph, method="complex")
    assert forced.leaves["w1"].method == "richardson" and forced.leaves["w1"].notes
    for method in ("central", "richardson"):
        assert gradcheck(graph, method=method).status == "pass", method


def test_nodes_and_wrt_choose_what_is_checked():
    graph = load("circuit")
    assert set(gradcheck(graph).leaves) == {"x", "y", "z"}
    assert set(gradcheck(graph, nodes=True).leaves) == {"x", "y", "z", "q"}
    assert set(gradcheck(graph, wrt=["z"]).leaves) == {"z"}
    with pytest.raises(UsageError, match="did you mean 'q'"):
        gradcheck(graph, wrt=["qq"])


def test_labels_and_unused_leaves_are_skipped_with_the_reason():
    graph = loads(
        "inputs: {s: [[1.0, 2.0, 0.5]], labels: [1], spare: 3}\nnodes:\n  L: cross_entropy(s, labels)\noutput: L\n"
    )
    report = gradcheck(graph)
    assert set(report.leaves) == {"s"}
    assert "labels" in report.skipped["labels"] and "not on a path" in report.skipped["spare"]


def test_a_non_scalar_output_is_projected_on_a_seeded_random_cotangent():
    graph = loads("inputs: {x: [1.0, 2.0, 3.0]}\nnodes: {y: x * x}\noutput: y\n")
    assert gradcheck(graph).status == "pass"
    broken = wrong_rule(graph, "y", 0, 1, 1e-5)
    assert gradcheck(broken, mode="full").leaves["x"].worst_index == (1,)


# ------------------------------------------------------------------ the grouped engine is exact


@pytest.mark.parametrize("method", ["complex", "richardson"])
def test_grouped_perturbations_equal_one_at_a_time(method):
    """Elements perturbed together (their effects land in different slices) give the same reference as
    elements perturbed one per row: the slices really are independent."""
    from backprop_cli.engines.evaluate import evaluate
    from backprop_cli.verify.batched import plan

    graph = loads(
        "seed: 1\ninputs: {x: {shape: [6, 4], init: normal}}\n"
        "params: {w: {shape: [4, 5], init: normal}, b: {shape: [5], init: normal}}\n"
        "nodes:\n  h: tanh(x @ w + b)\n  L: sum(softmax(h @ transpose(w), axis=-1) ** 2)\noutput: L\n"
    )
    reference, base = float64_reference(graph, evaluate(graph))
    for name in ("x", "w", "b"):
        grouped = make_probe(reference, base, name, np.ones(()))
        single = Probe(reference, base, name, plan(reference, name, grouped=False), np.ones(()))
        flat = np.arange(grouped.value.size)
        steps = steps_for(grouped.value.reshape(-1), method, None)
        a = derivative(stencil_elements(grouped, flat, steps, method), method).value
        b = derivative(stencil_elements(single, flat, steps, method), method).value
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=name)
    assert plan(reference, "w").axes == (1,) and "h" in plan(reference, "w").maps


def test_nothing_checked_is_never_a_pass():
    graph = loads("inputs: {s: [[1.0, 2.0]], labels: [1]}\nnodes:\n  L: cross_entropy(s, labels)\noutput: L\n")
    with pytest.raises(UsageError, match="nothing to check"):
        gradcheck(graph, wrt=["labels"])
    with pytest.raises(UsageError, match="check nothing"):
        gradcheck(graph, mode="direction", directions=0)
    empty = gradcheck(loads("inputs: {x: {shape: [0, 3]}}\nnodes:\n  L: sum(x)\noutput: L\n"))
    assert not empty.passed and "nothing to check" in empty.errors[0] and "empty" in empty.errors[0]


def test_zero_size_leaves_are_skipped_not_a_crash():
    graph = loads(
        "inputs: {x: {shape: [0, 3]}}\nparams: {w: [[1.0], [2.0], [3.0]]}\nnodes:\n  f: sum(x @ w) + sum(w * w)\n"
        "output: f\n"
    )
    report = gradcheck(graph)
    assert report.passed and set(report.leaves) == {"w"} and "empty" in report.skipped["x"]
