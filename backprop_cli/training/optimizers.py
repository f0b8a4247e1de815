"""The lectures' optimizers, transcribed line for line.

Source: NPFL114 Lecture 2, "Training Neural Networks" (seeds/001), which writes all six in one
notation: learning rate α, momentum β, constant ε, gradient g, velocity v, moments s and r.
Where the Russian lecture (seeds/004, after CS231n) writes them differently, NPFL114 wins and the
docstring says what differs:

- momentum: 004 writes v ← ρv + ∇f, x ← x − αv; the same steps as NPFL114's for a constant α.
- Nesterov: 004 rewrites it in the look-ahead variable x̃ = x + ρv; NPFL114 (used here) keeps θ
  and takes the gradient at the look-ahead point θ + βv, the first form of both lectures.
- AdaGrad, RMSProp, Adam: 004 divides by √r + 1e-7; NPFL114 (used here) by √(r + ε), ε = 1e-8.

Each optimizer is a small class: its hyper-parameters with defaults (data), an optional step
before the gradient (only Nesterov's look-ahead), and the update of one parameter array. Updates
are in place, into one or two work arrays kept per parameter: no new param-sized array per step. Each
formula is evaluated in the lecture's order, one operation at a time (`θ -= αg` rounds exactly as
`θ ← θ − αg`; `α/√(r̂ + ε) · ŝ` as ((α / √(r̂ + ε)) · ŝ)), so the numbers are the formulas' to the last bit.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..errors import UsageError
from ..graph import Graph

Arrays = dict[str, np.ndarray]

# hyper-parameter -> (low, high, low included, high included, in words): what an update can use
RANGES: dict[str, tuple[float, float, bool, bool, str]] = {
    "lr": (0.0, 1e6, False, True, "a number > 0"),
    "momentum": (0.0, 1.0, True, False, "a number in [0, 1)"),
    "rho": (0.0, 1.0, True, False, "a number in [0, 1)"),
    "beta1": (0.0, 1.0, True, False, "a number in [0, 1)"),
    "beta2": (0.0, 1.0, True, False, "a number in [0, 1)"),
    "eps": (0.0, 1.0, False, True, "a number in (0, 1]"),
    "damping": (0.0, 1e12, True, True, "a number ≥ 0"),  # newton's λ
    "history": (1.0, 1000.0, True, True, "a whole number in [1, 1000]"),  # lbfgs's m
}


def check_hyper(name: str, value: float, option: str) -> float:
    """A hyper-parameter in its range (finite), else a UsageError naming the option and the range."""
    low, high, low_in, high_in, words = RANGES[name]
    value = float(value)
    inside = (low <= value if low_in else low < value) and (value <= high if high_in else value < high)
    if not inside:  # NaN and inf are never inside
        raise UsageError(f"{option}{value:g}: {name} must be {words}")
    return value


class Optimizer:
    name: ClassVar[str]
    defaults: ClassVar[dict[str, float]]  # lr is the α the schedule starts from

    def __init__(self, **hyper: float) -> None:
        unknown = set(hyper) - set(self.defaults)
        if unknown:
            takes = ", ".join(self.defaults)
            raise UsageError(f"{self.name} has no hyper-parameter {sorted(unknown)[0]!r} (it takes: {takes})")
        given = {k: check_hyper(k, v, f"{self.name}:{k}=") for k, v in hyper.items()}
        self.hyper = {**self.defaults, **given}
        self.state: dict[str, Arrays] = {}  # per parameter: v, r, s, ... (zeros at the start)
        self.t = 0  # updates made so far
        self.notes: list[str] = []  # what the user should know about the run (shown on stderr, and in JSON)

    def prepare(self, graph: Graph) -> None:
        """Called once before training: an optimizer that cannot train this graph says so here."""

    def observe(self, graph: Graph, values: Arrays) -> None:
        """Called each step with the values the gradient is taken at (second-order methods need the graph)."""

    def before_gradient(self, theta: Arrays) -> None:
        """Move θ to where the gradient is to be taken (in place). Only Nesterov moves."""

    def update(self, theta: Arrays, grads: Arrays, lr: float) -> None:
        """One update of every parameter with gradient g and learning rate α = lr (in place)."""
        self.t += 1
        for name, g in grads.items():
            state = self.state.setdefault(name, {})
            self.step(theta[name], g, lr, state)

    def step(self, theta: np.ndarray, g: np.ndarray, lr: float, state: Arrays) -> None:
        """Update theta (and the state) in place."""
        raise NotImplementedError


def _zeros(state: Arrays, key: str, like: np.ndarray) -> np.ndarray:
    if key not in state:
        state[key] = np.zeros_like(like)
    return state[key]


def _work(state: Arrays, key: str, like: np.ndarray) -> np.ndarray:
    """A scratch array of the parameter's shape and dtype, made once (its contents mean nothing)."""
    if key not in state:
        state[key] = np.empty_like(like)
    return state[key]


def _scaled_step(theta: np.ndarray, lr: float, r_hat: np.ndarray, eps: float, s: np.ndarray, work: np.ndarray) -> None:
    """θ ← θ − α/√(r̂ + ε) · s, in that order; r_hat may be work itself (it is overwritten)."""
    np.add(r_hat, eps, out=work)
    np.sqrt(work, out=work)
    np.divide(lr, work, out=work)
    work *= s
    theta -= work


class SGD(Optimizer):
    """θ ← θ − αg"""

    name = "sgd"
    defaults = {"lr": 1e-2}

    def step(self, theta, g, lr, state):
        theta -= np.multiply(lr, g, out=_work(state, "a", theta))


class Momentum(Optimizer):
    """v ← βv − αg;  θ ← θ + v"""

    name = "momentum"
    defaults = {"lr": 1e-2, "momentum": 0.9}

    def step(self, theta, g, lr, state):
        v = _zeros(state, "v", theta)
        v *= self.hyper["momentum"]
        v -= np.multiply(lr, g, out=_work(state, "a", theta))
        theta += v


class Nesterov(Optimizer):
    """θ ← θ + βv;  g at θ;  v ← βv − αg;  θ ← θ − αg   (NPFL114; θ ends at the old θ + new v)"""

    name = "nesterov"
    defaults = {"lr": 1e-2, "momentum": 0.9}

    def before_gradient(self, theta):
        beta = self.hyper["momentum"]
        for name, value in theta.items():
            v = self.state.get(name, {}).get("v")
            if v is not None:
                value += beta * v

    def step(self, theta, g, lr, state):
        v = _zeros(state, "v", theta)
        v *= self.hyper["momentum"]
        step = np.multiply(lr, g, out=_work(state, "a", theta))
        v -= step
        theta -= step


class AdaGrad(Optimizer):
    """r ← r + g²;  θ ← θ − α/√(r + ε) · g"""

    name = "adagrad"
    defaults = {"lr": 1e-2, "eps": 1e-8}

    def step(self, theta, g, lr, state):
        r, work = _zeros(state, "r", theta), _work(state, "a", theta)
        r += np.multiply(g, g, out=work)
        _scaled_step(theta, lr, r, self.hyper["eps"], g, work)


class RMSProp(Optimizer):
    """r ← βr + (1 − β)g²;  θ ← θ − α/√(r + ε) · g   (β is --rho, the decay rate)"""

    name = "rmsprop"
    defaults = {"lr": 1e-3, "rho": 0.9, "eps": 1e-8}

    def step(self, theta, g, lr, state):
        rho, r, work = self.hyper["rho"], _zeros(state, "r", theta), _work(state, "a", theta)
        r *= rho
        np.multiply(1 - rho, g, out=work)  # (1 − β)g, then · g: the formula's order
        work *= g
        r += work
        _scaled_step(theta, lr, r, self.hyper["eps"], g, work)


class Adam(Optimizer):
    """t ← t + 1;  s ← β1·s + (1 − β1)g;  r ← β2·r + (1 − β2)g²;
    ŝ ← s/(1 − β1^t);  r̂ ← r/(1 − β2^t);  θ ← θ − α/√(r̂ + ε) · ŝ   (with bias correction)"""

    name = "adam"
    defaults = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}

    def step(self, theta, g, lr, state):
        b1, b2, t = self.hyper["beta1"], self.hyper["beta2"], self.t
        s, r = _zeros(state, "s", theta), _zeros(state, "r", theta)
        work, s_hat = _work(state, "a", theta), _work(state, "b", theta)
        s *= b1
        s += np.multiply(1 - b1, g, out=work)
        r *= b2
        np.multiply(1 - b2, g, out=work)
        work *= g
        r += work
        np.divide(s, 1 - b1**t, out=s_hat)
        np.divide(r, 1 - b2**t, out=work)  # r̂
        _scaled_step(theta, lr, work, self.hyper["eps"], s_hat, work)


from .second_order import LBFGS, Newton  # noqa: E402  (they build on Optimizer, above)

OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam, Newton, LBFGS)
}


def make_optimizer(name: str, **hyper: float) -> Optimizer:
    if name not in OPTIMIZERS:
        from ..errors import suggest

        raise UsageError(f"unknown optimizer {name!r}{suggest(name, OPTIMIZERS)} (choose from {', '.join(OPTIMIZERS)})")
    return OPTIMIZERS[name](**hyper)
