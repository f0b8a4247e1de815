"""How large the terms are that a derivative is summed from: the size of its rounding.

A derivative can be far smaller than the terms it is made of. Σ softmax(z) = 1 makes d/dz zero, yet reverse
mode computes it as s·(g - Σ g·s), terms of the size of g, and keeps their rounding: 1e-17 where 0 is exact,
and forward mode rounds to another 1e-17. Judged against itself, that rounding would be a failure (the element
"disagrees" by 100%). So a derivative is judged at least at ROUNDING_SLACK roundings of its terms: one that
large is checked to rtol as always; one that cancels below it is checked to within its terms' rounding, which
still catches every rule that is wrong by more than rounding. A gradient that is small without cancelling
(a long chain of saturating gates) has terms as small as itself, and is judged to rtol as ever.

The size of the terms is a second backward pass in which nothing cancels: each gate's reverse rule takes the
magnitude of its upstream terms with random signs (a rule sums what it is given: with signs that do not line
up, a sum of 1 - 1 stays about 1 in size), and the magnitudes of what it sends add up at forks and broadcasts.
Rules of the table only: a plugin op's code is not run again, and what lies behind it keeps its own scale.
"""

from __future__ import annotations

import numpy as np

from ..engines.reverse_mode import backward_plan, unbroadcast
from ..graph import Graph
from ..ops import OPS
from .tolerances import ROUNDING_SLACK, Tolerance

DRAWS = 2  # random sign patterns per gate: an accidental cancellation in both is unlikely


def term_sizes(graph: Graph, values: dict[str, np.ndarray], weights: np.ndarray) -> dict[str, float]:
    """Per node on a path to the output, the largest size of the terms its gradient (of Σ weights·output) is
    summed from; computed once per graph and weights."""
    cached = graph.cache.get("term sizes")
    if cached is None or cached[0] is not weights:
        cached = graph.cache["term sizes"] = (weights, _magnitudes(graph, values, weights))
    return cached[1]


def _magnitudes(graph: Graph, values: dict[str, np.ndarray], weights: np.ndarray) -> dict[str, float]:
    rng = np.random.default_rng(0)
    pending = {graph.output: np.abs(np.broadcast_to(weights, np.shape(values[graph.output])))}
    sizes: dict[str, float] = {}
    with np.errstate(all="ignore"):
        for node, inputs, slots in backward_plan(graph, None, graph.dtype):
            upstream = pending.pop(node.name, None)
            if upstream is None:
                continue
            sizes[node.name] = _largest(upstream)
            if node.operation.stops_gradient or OPS.get(node.op) is not node.operation:
                continue
            xs = [values[x] if isinstance(x, str) else x for x in inputs]
            out = values[node.name]
            draws = [upstream * rng.choice((-1.0, 1.0), np.shape(upstream)) for _ in range(DRAWS)]
            for i, operand, rule in slots:
                sent = np.maximum.reduce([np.abs(rule(g, out, *xs, **node.attrs)) for g in draws])
                sent = unbroadcast(np.where(np.isfinite(sent), sent, 0.0), np.shape(xs[i]))
                pending[operand] = sent if operand not in pending else pending[operand] + sent
    for name, upstream in pending.items():  # the leaves
        sizes[name] = _largest(upstream)
    return sizes


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
