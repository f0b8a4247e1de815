"""Reverse mode (backpropagation): gates in reverse topological order, gradients summed at forks."""

from __future__ import annotations

import numpy as np

from ..errors import EvaluationError
from ..graph import Graph
from .evaluate import describe_bad, operands


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient back to its operand's shape (the adjoint of NumPy broadcasting)."""
    g = np.asarray(g)
    if g.shape == shape:
        return g
    if g.ndim > len(shape):
        g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g if g.shape == shape else np.broadcast_to(g, shape)


def relevant(graph: Graph, wrt: set[str] | None) -> set[str]:
    """Nodes that lie on a path from some leaf in wrt (default: every node) to the output."""
    ancestors = {graph.output}
    for node in reversed(graph.gates):
        if node.name in ancestors:
            ancestors.update(x for x in node.inputs if isinstance(x, str))
    if wrt is None:
        return ancestors
    descendants = set(wrt)
    for node in graph.gates:
        if any(isinstance(x, str) and x in descendants for x in node.inputs):
            descendants.add(node.name)
    return ancestors & descendants


def reverse_mode(
    graph: Graph,
    values: dict[str, np.ndarray],
    wrt: set[str] | None = None,
    edges: dict[tuple[str, int], np.ndarray] | None = None,
    seed: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """d output / d name for every node (zero off the output's paths).

    wrt limits the work to the paths from those leaves; edges, if given, receives the
    gradient each gate sends down each of its operand slots (for explanations).
    """
    needed = relevant(graph, wrt)
    out = values[graph.output]
    grads: dict[str, np.ndarray] = {graph.output: np.ones_like(out) if seed is None else seed}
    dtype = graph.dtype
    with np.errstate(all="ignore"):
        for node in reversed(graph.gates):
            g = grads.get(node.name)
            if g is None or node.name not in needed:
                continue
            xs = operands(node, values, dtype)
            for i, operand in enumerate(node.inputs):
                rule = node.operation.vjp[i]
                if not isinstance(operand, str) or operand not in needed or rule is None:
                    continue
                contribution = unbroadcast(rule(g, values[node.name], *xs, **node.attrs), np.shape(xs[i]))
                if not np.all(np.isfinite(contribution)):
                    raise EvaluationError(
                        f"the gradient node {node.name} = {node.expr} sends to {operand} is "
                        f"{describe_bad(contribution)} ({node.operation.fault} in its derivative)",
                        node.where,
                    )
                if edges is not None:
                    edges[(node.name, i)] = contribution
                grads[operand] = contribution if operand not in grads else grads[operand] + contribution
    ordered = {}
    for name, node in graph.nodes.items():
        g = grads.get(name)
        if g is None:
            g = np.zeros(node.shape, dtype=values[name].dtype)
        elif g.dtype != values[name].dtype and not np.iscomplexobj(g):
            g = g.astype(values[name].dtype)
        ordered[name] = g
    return ordered
