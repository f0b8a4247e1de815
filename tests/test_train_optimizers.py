"""The optimizers and schedules against direct transcriptions of the lectures' pseudo-code.

Each transcription below is written from the lecture text (NPFL114 Lecture 2, seeds/001, for the
optimizers; seeds/004 and seeds/000 for the schedules) in plain NumPy, without calling backprop.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import backprop_cli
from backprop_cli.errors import UsageError
from backprop_cli.training.loop import train
from backprop_cli.training.optimizers import OPTIMIZERS, make_optimizer
from backprop_cli.training.schedules import make_schedule

STEPS = 60
TOL = 1e-12


def rosenbrock_grad(theta):
    x, y = theta
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def bowl_grad(theta):
    """An ill-conditioned quadratic: ½(θ0² + 10 θ1²)."""
    return np.array([1.0, 10.0]) * theta


# ------------------------------------------------------------ the lectures, transcribed
def lecture_sgd(grad, theta, alpha, steps):
    path = []
    for _ in range(steps):
        g = grad(theta)
        theta = theta - alpha * g  # θ ← θ − αg
        path.append(theta)
    return path


def lecture_momentum(grad, theta, alpha, beta, steps):
    v = np.zeros_like(theta)
    path = []
    for _ in range(steps):
        g = grad(theta)
        v = beta * v - alpha * g  # v ← βv − αg
        theta = theta + v  # θ ← θ + v
        path.append(theta)
    return path


def lecture_nesterov(grad, theta, alpha, beta, steps):
    v = np.zeros_like(theta)
    path = []
    for _ in range(steps):
        theta = theta + beta * v  # θ ← θ + βv
        g = grad(theta)  # g ← ∇ at the moved θ
        v = beta * v - alpha * g  # v ← βv − αg
        theta = theta - alpha * g  # θ ← θ − αg
        path.append(theta)
    return path


def lecture_adagrad(grad, theta, alpha, eps, steps):
    r = np.zeros_like(theta)
    path = []
    for _ in range(steps):
        g = grad(theta)
        r = r + g**2  # r ← r + g²
        theta = theta - alpha / np.sqrt(r + eps) * g  # θ ← θ − α/√(r + ε) g
        path.append(theta)
    return path


def lecture_rmsprop(grad, theta, alpha, beta, eps, steps):
    r = np.zeros_like(theta)
    path = []
    for _ in range(steps):
        g = grad(theta)
        r = beta * r + (1 - beta) * g**2  # r ← βr + (1 − β)g²
        theta = theta - alpha / np.sqrt(r + eps) * g  # θ ← θ − α/√(r + ε) g
        path.append(theta)
    return path


def lecture_adam(grad, theta, alpha, beta1, beta2, eps, steps):
    s, r, t = np.zeros_like(theta), np.zeros_like(theta), 0
    path = []
    for _ in range(steps):
        g = grad(theta)
        t = t + 1
        s = beta1 * s + (1 - beta1) * g
        r = beta2 * r + (1 - beta2) * g**2
        s_hat = s / (1 - beta1**t)
        r_hat = r / (1 - beta2**t)
        theta = theta - alpha / np.sqrt(r_hat + eps) * s_hat
        path.append(theta)
    return path


CASES = {  # optimizer -> (its hyper-parameters, the transcription called with them)
    "sgd": ({"lr": 1e-3}, lambda grad, th, h, n: lecture_sgd(grad, th, h["lr"], n)),
    "momentum": (
        {"lr": 1e-3, "momentum": 0.9},
        lambda grad, th, h, n: lecture_momentum(grad, th, h["lr"], h["momentum"], n),
    ),
    "nesterov": (
        {"lr": 1e-3, "momentum": 0.8},
        lambda grad, th, h, n: lecture_nesterov(grad, th, h["lr"], h["momentum"], n),
    ),
    "adagrad": ({"lr": 0.3, "eps": 1e-8}, lambda grad, th, h, n: lecture_adagrad(grad, th, h["lr"], h["eps"], n)),
    "rmsprop": (
        {"lr": 1e-2, "rho": 0.95, "eps": 1e-6},
        lambda grad, th, h, n: lecture_rmsprop(grad, th, h["lr"], h["rho"], h["eps"], n),
    ),
    "adam": (
        {"lr": 0.05, "beta1": 0.85, "beta2": 0.99, "eps": 1e-8},
        lambda grad, th, h, n: lecture_adam(grad, th, h["lr"], h["beta1"], h["beta2"], h["eps"], n),
    ),
}


def run_optimizer(name, hyper, grad, theta, steps):
    """Our optimizer driven directly, with the same gradient function."""
    opt = make_optimizer(name, **hyper)
    params = {"a": np.array(theta[0]), "b": np.array(theta[1])}
    path = []
    for _ in range(steps):
        opt.before_gradient(params)
        g = grad(np.array([params["a"], params["b"]]))
        opt.update(params, {"a": g[0], "b": g[1]}, hyper["lr"])
        path.append(np.array([params["a"], params["b"]]))
    return path


SECOND_ORDER = {"newton", "lbfgs"}  # they need the graph, not only gradients: tests/test_second_order_training.py


def test_every_optimizer_has_a_case():
    assert set(CASES) == set(OPTIMIZERS) - SECOND_ORDER


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("grad", [rosenbrock_grad, bowl_grad], ids=["rosenbrock", "bowl"])
def test_optimizer_matches_the_lecture_step_by_step(name, grad):
    hyper, lecture = CASES[name]
    start = np.array([-1.2, 1.0])
    ours = run_optimizer(name, hyper, grad, start, STEPS)
    theirs = lecture(grad, start.copy(), hyper, STEPS)
    for t, (a, b) in enumerate(zip(ours, theirs, strict=True), 1):
        np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL, err_msg=f"{name}, step {t}")
    assert not np.allclose(ours[-1], start)  # it moved


def test_adam_defaults_are_the_lectures():
    assert make_optimizer("adam").hyper == {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


ROSENBROCK = """
params: {x: -1.2, y: 1.0}
nodes:
  loss: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2
output: loss
"""


@pytest.mark.parametrize("name", list(CASES))
def test_training_a_graph_follows_the_lecture(name):
    """Through the engine: gradients by backpropagation, the same path as the transcription."""
    hyper, lecture = CASES[name]
    graph = backprop_cli.loads(ROSENBROCK)
    run = train(graph, make_optimizer(name, **hyper), STEPS)
    theirs = lecture(rosenbrock_grad, np.array([-1.2, 1.0]), hyper, STEPS)
    for t, (ours, expected) in enumerate(zip(run.path[1:], theirs, strict=True), 1):
        np.testing.assert_allclose(ours, expected, rtol=TOL, atol=TOL, err_msg=f"{name}, step {t}")
    x, y = theirs[-1]
    assert run.final_loss == pytest.approx((1 - x) ** 2 + 100 * (y - x**2) ** 2, rel=1e-10)


# ------------------------------------------------------------ schedules
def lecture_rate(name, a0, t, k=0.0, drop=0.5, every=10):
    """t = updates made so far (0 for the first)."""
    if name == "constant":
        return a0
    if name == "step":  # "decay learning rate by half every few epochs"
        return a0 * drop ** math.floor(t / every)
    if name == "exponential":
        return a0 * math.exp(-k * t)  # α = α0 e^(−kt)
    if name == "inverse":
        return a0 / (1 + k * t)  # α = α0 / (1 + kt)
    return a0 / math.sqrt(t + 1)  # η_t = η0/√t, t counted from 1


SCHEDULE_CASES = [
    ("constant", {}, {}),
    ("step", {"drop": 0.3, "every": 7}, {"drop": 0.3, "every": 7}),
    ("exponential", {"k": 0.05}, {"k": 0.05}),
    ("inverse", {"k": 0.2}, {"k": 0.2}),
    ("sqrt", {}, {}),
]


@pytest.mark.parametrize(("name", "params", "lecture"), SCHEDULE_CASES, ids=[c[0] for c in SCHEDULE_CASES])
def test_schedule_matches_the_formula(name, params, lecture):
    rate = make_schedule(name, 0.1, **params)
    for t in range(50):
        assert rate(t) == pytest.approx(lecture_rate(name, 0.1, t, **lecture), rel=TOL, abs=0)
    assert rate(0) == 0.1


@pytest.mark.parametrize(("name", "params", "lecture"), SCHEDULE_CASES[1:], ids=[c[0] for c in SCHEDULE_CASES[1:]])
def test_scheduled_momentum_follows_the_lecture(name, params, lecture):
    """α_t enters the update where α stands: v ← βv − α_t g."""
    graph = backprop_cli.loads(ROSENBROCK)
    run = train(graph, make_optimizer("momentum", lr=1e-3, momentum=0.9), 40, name, params)
    theta, v = np.array([-1.2, 1.0]), np.zeros(2)
    for t in range(40):
        v = 0.9 * v - lecture_rate(name, 1e-3, t, **lecture) * rosenbrock_grad(theta)
        theta = theta + v
        np.testing.assert_allclose(run.path[t + 1], theta, rtol=TOL, atol=TOL)


def test_unknown_names_are_usage_errors():
    with pytest.raises(UsageError, match="did you mean 'adam'"):
        make_optimizer("adma")
    with pytest.raises(UsageError, match="takes: lr, momentum"):
        make_optimizer("momentum", beta1=0.5)
    with pytest.raises(UsageError, match="no 'k'"):
        make_schedule("step", 0.1, k=1.0)
