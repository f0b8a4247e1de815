"""Speed and scale (issue 16), checked for correctness: the API's remembered values, many scalar leaves at
once, references near the subnormal range, and the batched matrix product, each against an oracle."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import backprop_cli
from backprop_cli import loads
from backprop_cli.engines import api
from backprop_cli.errors import UsageError
from backprop_cli.ops import OPS
from backprop_cli.ops.linalg import _product
from backprop_cli.verify import gradcheck
from backprop_cli.verify.batched import downstream
from backprop_cli.verify.many import path_facts
from tests.test_gradcheck import wrong_rule

# ------------------------------------------------------------------ the Python API


def test_backward_reuses_the_values_of_forward(monkeypatch):
    g = backprop_cli.load("two_layer")
    calls = []
    real = api.evaluate
    monkeypatch.setattr(api, "evaluate", lambda graph: calls.append(1) or real(graph))
    values = g.forward()
    grads = g.backward()
    g.backward(wrt=["w1"])
    g.jvp({"w2": 1.0})
    assert len(calls) == 1
    h = 1 / (1 + np.exp(-values["x"] @ values["w1"]))  # the lecture's lines as the oracle
    grad_y_pred = 2 * (h @ values["w2"] - values["y"])
    np.testing.assert_allclose(grads["w2"], h.T @ grad_y_pred, rtol=1e-12)
    expected = (grad_y_pred @ values["w2"].T * h * (1 - h)) @ values["w1"].T
    # rounding: σ's slope is applied as g·(σ(1-σ)) (the op table's local derivative), the oracle's g·σ·(1-σ);
    # the sum over 100 hidden units then cancels in a few elements, so the error is relative to the terms
    np.testing.assert_allclose(grads["x"], expected, rtol=1e-12, atol=1e-12 * np.max(np.abs(expected)))


def test_backward_without_forward_evaluates_once_and_new_leaves_are_noticed():
    g = loads("inputs: {x: [1.0, 2.0]}\nnodes:\n  f: sum(x * x)\noutput: f\n")
    np.testing.assert_array_equal(g.backward()["x"], [2.0, 4.0])
    g.leaf_values["x"] = np.array([3.0, -1.0])  # a new array: noticed
    np.testing.assert_array_equal(g.backward()["x"], [6.0, -2.0])
    h = g.with_values({"x": [5.0, 5.0]})  # a new graph: its own values
    assert h.forward()["f"] == 50.0 and g.forward()["f"] == 10.0


def test_returned_arrays_are_read_only_views_not_copies():
    g = loads("inputs: {x: [1.0, 2.0]}\nnodes:\n  f: sum(x * x)\noutput: f\n")
    values = g.forward()
    with pytest.raises(ValueError, match="read-only"):
        values["x"][0] = 7.0
    assert np.shares_memory(values["x"], g.leaf_values["x"])
    mine = np.array(values["x"])
    mine[0] = 7.0  # a copy is the user's to change
    assert g.backward()["x"][0] == 2.0


def test_backward_wrt_gives_only_those_and_the_same_numbers():
    g = backprop_cli.load("two_layer")
    every = g.backward()
    some = g.backward(wrt=["w1", "w2"])
    assert set(some) == {"w1", "w2"}
    np.testing.assert_array_equal(some["w1"], every["w1"])
    with pytest.raises(UsageError, match="not a leaf or node"):
        g.backward(wrt=["w3"])


def test_grad_output_gives_vector_jacobian_products():
    g = loads(
        "inputs: {x: [0.5, -1.0, 2.0]}\nparams: {w: [[1.0, 2.0], [0.5, -1.0], [3.0, 1.0]]}\n"
        "nodes:\n  y: tanh(x @ w)\noutput: y\n"
    )
    v = np.array([0.3, -2.0])
    t = np.array([1.0, 2.0, -0.5])
    vjp = g.backward(grad_output=v)["x"]
    jvp = g.jvp({"x": t})["y"]
    assert np.dot(vjp, t) == pytest.approx(np.dot(v, jvp), rel=1e-12)  # <vᵀJ, t> = <v, J t>


# ------------------------------------------------------------------ many scalar leaves


def sum_of_leaves(n: int) -> str:
    leaves = "".join(f"  x{i}: {0.5 + i / n}\n" for i in range(n))
    chain = "".join(f"  s{i}: s{i - 1} + sin(x{i}) * x{i}\n" for i in range(1, n))
    return f"inputs:\n{leaves}nodes:\n  s0: sin(x0) * x0\n{chain}output: s{n - 1}\n"


def test_many_scalar_leaves_pass_and_a_wrong_rule_on_one_is_caught_and_named():
    graph = loads(sum_of_leaves(200))
    report = gradcheck(graph)
    assert report.passed and len(report.leaves) == 200
    assert all(c.elements == 1 and c.directions == 2 and c.method == "complex" for c in report.leaves.values())
    broken = gradcheck(wrong_rule(graph, "s57.mul1", 1, 0, 1e-6))  # the gradient of x57 off by 1e-6
    failing = [n for n, c in broken.leaves.items() if c.status == "fail"]
    assert failing == ["x57"]


def test_scalar_leaves_through_a_kink_are_named_as_one_at_a_time():
    text = "inputs: {a: 0.0, b: 1.0, c: -2.0}\nnodes:\n  f: relu(a) * b + relu(c) * b + a * c\noutput: f\n"
    report = gradcheck(loads(text))
    assert report.leaves["a"].status == "kink" and report.leaves["a"].findings[0].gate == "f.relu1"
    assert report.leaves["b"].status == "pass" and report.leaves["c"].status == "pass"


def test_path_facts_agree_with_walking_each_leafs_path():
    graph = backprop_cli.load("npfl114_relu")
    facts = path_facts(graph)
    for name in graph.leaf_values:
        gates = downstream(graph, name)
        assert facts.analytic[name] == all(n.operation.analytic for n in gates), name


# ------------------------------------------------------------------ references near the subnormal range


def chain(n: int) -> str:
    gates = "".join(f"  a{i}: " + (f"tanh(a{i - 1})\n" if i % 2 == 0 else f"a{i - 1} * w\n") for i in range(1, n))
    return f"inputs: {{x: 0.5}}\nparams: {{w: 1.5}}\nnodes:\n  a0: tanh(x)\n{gates}output: a{n - 1}\n"


def test_a_deep_chain_whose_gradient_underflows_passes_and_wrong_rules_are_still_caught(monkeypatch):
    graph = loads(chain(1500))
    grads = graph.backward()
    assert 0 < abs(grads["x"]) < 1e-290  # the reference's imaginary parts are subnormal
    report = gradcheck(graph)
    assert report.passed and "judged as zero" in report.leaves["x"].notes[0] and not report.leaves["w"].notes
    broken = gradcheck(wrong_rule(graph, "a1499", 1, 0, 1e-5))  # w: a gradient of about 1.4, judged as ever
    assert broken.leaves["w"].status == "fail"
    shallow = loads(chain(200))  # a gradient of about 1e-40: no underflow, judged at rtol as ever
    assert 1e-300 < abs(shallow.backward()["x"]) < 1e-20
    wrong = wrong_rule(shallow, "a0", 0, 0, 1e-6).nodes["a0"].operation
    monkeypatch.setitem(OPS, "tanh", wrong)  # the wrong rule as the built-in op: the complex step still applies
    nodes = {name: replace(n, operation=wrong) if n.op == "tanh" else n for name, n in shallow.nodes.items()}
    broken = replace(shallow, nodes=nodes)
    report = gradcheck(broken)
    assert report.leaves["x"].method == "complex" and report.leaves["x"].status == "fail"


# ------------------------------------------------------------------ the batched matrix product


@pytest.mark.parametrize("kind", ["dense", "complex_b", "complex_a", "sparse", "same_items"])
def test_batched_product_matches_einsum(kind):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 7))
    b = rng.standard_normal((4, 7, 3))
    if kind == "complex_b":
        b = b + 1j * rng.standard_normal(b.shape)
    if kind == "complex_a":
        a, b = rng.standard_normal((4, 5, 7)) + 1j * rng.standard_normal((4, 5, 7)), rng.standard_normal((7, 3))
    if kind == "sparse":
        b = np.zeros((400, 7, 3))
        b[rng.integers(400, size=5), rng.integers(7, size=5), rng.integers(3, size=5)] = rng.standard_normal(5)
    if kind == "same_items":
        b = np.broadcast_to(rng.standard_normal((7, 3)), (4, 7, 3)) + 1e-20j * (rng.random((4, 7, 3)) < 0.05)
    expected = np.einsum("...ij,...jk->...ik", a, b)
    np.testing.assert_allclose(_product(a, b), expected, rtol=1e-13, atol=1e-300)


# ------------------------------------------------------------------ in-place optimizers round as the formulas


def formula_step(name, theta, g, state, t, lr, h):
    """The lectures' formulas, one new array per operation (the oracle for the in-place updates)."""
    if name == "sgd":
        return theta - lr * g
    if name == "adagrad":
        state["r"] = state["r"] + g * g
        return theta - lr / np.sqrt(state["r"] + h["eps"]) * g
    if name == "rmsprop":
        state["r"] = h["rho"] * state["r"] + (1 - h["rho"]) * g * g
        return theta - lr / np.sqrt(state["r"] + h["eps"]) * g
    state["s"] = h["beta1"] * state["s"] + (1 - h["beta1"]) * g
    state["r"] = h["beta2"] * state["r"] + (1 - h["beta2"]) * g * g
    s_hat, r_hat = state["s"] / (1 - h["beta1"] ** t), state["r"] / (1 - h["beta2"] ** t)
    return theta - lr / np.sqrt(r_hat + h["eps"]) * s_hat


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adam"])
def test_in_place_updates_are_the_formulas_to_the_last_bit(name, dtype):
    from backprop_cli.training.optimizers import make_optimizer

    rng = np.random.default_rng(5)
    opt = make_optimizer(name, lr=0.01)
    theta = rng.standard_normal((30, 7)).astype(dtype)
    expected = theta.copy()
    state = {"r": np.zeros_like(theta), "s": np.zeros_like(theta)}
    for t in range(1, 6):
        g = rng.standard_normal(theta.shape).astype(dtype)
        opt.update({"w": theta}, {"w": g}, 0.01)
        expected = formula_step(name, expected, g, state, t, 0.01, opt.hyper)
        np.testing.assert_array_equal(theta, expected)


# ------------------------------------------------------------------ JSON written slice by slice


@pytest.mark.parametrize("shape", [(70,), (30, 30), (3, 70), (2, 3, 40), (5, 0), (100, 2)])
def test_streamed_json_reads_back_as_json_dumps_of_the_lists(shape, monkeypatch):
    """Slices of 64 numbers (65,536 in use) on arrays a thousandth as large: the same cuts between slices, rows
    and blocks of rows, in milliseconds."""
    import json

    from backprop_cli.numbers import to_json
    from backprop_cli.outputs import json_output
    from backprop_cli.outputs.json_output import emit_json

    monkeypatch.setattr(json_output, "ARRAY_SLICE", 64)
    monkeypatch.setattr(json_output, "INLINE_UP_TO", 1)
    a = np.random.default_rng(2).standard_normal(shape)
    if a.size > 5:
        a.flat[3], a.flat[-1] = np.nan, -np.inf
    pieces = []
    emit_json({"a": a, "b": [1, 2.5]}, write=pieces.append)
    assert json.loads("".join(pieces)) == json.loads(json.dumps({"a": to_json(a), "b": [1, 2.5]}))


def test_trace_json_is_indented_when_small_and_compact_when_asked(tmp_path):
    import json

    from click.testing import CliRunner

    from backprop_cli.cli import main
    from backprop_cli.engines.trace import run_trace
    from backprop_cli.numbers import to_json
    from backprop_cli.outputs.formats import Settings, present

    result = CliRunner().invoke(main, ["trace", "circuit", "--json"])
    expected = present("trace", "json", run_trace(backprop_cli.load("circuit")), Settings("json")).data
    expected = {**expected, **{k: {n: to_json(v) for n, v in expected[k].items()} for k in ("values", "gradients")}}
    assert result.output == json.dumps(expected, indent=2) + "\n"  # small documents: as before
    compact = CliRunner().invoke(main, ["trace", "circuit", "--json", "--compact"])
    assert "\n" not in compact.output.strip() and json.loads(compact.output) == expected


# ------------------------------------------------------------------ BLAS threads


def test_small_products_get_one_blas_thread_unless_the_user_chose(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    from backprop_cli.commands import threads

    for name in threads.SETTINGS:
        monkeypatch.delenv(name, raising=False)
    while threads._limit:  # set by a command run earlier in this process
        threads._limit.pop().restore_original_limits()
    assert threads.largest_product(backprop_cli.load("two_layer")) == 64 * 1000 * 100
    assert threads.choose_blas_threads(backprop_cli.load("circuit")) is None  # no products: left alone
    with threadpool_limits(limits=2, user_api="blas"):  # the suite runs on one thread: start from two
        try:
            assert threads.choose_blas_threads(backprop_cli.load("two_layer")) == 1
            blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
            assert blas and all(n == 1 for n in blas)
        finally:
            while threads._limit:
                threads._limit.pop().restore_original_limits()
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert threads.choose_blas_threads(backprop_cli.load("two_layer")) is None


@pytest.mark.parametrize("name", ["circuit", "npfl114_relu", "sigmoid_neuron", "sigmoid_chain", "rosenbrock"])
def test_scalar_leaves_together_agree_with_one_at_a_time(name, monkeypatch):
    from backprop_cli.verify import check

    graph = backprop_cli.load(name)
    together = gradcheck(graph, method="richardson")
    monkeypatch.setattr(check, "_check_scalars", lambda ctx, names: {})  # the per-leaf path as the second opinion
    alone = gradcheck(graph, method="richardson")
    assert together.leaves.keys() == alone.leaves.keys()
    for leaf, mine in together.leaves.items():
        theirs = alone.leaves[leaf]
        assert (mine.status, mine.method, mine.elements, mine.directions) == (
            theirs.status,
            theirs.method,
            theirs.elements,
            theirs.directions,
        ), leaf
        assert mine.max_rel_error == pytest.approx(theirs.max_rel_error, rel=1e-3, abs=1e-9), leaf
