"""Second-order methods for the optimizer race (CMSC 491/691 lists them): damped Newton and L-BFGS.

Both work on all params at once, flattened in the graph's order, and need more of the graph than a
gradient: Newton the Hessian (n gradient passes per step, so only for small graphs), L-BFGS the loss at
trial points of its line search.

- newton: (H + λI)·d = −g;  θ ← θ + α·d.  λ is `damping`. Newton's step goes to the nearest stationary
  point of the quadratic model, a saddle as readily as a minimum: on graphs/saddle.yaml (curvature −1
  along y) a damping below 1 leaves H + λI indefinite and the step jumps onto the saddle point and stays;
  a damping above 1 makes H + λI positive definite, so every step descends and θ escapes along y (slowly:
  along y it is gradient descent with rate α/(λ − 1)). A large λ turns Newton into gradient descent with
  rate α/λ.
- lbfgs: d = −H̃·g with H̃ the inverse-Hessian estimate of the last `history` steps (Nocedal & Wright's
  two-loop recursion; a pair (s, y) with sᵀy ≤ 0 is not kept), then a backtracking line search from the
  step α: halve until the loss drops by at least 1e-4·α·gᵀd (Armijo), at most 30 times.
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..graph import Graph
from .optimizers import Arrays, Optimizer

NEWTON_MAX_PARAMS = 4000  # a Hessian of n params takes n gradient passes and n² numbers per step
ARMIJO = 1e-4
HALVINGS = 30


def _positive(optimizer: Optimizer, key: str) -> None:
    value = optimizer.hyper[key]
    if not (np.isfinite(value) and value > 0):
        raise UsageError(f"{optimizer.name}: {key} must be a finite number > 0, not {value:g}")


def _flat(arrays: Arrays, names: list[str]) -> np.ndarray:
    return np.concatenate([np.reshape(arrays[n], -1) for n in names]).astype(np.float64)


def _norm(v: np.ndarray) -> float:
    """‖v‖ without overflow: numpy's norm squares first (‖(2e155, 0)‖ was inf, and L-BFGS never moved)."""
    largest = float(np.max(np.abs(v), initial=0.0))
    if largest == 0 or not np.isfinite(largest):
        return largest
    return largest * float(np.sqrt(np.sum((v / largest) ** 2)))


def _assign(theta: Arrays, flat: np.ndarray) -> None:
    start = 0
    for value in theta.values():
        value[...] = flat[start : start + value.size].reshape(value.shape)
        start += value.size


class Newton(Optimizer):
    """(H + λI)·d = −g;  θ ← θ + α·d   (λ: damping)"""

    name = "newton"
    defaults = {"lr": 1.0, "damping": 1e-3}

    def prepare(self, graph: Graph) -> None:
        _positive(self, "lr")
        if not (np.isfinite(self.hyper["damping"]) and self.hyper["damping"] >= 0):
            raise UsageError(f"newton: damping must be a finite number ≥ 0, not {self.hyper['damping']:g}")
        size = sum(int(np.prod(graph.nodes[p].shape, dtype=np.int64)) for p in graph.params)
        if size > NEWTON_MAX_PARAMS:
            raise UsageError(
                f"newton needs the Hessian of all {size:,} params every step (at most {NEWTON_MAX_PARAMS:,}); "
                "use lbfgs, which needs only gradients"
            )

    def observe(self, graph: Graph, values: Arrays) -> None:
        self.graph, self.values = graph, values

    def update(self, theta: Arrays, grads: Arrays, lr: float) -> None:
        from dataclasses import replace

        from ..verify.hessian import Gradients, hvp_exact

        self.t += 1
        names = list(theta)
        leaves = {k: v for k, v in self.values.items() if k in self.graph.leaf_values}
        at = Gradients(replace(self.graph, leaf_values=leaves), names)
        h = hvp_exact(at, np.eye(at.size), "complex" if at.analytic else "central").T
        h = (h + h.T) / 2 + self.hyper["damping"] * np.eye(at.size)
        g = _flat(grads, names)
        try:
            d = np.linalg.solve(h, -g)
        except np.linalg.LinAlgError:  # singular even with the damping: the least-squares step, and a note
            d = np.linalg.lstsq(h, -g, rcond=None)[0]
            self._singular(not d.any() and g.any())
        _assign(theta, _flat(theta, names) + lr * d)

    def _singular(self, stuck: bool) -> None:
        """One note for the run: how many steps met a singular H + λI, and whether they moved at all."""
        first, count, still = getattr(self, "singular", (self.t, 0, True))
        self.singular = (first, count + 1, still and stuck)
        first, count, still = self.singular
        what = "H + λI" if self.hyper["damping"] else "the Hessian (damping 0)"
        result = "θ did not move" if still else "the step was the least-squares solution"
        self.notes[:] = [
            f"newton: {what} was singular at {count} step{'s' * (count > 1)} (first at step {first}): {result}; "
            "a damping > 0 (--damping 1e-3) makes it invertible"
        ]


class LBFGS(Optimizer):
    """d = −H̃·g (two-loop recursion over the last `history` steps); θ ← θ + t·d, t from α halved until
    the loss drops enough (Armijo)"""

    name = "lbfgs"
    defaults = {"lr": 1.0, "history": 10}

    def prepare(self, graph: Graph) -> None:
        _positive(self, "lr")
        if (
            not np.isfinite(self.hyper["history"])
            or self.hyper["history"] < 1
            or not float(self.hyper["history"]).is_integer()
        ):
            raise UsageError(f"lbfgs: history must be a whole number ≥ 1, not {self.hyper['history']:g}")
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self.last: tuple[np.ndarray, np.ndarray] | None = None

    def observe(self, graph: Graph, values: Arrays) -> None:
        self.graph, self.values = graph, values

    def _loss(self, theta: Arrays, flat: np.ndarray) -> float:
        from ..engines.evaluate import evaluate
        from ..errors import EvaluationError

        values, start = dict(self.values), 0
        for name, value in theta.items():
            values[name] = flat[start : start + value.size].reshape(value.shape).astype(value.dtype)
            start += value.size
        try:
            return float(evaluate(self.graph, values)[self.graph.output])
        except EvaluationError:
            return float("inf")  # outside the loss's domain: the line search steps back

    def update(self, theta: Arrays, grads: Arrays, lr: float) -> None:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a product that overflows: below
            self._update(theta, grads, lr)

    def _update(self, theta: Arrays, grads: Arrays, lr: float) -> None:
        self.t += 1
        names = list(theta)
        x, g = _flat(theta, names), _flat(grads, names)
        if self.last is not None:
            s, y = x - self.last[0], g - self.last[1]
            if np.isfinite(y @ y) and s @ y > 1e-12 * _norm(s) * _norm(y) and np.isfinite(s @ y):
                self.pairs = [*self.pairs, (s, y)][-int(self.hyper["history"]) :]
        self.last = (x, g)
        d = -self._inverse_hessian_times(g)
        if not (np.all(np.isfinite(d)) and g @ d < 0):  # not a descent direction: start the history again
            self.pairs, d = [], -g / max(1.0, float(_norm(g)))
        loss, step = self._loss(theta, x), lr
        for _ in range(HALVINGS):
            if self._loss(theta, x + step * d) <= loss + ARMIJO * step * (g @ d):
                break
            step /= 2
        else:
            step = 0.0  # no step lowers the loss: stay
        _assign(theta, x + step * d)

    def _inverse_hessian_times(self, g: np.ndarray) -> np.ndarray:
        if not self.pairs:
            return g / max(1.0, float(_norm(g)))  # the first step: along −g, at most α long
        q, alphas = g.copy(), []
        for s, y in reversed(self.pairs):
            a = (s @ q) / (y @ s)
            q -= a * y
            alphas.append(a)
        s, y = self.pairs[-1]
        r = (s @ y) / (y @ y) * q
        for (s, y), a in zip(self.pairs, reversed(alphas), strict=True):
            r += s * (a - (y @ r) / (y @ s))
        return r
