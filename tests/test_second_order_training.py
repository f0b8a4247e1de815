"""train --optimizer newton and lbfgs: Newton's step against the closed form, convergence on the race's
graphs, what damping does on the saddle, and the refusal of graphs too big for a Hessian."""

from __future__ import annotations

import json

import numpy as np
import pytest

import backprop_cli
from backprop_cli.training.loop import train
from backprop_cli.training.optimizers import make_optimizer

ROSENBROCK = """
params: {x: -1.2, y: 1.0}
nodes:
  loss: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2
output: loss
"""


def rosenbrock_grad(x, y):
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def rosenbrock_hessian(x, y):
    return np.array([[1200 * x**2 - 400 * y + 2, -400 * x], [-400 * x, 200.0]])


@pytest.mark.parametrize(("lr", "damping"), [(1.0, 1e-3), (0.5, 10.0)])
def test_newton_follows_the_closed_form_step_by_step(lr, damping):
    run = train(backprop_cli.loads(ROSENBROCK), make_optimizer("newton", lr=lr, damping=damping), 8)
    theta = np.array([-1.2, 1.0])
    for t, ours in enumerate(run.path[1:], 1):
        h = rosenbrock_hessian(*theta) + damping * np.eye(2)
        theta = theta - lr * np.linalg.solve(h, rosenbrock_grad(*theta))
        np.testing.assert_allclose(ours, theta, rtol=1e-9, atol=1e-12, err_msg=f"step {t}")


@pytest.mark.parametrize("name", ["newton", "lbfgs"])
def test_second_order_methods_reach_rosenbrocks_minimum(name):
    run = train(backprop_cli.loads(ROSENBROCK), make_optimizer(name), 60)
    np.testing.assert_allclose([run.params["x"], run.params["y"]], [1.0, 1.0], atol=1e-6)
    assert run.final_loss < 1e-12


def test_lbfgs_on_an_ill_conditioned_quadratic_is_exact_in_a_few_steps():
    """On a quadratic in n = 2 dimensions, BFGS with exact curvature pairs needs few steps; SGD zig-zags."""
    text = "params: {a: 3.0, b: -2.0}\nnodes:\n  f: 0.5 * (a ** 2 + 100 * b ** 2)\noutput: f\n"
    lbfgs = train(backprop_cli.loads(text), make_optimizer("lbfgs"), 15)
    sgd = train(backprop_cli.loads(text), make_optimizer("sgd", lr=0.015), 15)
    assert lbfgs.final_loss < 1e-10 < sgd.final_loss
    assert all(b <= a + 1e-15 for a, b in zip(lbfgs.losses, lbfgs.losses[1:], strict=False))  # Armijo: descent


def test_damping_decides_whether_newton_escapes_the_saddle(run):
    """saddle.yaml: curvature 2 along x, -1 along y. Damping below 1 leaves H + λI indefinite: the step
    jumps onto the saddle point (0, 0) and stays; above 1 every step descends and y escapes to ±1."""
    caught = json.loads(run("train", "saddle", "--optimizer", "newton", "--steps", "30", "--json", "-q").stdout)
    final = caught["runs"][0]
    assert abs(final["params"]["y"]) < 1e-12 and abs(final["final_loss"]) < 1e-12
    escaped = json.loads(
        run("train", "saddle", "--optimizer", "newton", "--damping", "2", "--steps", "60", "--json", "-q").stdout
    )
    final = escaped["runs"][0]
    assert abs(abs(final["params"]["y"]) - 1) < 1e-3 and final["final_loss"] < -0.2499


def test_compare_races_second_order_methods(run):
    result = run("train", "beale", "--compare", "adam:lr=0.1,lbfgs,newton:damping=20", "--steps", "50", "--json", "-q")
    assert result.exit_code == 0, result.stderr
    runs = {r["optimizer"]: r for r in json.loads(result.stdout)["runs"]}
    assert set(runs) == {"adam", "lbfgs", "newton"}
    assert runs["lbfgs"]["final_loss"] < 1e-12  # Beale's minimum (3, 0.5)
    assert runs["newton"]["hyper"]["damping"] == 20


def test_newton_refuses_a_graph_too_big_for_its_hessian(run):
    result = run("train", "two_layer", "--optimizer", "newton", "--steps", "1")
    assert result.exit_code == 2
    assert "newton" in result.stderr and "lbfgs" in result.stderr and "Traceback" not in result.stderr


def test_hyper_parameters_are_checked(run):
    assert run("train", "saddle", "--optimizer", "lbfgs", "--history", "0").exit_code == 2
    assert run("train", "saddle", "--optimizer", "newton", "--damping", "-1").exit_code == 2
    result = run("train", "saddle", "--optimizer", "sgd", "--damping", "1")
    assert result.exit_code == 2 and "--damping does not apply" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--optimizer", "newton", "--damping", "nan"],
        ["--compare", "newton:damping=nan"],
        ["--compare", "newton:lr=inf"],
        ["--compare", "lbfgs:history=2.5"],
        ["--compare", "lbfgs:lr=0"],
    ],
)
def test_meaningless_hyper_parameters_are_usage_errors(run, args):
    result = run("train", "saddle", *args, "--steps", "2")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
