"""How large the rounding of a derivative can be: the size of the terms it is summed from.

A derivative can be far smaller than what it is computed from. Σ softmax(z) = 1 makes d/dz zero, yet reverse
mode computes it as s·(g - Σ g·s), terms of the size of g, and keeps their rounding: 1e-17 where 0 is exact,
and forward mode rounds to another 1e-17. tanh's derivative 1 - out² at out ≈ 1 is rounding of 1 and out².
Judged against itself, such rounding would be a failure (the element "disagrees" by 100%). So a derivative
is judged at least at ROUNDING_SLACK roundings of what it is computed from: one that large is checked to rtol
as always; one that cancels below it is checked to within that rounding, which still catches every rule that
is wrong by more than rounding. A gradient that is small without cancelling (a long chain of gates that each
scale it down) has terms as small as itself, and is judged to rtol as ever.

Both come from a second backward pass in which nothing cancels, one number per element and node:
- the size of the terms: each gate's reverse rule takes the size of its upstream terms times seeded random
  weights ±(0.8 to 1.2) (a rule sums what it is given: with such weights 1 - 1 stays about 1 in size, and two
  terms cancel only by chance, which the larger of two passes makes rare; weights of 1 on average keep a
  chain of a thousand gates at its scale), and the sizes of what it sends add up at forks and broadcasts;
- the rounding a rule adds, in units of ε, carried down the same way: measured by moving the gate's output
  and operands by their own rounding (one ε) and rerunning the rule, or for a float32 graph by rerunning it
  on the float64 values (the float32 rounding of the values and of the rule's arithmetic).
Rules of the table only: a plugin op's code is not run again, and what lies behind it keeps its own scale.
"""

from __future__ import annotations

import numpy as np

from ..engines.reverse_mode import backward_plan
from ..graph import Graph, Node
from ..ops import OPS, GateKind
from .tolerances import ROUNDING_SLACK, Tolerance

DRAWS = 2  # weights drawn per gate, the larger size kept: a chance cancellation in both is rare


def term_sizes(
    graph: Graph,
    values: dict[str, np.ndarray],
    weights: np.ndarray,
    reference: tuple[Graph, dict[str, np.ndarray]] | None = None,
) -> dict[str, float]:
    """Per node on a path to the output, the largest size of what its gradient (of Σ weights·output) is
    computed from, rounding included (see the module docstring); once per graph and weights. reference:
    gradcheck's float64 graph and values (for a float32 graph, the rounding is measured against them)."""
    cached = graph.cache.get("term sizes")
    if cached is None or cached[0] is not weights:
        exact = None if reference is None or reference[0] is graph else reference[1]
        cached = graph.cache["term sizes"] = (weights, _sizes(graph, values, weights, exact))
    return cached[1]


def _sizes(
    graph: Graph, values: dict[str, np.ndarray], weights: np.ndarray, exact: dict[str, np.ndarray] | None
) -> dict[str, float]:
    """One pass, the draws side by side (a leading axis): per node, the largest size of its gradient's terms
    plus their rounding in units of ε."""
    rng = np.random.default_rng(0)
    eps = float(np.finfo(graph.dtype).eps)
    start = np.abs(np.broadcast_to(weights, np.shape(values[graph.output])))
    terms = {graph.output: np.broadcast_to(start, (DRAWS, *start.shape)).astype(np.float64)}
    errors: dict[str, np.ndarray] = {}  # the rounding the rules added on the way, in units of ε
    sizes: dict[str, float] = {}
    with np.errstate(all="ignore"):
        for node, inputs, slots in backward_plan(graph, None, graph.dtype):
            upstream, error = terms.pop(node.name, None), errors.pop(node.name, None)
            if upstream is None:
                continue
            sizes[node.name] = _largest(upstream if error is None else upstream + error)
            if node.operation.stops_gradient or OPS.get(node.op) is not node.operation:
                continue
            xs = [values[x] if isinstance(x, str) else x for x in inputs]
            out = values[node.name]
            r = rng.random(upstream.shape)  # one draw per element: the sign, and a size from 0.8 to 1.2
            signs = np.where(r < 0.5, -0.8 - 0.8 * r, 0.4 + 0.8 * r)
            weighted = (upstream * signs).astype(graph.dtype, copy=False)
            moved = _moved(node, out, xs, exact, rng, eps)
            for i, operand, rule in slots:
                shape = np.shape(xs[i])
                sent = np.asarray(_each(node, rule, weighted, [out, *xs]), np.float64)
                added = None if error is None else np.abs(_each(node, rule, error * signs, [out, *xs]))
                if moved is not None:  # what rounding does to this rule: moved values, or float64 ones
                    again = np.abs(_each(node, rule, upstream * signs, moved) - sent) / eps
                    again = np.where(np.isfinite(again), again, 0.0)  # a move that left the domain measures nothing
                    added = again if added is None else added + again
                _add(terms, operand, np.abs(sent), shape)
                if added is not None:
                    _add(errors, operand, added, shape)
    for name, upstream in terms.items():  # the leaves
        error = errors.get(name)
        sizes[name] = _largest(upstream if error is None else upstream + error)
    return sizes


def _each(node: Node, rule, upstream: np.ndarray, rest: list) -> np.ndarray:
    """rule(g, out, *xs) for each draw's g, stacked (called as reverse mode calls it: a rule may sum g back to
    its operand's shape, so the draws cannot share one call)."""
    return np.stack([np.asarray(rule(g, *rest, **node.attrs)) for g in upstream])


def _moved(node: Node, out, xs, exact, rng: np.random.Generator, eps: float) -> list[np.ndarray] | None:
    """The output and operands of a gate as rounding may have left them: their float64 values (a float32
    graph), or each moved by ±ε of itself. None where a rule does not read them (a wire, a distributor) or
    jumps (a piecewise gate: rounding that moves a value across a kink, a tie of max, is no rounding). A constant
    operand is exact as written and stays (x ** 3.0 with x < 0 moved to x ** (3 + ε) would be NaN)."""
    if node.operation.kinks is not None or node.operation.gate_kind in (GateKind.WIRE, GateKind.DISTRIBUTOR):
        return None
    if exact is not None:
        operands = [exact[x] if isinstance(x, str) else np.asarray(x.value, np.float64) for x in node.inputs]
        return [exact[node.name], *operands]
    vjp = node.operation.vjp[: len(xs)]  # labels stay whole, and constants are exact as written
    rounded = [True, *(isinstance(x, str) and rule is not None for x, rule in zip(node.inputs, vjp, strict=True))]
    return [
        v * (1 + eps * rng.choice((-1.0, 1.0), np.shape(v))) if move else v
        for v, move in zip((out, *xs), rounded, strict=True)
    ]


def _add(into: dict[str, np.ndarray], name: str, sent: np.ndarray, shape: tuple[int, ...]) -> None:
    """Sizes per draw (leading axis), summed back to the operand's shape as reverse mode sums a broadcast."""
    sent = np.where(np.isfinite(sent), sent, 0.0)
    extra = sent.ndim - 1 - len(shape)
    if extra > 0:
        sent = sent.sum(axis=tuple(range(1, 1 + extra)))
    ones = tuple(1 + i for i, n in enumerate(shape) if n == 1 and sent.shape[1 + i] != 1)
    if ones:
        sent = sent.sum(axis=ones, keepdims=True)
    sent = np.broadcast_to(sent, (len(sent), *shape))
    into[name] = sent if name not in into else into[name] + sent


def _largest(array: np.ndarray) -> float:
    if np.size(array) == 0:
        return 0.0
    top = float(np.max(array))
    return top if np.isfinite(top) else 0.0


def judged_scale(largest: float, terms: float, tolerance: Tolerance, dtype: np.dtype) -> float:
    """The scale a derivative is judged at (verdicts.Judge): its largest element, but at least the size at which
    rtol · floor · scale is ROUNDING_SLACK roundings (ε of dtype) of its terms."""
    if tolerance.rtol <= 0 or tolerance.floor <= 0 or not np.isfinite(terms):
        return largest
    eps = float(np.finfo(dtype).eps)
    return max(largest, ROUNDING_SLACK * eps * terms / (tolerance.rtol * tolerance.floor))


def raised_scales(ctx, names: list[str], scales: list[float], failed: list) -> list[float]:
    """The scales of failed checks raised to the rounding of what their gradients are computed from (terms that
    cancel, tanh's 1 - out², float32), found only where a check failed at its own scale. ctx: check.py's context."""
    if not any(failed):
        return scales
    terms = term_sizes(ctx.graph, ctx.values, ctx.weights, (ctx.reference, ctx.base))
    return [
        judged_scale(s, terms.get(n, 0.0), ctx.tolerance, ctx.graph.dtype) if f else s
        for n, s, f in zip(names, scales, failed, strict=True)
    ]
