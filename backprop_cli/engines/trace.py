"""The trace model: per gate its value, upstream gradient, local gradients and what it sends.

What `backprop trace` and `render` show, and what gradcheck's `expect:` answers are explained with;
outputs/ only formats it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError, shortened
from ..graph import Const, Graph, Node
from .evaluate import evaluate, operands
from .reverse_mode import reverse_mode, upstream_gradient


@dataclass
class Edge:
    """One operand slot of a gate: what the gradient does crossing it."""

    operand: str  # a node's name, or the constant as text
    is_node: bool
    local_text: str  # the local derivative in words ("h1", "1", "σ(1-σ)")
    local: np.ndarray | None  # its value, where the gate is scalar
    sent: np.ndarray | None  # the gradient sent down this slot (reverse mode)
    summed: bool = False  # the rule's gradient had the broadcast shape: it was summed back to the operand's


@dataclass
class Row:
    node: Node
    value: np.ndarray
    gradient: np.ndarray | None = None  # d output / d node
    tangent: np.ndarray | None = None
    edges: list[Edge] = field(default_factory=list)


@dataclass
class Trace:
    graph: Graph
    mode: str
    rows: list[Row]
    values: dict[str, np.ndarray]
    gradients: dict[str, np.ndarray] | None
    tangents: dict[str, np.ndarray] | None
    wrt: str | None  # the forward-mode direction, named as in the JSON (field "wrt")
    consumers: dict[str, list[str]]
    grad_output: np.ndarray | None = None  # the upstream gradient given at the output (None: all ones)


def local_text(node: Node, i: int) -> str:
    """The local derivative in words, with the operands' names (x² written as 2·x, not 2·x^(2-1))."""
    if node.operation.local_words is not None:
        words = node.operation.local_words(
            [x.value if isinstance(x, Const) and not x.shape else str(x) for x in node.inputs], i
        )
        if words is not None:
            return words
    template = node.operation.local[i] if i < len(node.operation.local) else "?"
    names = [str(x) for x in node.inputs]
    return template.format(*names, out=node.name)


def run_trace(
    graph: Graph,
    mode: str = "reverse",
    direction: str | tuple[str, object] | None = None,
    grad_output: object = None,
) -> Trace:
    """Values, and gradients (reverse mode), tangents along direction (forward mode; default: the first param), or both.
    direction: a leaf, an element `x[2,3]`, `x=[...]`, or (leaf, values) already read from the command line.
    grad_output: the upstream gradient at the output (a number, list or array; default all ones), so that a
    non-scalar output y gives the vector-Jacobian product vᵀ·dy/d(name), as torch's y.backward(v)."""
    if grad_output is not None and mode == "forward":
        raise UsageError(
            "the upstream gradient starts reverse mode; forward mode alone has none: add --mode both",
            parameter="grad_output",
        )
    values = evaluate(graph)
    gradients = tangents = None
    seed = None if grad_output is None else upstream_gradient(graph, grad_output)
    edges: dict[tuple[str, int], np.ndarray] = {}
    summed: set[tuple[str, int]] = set()
    if mode in ("reverse", "both"):
        gradients = reverse_mode(graph, values, edges=edges, seed=seed, summed=summed)
    if mode in ("forward", "both"):
        from .forward_mode import direction as parse_direction  # reverse mode, the default, never pays for it
        from .forward_mode import forward_mode

        if direction is None:
            direction = (graph.params or list(graph.leaf_values))[0]
        tangents = forward_mode(graph, values, parse_direction(graph, direction))
        if not isinstance(direction, str):
            direction = f"{direction[0]}={shortened(direction[1], 40)}"
    rows = []
    dtype = graph.dtype
    for node in graph.nodes.values():
        row = Row(node, values[node.name])
        if gradients is not None:
            row.gradient = gradients[node.name]
        if tangents is not None:
            row.tangent = tangents[node.name]
        if not node.is_leaf:
            xs = operands(node, values, dtype)
            scalar = all(np.ndim(x) == 0 for x in xs) and np.ndim(row.value) == 0
            for i, operand in enumerate(node.inputs):
                rule = node.operation.vjp[i]
                local = None
                if scalar and rule is not None:
                    with np.errstate(all="ignore"):
                        local = np.asarray(rule(np.ones((), dtype), values[node.name], *xs, **node.attrs))
                row.edges.append(
                    Edge(
                        str(operand),
                        not isinstance(operand, Const),
                        local_text(node, i),
                        local,
                        edges.get((node.name, i)),
                        (node.name, i) in summed,
                    )
                )
        rows.append(row)
    return Trace(graph, mode, rows, values, gradients, tangents, direction, graph.consumers(), seed)
