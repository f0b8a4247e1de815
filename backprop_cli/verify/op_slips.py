"""Naming the bug in a student's backward code (issue 23), as check_expect names a hand answer's slip.

When a plugin op checked alone (plugin_ops.py) fails, its backward's gradient is set beside the true one (central
differences of the op's own forward, projected on the same upstream gradient g) and matched against what the
classic bugs would give: a sign flip, a factor of 2, a mean instead of a sum over the batch, the right numbers in
the wrong places (a missing transpose), the ReLU mask on the wrong side, σ' taken from x instead of σ(x), and an
upstream gradient ignored. (A bias gradient not summed over the batch has the wrong shape: the plugin protocol
names that one as it refuses it.) Only small inputs are differenced (MAX_ELEMENTS): the namer is a hint, never
a verdict, and it stays silent where no pattern fits.
"""

from __future__ import annotations

import numpy as np

from ..engines.evaluate import evaluate
from ..engines.reverse_mode import reverse_mode
from ..graph import Graph

MAX_ELEMENTS = 2_000  # per input: two forward passes each
RTOL = 1e-4  # a pattern fits when it matches the student's gradient this closely (the differences are ~1e-8)
STEP = 1e-6

SLIPS = {  # name -> what the student sees (the input's name filled in)
    "sign": "the sign is flipped: the gradient of {x} points the wrong way",
    "factor_2": "twice the right gradient of {x}: a factor of 2 too many (a derivative of x² counted twice?)",
    "half": "half the right gradient of {x}: a factor of 2 missing (x·x gives 2x; or a fork's second path)",
    "batch_mean": "the gradient of {x} is averaged over the batch where it must be summed: {x} is shared by every "
    "example, so its gradient is the sum of theirs ({n} examples)",
    "transpose": "the right numbers in the wrong places: a missing transpose in the gradient of {x} "
    "(for y = x·W, dW = xᵀ·g and dx = g·Wᵀ)",
    "relu_mask": "the ReLU mask is on the wrong side: the gradient of {x} flows where the input was cut (x ≤ 0) "
    "and stops where it passed (x > 0)",
    "sigma_of_x": "σ' was computed from the input: x(1 - x) instead of σ(x)(1 - σ(x)), from the output",
    "tanh_of_x": "tanh' was computed from the input: 1 - x² instead of 1 - tanh(x)², from the output",
    "no_upstream": "the upstream gradient is ignored: the backward of {x} returns the local gradient alone, not "
    "times the gradient g that arrives from above",
}


def name_slips(graph: Graph, names: list[str], seed: int) -> dict[str, tuple[str, str]]:
    """{input: (slip, words)} for the failing inputs of one plugin node's graph (plugin_ops.alone) whose gradient
    matches a classic bug; inputs that match none are left out."""
    try:
        values = evaluate(graph)
    except Exception:  # the forward fails at the point: nothing to compare
        return {}
    rng = np.random.default_rng(seed)
    out_shape = np.shape(values[graph.output])
    g = rng.standard_normal(out_shape) if out_shape else np.asarray(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0))
    try:
        student = reverse_mode(graph, values, wrt=set(names), seed=np.asarray(g, graph.dtype))
    except Exception:  # the student's backward fails outright: its error says so already
        return {}
    found = {}
    for name in names:
        x = np.asarray(values[name], float)
        if x.size > MAX_ELEMENTS or x.size == 0:
            continue
        try:
            truth = _differences(graph, values, name, g)
            ones = _differences(graph, values, name, np.ones(out_shape)) if np.size(g) else None
        except Exception:  # an evaluation error off the point: no name, the verdict stands
            continue
        slip = _match(np.asarray(student[name], float), truth, ones, x, g, graph)
        if slip is not None:
            found[name] = (slip[0], SLIPS[slip[0]].format(x=name, n=slip[1]))
    return found


def _differences(graph: Graph, values: dict, name: str, g: np.ndarray) -> np.ndarray:
    """d <g, output> / d name by central differences of the forward, element by element."""
    x = np.asarray(values[name], float)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        h = STEP * max(1.0, abs(x[i]))
        sums = []
        for sign in (1, -1):
            moved = x.copy()
            moved[i] += sign * h
            out = evaluate(graph, {**graph.leaf_values, name: moved.astype(graph.dtype)})[graph.output]
            sums.append(float(np.sum(g * out)))
        grad[i] = (sums[0] - sums[1]) / (2 * h)
    return grad


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-12)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= RTOL * scale + 1e-9))


def _match(student, truth, ones, x, g, graph) -> tuple[str, int] | None:
    if _close(student, truth) or not np.any(truth):
        return None
    tests: list[tuple[str, np.ndarray, int]] = [("sign", -truth, 0), ("factor_2", 2 * truth, 0), ("half", truth / 2, 0)]
    batches = {int(np.shape(v)[0]) for v in graph.leaf_values.values() if np.ndim(v) >= 2 and np.shape(v)[0] > 1}
    tests += [("batch_mean", truth / n, n) for n in sorted(batches)]
    if ones is not None and not _close(ones, truth):
        tests.append(("no_upstream", ones, 0))
    if x.shape == np.shape(g) and len(graph.gates) == 1 and len(graph.leaf_values) == 1:
        tests += [("sigma_of_x", g * x * (1 - x), 0), ("tanh_of_x", g * (1 - x * x), 0)]
    for slip, value, n in tests:
        if _close(student, value):
            return slip, n
    if x.shape == np.shape(g) and _complementary(student, truth):
        return "relu_mask", 0
    if _close(np.sort(student, axis=None), np.sort(truth, axis=None)) or (
        student.ndim == 2 and student.shape == truth.shape[::-1] and _close(student.T, truth)
    ):
        return "transpose", 0
    return None


def _complementary(student: np.ndarray, truth: np.ndarray) -> bool:
    """Non-zero exactly where the truth is zero and zero where it is not (a mask on the wrong side)."""
    scale = max(float(np.max(np.abs(truth), initial=0.0)), 1e-12)
    zero_t, zero_s = np.abs(truth) <= 1e-6 * scale, np.abs(student) <= 1e-6 * scale
    return bool(np.any(~zero_t) and np.any(~zero_s) and np.all(zero_t == ~zero_s))
