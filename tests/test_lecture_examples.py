"""Every worked example of the lectures (../shared/seeds) as a graph file in graphs/, with its numbers.

Oracles: the numbers the lectures print, and the lectures' own formulas written out in NumPy here
(the chain-rule products of CMSC 491, logistic regression's -(1 - σ(wᵀx))xᵀ, the 20-line two-layer net).
"""

from __future__ import annotations

import lecture_numpy
import numpy as np
import pytest

from backprop_cli import load
from backprop_cli.examples import bundled

LECTURE_GRAPHS = {
    "circuit", "sigmoid_neuron", "sigmoid_gate", "perceptron", "sigmoid_chain", "logistic_regression",
    "npfl114_relu", "sin_fork", "gates", "softmax_l2", "two_layer", "conv_small", "relu_layer",
    "sigmoid_saturation", "activations", "hinge", "maxout", "neuron_2d",
}  # fmt: skip


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def values_and_gradients(name: str):
    graph = load(name)
    return graph, graph.forward(), graph.backward()


def test_every_lecture_example_ships_as_a_graph_file():
    assert LECTURE_GRAPHS <= {p.stem for p in bundled()}


def test_circuit_f_of_x_y_z_at_minus_2_5_minus_4():
    """cs231n / seeds 004: q = 3, f = -12; df/dx = df/dy = -4, df/dz = 3, df/dq = -4."""
    _, v, g = values_and_gradients("circuit")
    assert (v["q"], v["f"]) == (3, -12)
    assert (g["x"], g["y"], g["z"], g["q"], g["f"]) == (-4, -4, 3, -4, 1)


def test_npfl114_relu_network_reproduces_the_whole_table():
    """seeds 001: ∂L/∂o = 6, ∂L/∂w7 = 24, ∂L/∂w8 = 0, ∂L/∂w9 = 30, … ∂L/∂x1 = 0, ∂L/∂x2 = 18."""
    _, v, g = values_and_gradients("npfl114_relu")
    table = {
        "o": 6, "w7": 24, "w8": 0, "w9": 30, "w1": -6, "w2": -12, "w3": 0, "w4": 0, "w5": 12, "w6": 24,
        "h1": -6, "h2": 18, "h3": 12, "i1": -6, "i2": 0, "i3": 12, "x1": 0, "x2": 18,
    }  # fmt: skip
    assert {k: g[k] for k in table} == table
    assert 2 * (v["o"] - v["gold"]) == 6 and v["h2"] == 0  # h2's ReLU is dead: why ∂L/∂w8 = 0


@pytest.mark.parametrize("name", ["sigmoid_neuron", "sigmoid_gate"])
def test_sigmoid_neuron_f_073_dw0_minus_020_dx0_039(name):
    """cs231n: w = (2, -3, -3), x = (-1, -2): f = 0.73, dw = (-0.20, -0.39, 0.20), dx = (0.39, -0.59)."""
    _, v, g = values_and_gradients(name)
    z = 2 * -1 + -3 * -2 + -3
    s = sigmoid(z)
    assert v["f"] == pytest.approx(s) and round(v["f"], 2) == 0.73
    local = s * (1 - s)  # the sigmoid gate's local gradient, 0.20
    expected = {"w0": local * -1, "w1": local * -2, "w2": local, "x0": local * 2, "x1": local * -3}
    assert {k: g[k] for k in expected} == pytest.approx(expected, rel=1e-14)
    assert {k: round(g[k], 2) for k in expected} == {"w0": -0.2, "w1": -0.39, "w2": 0.2, "x0": 0.39, "x1": -0.59}


def test_neuron_2d_indexes_like_the_notes_code():
    """cs231n's staged computation, transcribed line by line: dot = w[0]*x[0] + w[1]*x[1] + w[2];
    ddot = (1 - f) * f; dx = [w[0] * ddot, w[1] * ddot]; dw = [x[0] * ddot, x[1] * ddot, 1.0 * ddot]."""
    _, v, g = values_and_gradients("neuron_2d")
    w, x = [2, -3, -3], [-1, -2]
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + np.exp(-dot))
    ddot = (1 - f) * f
    assert v["f"] == pytest.approx(f, rel=1e-15) and g["dot"] == pytest.approx(ddot, rel=1e-15)
    np.testing.assert_allclose(g["x"], [w[0] * ddot, w[1] * ddot], rtol=1e-15)
    np.testing.assert_allclose(g["w"], [x[0] * ddot, x[1] * ddot, 1.0 * ddot], rtol=1e-15)
    assert np.round(g["w"], 2).tolist() == [-0.2, -0.39, 0.2] and np.round(g["x"], 2).tolist() == [0.39, -0.59]
    index_gates = [n for n in load("neuron_2d").gates if n.op == "index"]
    assert len(index_gates) == 5 and all(n.operation.gate_kind.role == "router" for n in index_gates)


def test_sigmoid_neuron_one_gate_per_operation_with_the_figures_values():
    """The expanded circuit: -2, 6, 4, 1, -1, 0.37, 1.37, 0.73 forward; -0.53 at the add before 1/x."""
    _, v, g = values_and_gradients("sigmoid_neuron")
    forward = {"f.mul1": -2, "f.mul2": 6, "f.add1": 4, "f.add2": 1, "f.neg1": -1, "f.exp1": 0.37, "f.add3": 1.37}
    assert {k: round(float(v[k]), 2) for k in forward} == forward
    assert round(g["f.add3"], 2) == -0.53 and round(g["f.exp1"], 2) == -0.53 and round(g["f.add2"], 2) == 0.2


def test_perceptron_gradient_and_update():
    """seeds 000: ŷ = wx, L = ½(y - ŷ)²: dL/dw = -(y - ŷ)x, and w ← w + (y - ŷ)x."""
    graph, v, g = values_and_gradients("perceptron")
    x, y, w = v["x"], v["y"], v["w"]
    assert g["w"] == -(y - w * x) * x == -4
    from backprop_cli.training.loop import train
    from backprop_cli.training.optimizers import make_optimizer

    run = train(graph, make_optimizer("sgd", lr=1.0), steps=1)
    assert float(run.params["w"]) == w + (y - w * x) * x


def test_sigmoid_chain_matches_the_chain_rule_products():
    """seeds 000: ∂L/∂w3 = ∂L/∂f3 ∂f3/∂a3 ∂a3/∂w3, … down to ∂L/∂b, with σ' = σ(1 - σ)."""
    _, v, g = values_and_gradients("sigmoid_chain")
    x, y, w1, b1, w2, w3 = (v[k] for k in ("x", "y", "w1", "b1", "w2", "w3"))
    f1 = sigmoid(w1 * x + b1)
    f2 = sigmoid(w2 * f1)
    f3 = sigmoid(w3 * f2)
    dl_df3 = -(y - f3)
    d3 = dl_df3 * f3 * (1 - f3)
    d2 = d3 * w3 * f2 * (1 - f2)
    d1 = d2 * w2 * f1 * (1 - f1)
    assert (g["w3"], g["w2"], g["w1"], g["b1"]) == pytest.approx((d3 * f2, d2 * f1, d1 * x, d1), rel=1e-14)


def test_logistic_regression_gradient_is_minus_one_minus_sigma_times_x_plus_w():
    """seeds 002: w̄ = -(1 - σ(wᵀx))xᵀ for the log loss (y = 1), plus w from ½‖w‖²."""
    _, v, g = values_and_gradients("logistic_regression")
    w, x, lam, y = v["w"], v["x"], v["lam"], v["y"]
    assert y == 1
    assert g["w"] == pytest.approx(w + lam * -(1 - sigmoid(w @ x)) * x, rel=1e-14)
    assert g["p"] == pytest.approx(-lam / v["p"])  # p̄ = -1/p, times λ


def test_sin_fork_gradients_from_both_paths_are_summed():
    """seeds 002: x̄2 = ā1 cos(x2) + ā2 x1, x̄1 = ā2 x2."""
    _, v, g = values_and_gradients("sin_fork")
    assert g["x2"] == pytest.approx(np.cos(v["x2"]) + v["x1"]) and g["x1"] == v["x2"]


def test_gates_add_distributes_mul_switches_max_routes():
    _, v, g = values_and_gradients("gates")
    assert (g["m"], g["n"]) == (2, 2)  # add distributes (times the 2 of f = 2s)
    assert (g["x"], g["y"]) == (2 * v["y"], 2 * v["x"]) == (-8, 6)  # mul switches
    assert (g["z"], g["w"]) == (2, 0)  # max routes to the winner


def test_softmax_loss_with_l2_against_numpy():
    """seeds 004: L = -(1/N) Σ p·log(s) + reg·‖W‖², s = softmax(XW)."""
    _, v, g = values_and_gradients("softmax_l2")
    X, p, W, reg = v["X"], v["p"], v["W"], v["reg"]
    z = X @ W
    s = np.exp(z - z.max(axis=1, keepdims=True))
    s /= s.sum(axis=1, keepdims=True)
    assert v["L"] == pytest.approx(-np.mean(np.sum(p * np.log(s), axis=1)) + reg * np.sum(W**2), rel=1e-14)
    assert g["W"] == pytest.approx(X.T @ (s - p) / len(X) + 2 * reg * W, rel=1e-12)


def test_two_layer_network_against_the_lectures_numpy_lines():
    """seeds 004, lines 9-17 of the 20-line network: the same loss and gradients."""
    graph, v, g = values_and_gradients("two_layer")
    x, y, w1, w2 = v["x"], v["y"], v["w1"], v["w2"]
    assert (x.shape, w1.shape, w2.shape, y.shape) == ((64, 1000), (1000, 100), (100, 10), (64, 10))
    loss, grad_w1, grad_w2 = lecture_numpy.step(x, y, w1, w2)
    assert v["loss"] == pytest.approx(loss, rel=1e-13)
    np.testing.assert_allclose(g["w2"], grad_w2, rtol=1e-11, atol=1e-9)
    np.testing.assert_allclose(g["w1"], grad_w1, rtol=1e-11, atol=1e-9)


def test_conv_layer_3x32x32_input_two_3x5x5_filters_shared_weights():
    """seeds 000: h^r = Σ_ijk x^r_ijk W_ijk + b for every 3x5x5 window r, one output slice per filter."""
    _, v, g = values_and_gradients("conv_small")
    x, w, b = v["x"], v["w"], v["b"]
    assert x.shape == (3, 32, 32) and w.shape == (2, 3, 5, 5) and v["out"].shape == (2, 28, 28)
    out = np.zeros((2, 28, 28))
    dw = np.zeros_like(w)
    for f in range(2):
        for i in range(28):
            for j in range(28):
                out[f, i, j] = np.sum(x[:, i : i + 5, j : j + 5] * w[f]) + b[f]
    for f in range(2):  # L = ½ Σ out²: dL/dout = out; the shared weights sum over every window
        for i in range(28):
            for j in range(28):
                dw[f] += out[f, i, j] * x[:, i : i + 5, j : j + 5]
    np.testing.assert_allclose(v["out"], out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g["w"], dw, rtol=1e-10)
    np.testing.assert_allclose(g["b"], out.sum(axis=(1, 2)), rtol=1e-12)


def test_relu_layer_rows_of_dead_units_get_no_gradient():
    """seeds 002: ∂L/∂h0 = Wᵀ(∂L/∂h1 ⊙ 1[h1 > 0]), ∂L/∂W row i = ∂L/∂h1_i h0ᵀ."""
    _, v, g = values_and_gradients("relu_layer")
    W, h0 = v["W"], v["h0"]
    h1 = np.maximum(W @ h0, 0)
    upstream = h1 * (W @ h0 > 0)
    assert g["h0"] == pytest.approx(W.T @ upstream) and g["W"] == pytest.approx(np.outer(upstream, h0))
    assert np.any(W @ h0 <= 0) and np.all(g["W"][W @ h0 <= 0] == 0)


def test_saturated_sigmoids_kill_the_gradient():
    """seeds 004: what happens at x = -10, 0, 10: σ' = 4.5e-5, 0.25, 4.5e-5."""
    _, _, g = values_and_gradients("sigmoid_saturation")
    assert np.round(g["x"], 6).tolist() == [4.5e-05, 0.25, 4.5e-05]


def test_activation_functions_as_the_lectures_define_them():
    _, v, g = values_and_gradients("activations")
    x, alpha = v["x"], v["alpha"]
    assert v["lr"] == pytest.approx(np.maximum(0.01 * x, x)) and v["lr"] == pytest.approx(v["lr_max"])
    assert v["pr"] == pytest.approx(np.maximum(alpha * x, x))
    assert v["e"] == pytest.approx(np.where(x > 0, x, np.exp(x) - 1))
    assert g["alpha"] == pytest.approx(np.sum(np.minimum(x, 0)))  # backprop into α: the negative inputs


def test_hinge_only_margin_violators_send_gradient():
    _, v, g = values_and_gradients("hinge")
    x, y, w = v["x"], v["y"], v["w"]
    active = 1 - y * w * x > 0
    assert g["w"] == pytest.approx(np.sum(-y * x * active) / len(x))


def test_maxout_routes_to_the_winning_line():
    _, v, g = values_and_gradients("maxout")
    winner, loser = ("1", "2") if v["z1"] >= v["z2"] else ("2", "1")
    assert g[f"w{winner}"] == pytest.approx(v["x"]) and np.all(g[f"w{loser}"] == 0) and g[f"b{loser}"] == 0
