"""Forward mode: tangents pushed along the gates in topological order."""

from __future__ import annotations

import re

import numpy as np

from ..errors import EvaluationError, UsageError
from ..graph import Graph
from ..ops.shapes import fmt
from .evaluate import check_leaf, describe_bad, operands, parse_value


def forward_mode(graph: Graph, values: dict[str, np.ndarray], tangents: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The tangent of every node given the leaves' tangents (a missing leaf has tangent zero)."""
    tans = dict(tangents)
    dtype = graph.dtype
    with np.errstate(all="ignore"):
        for node in graph.gates:
            if not any(isinstance(x, str) and x in tans for x in node.inputs):
                continue
            xs = operands(node, values, dtype)
            total = None
            for i, operand in enumerate(node.inputs):
                rule = node.operation.jvp[i]
                if rule is None and node.operation.vjp[i] is not None and isinstance(operand, str) and operand in tans:
                    raise UsageError(  # a plugin op without a jvp: a silent zero tangent would be a wrong answer
                        f"forward mode cannot pass through node {node.name}: op {node.op} has no forward rule (jvp)",
                        node.where,
                    )
                if isinstance(operand, str) and operand in tans and rule is not None:
                    part = rule(tans[operand], values[node.name], *xs, **node.attrs)
                    total = part if total is None else total + part
            if total is None:
                continue
            total = np.broadcast_to(total, node.shape)
            if not np.all(np.isfinite(total)):
                raise EvaluationError(
                    f"the tangent of node {node.name} = {node.expr} is {describe_bad(total)}", node.where
                )
            tans[node.name] = total
    zero = {
        name: np.zeros(node.shape, dtype=values[name].dtype) for name, node in graph.nodes.items() if name not in tans
    }
    return {name: tans[name] if name in tans else zero[name] for name in graph.nodes}


_ELEMENT = re.compile(r"^\s*([^\W\d]\w*)\s*\[([\d,\s]*)\]\s*$")


def leaf_tangents(graph: Graph, given: dict[str, object], parameter: str = "tangents") -> dict[str, np.ndarray]:
    """{leaf: tangent} from numbers, arrays or lists; a scalar tangent fills the leaf's shape."""
    out = {}
    for name, raw in given.items():
        check_leaf(graph, name, parameter)
        shape = graph.nodes[name].shape
        t = parse_value(raw, graph.dtype, parameter)
        if t.shape != shape:
            if t.ndim != 0:
                raise UsageError(
                    f"the tangent of {name} has shape {fmt(t.shape)}, the leaf {fmt(shape)}", parameter=parameter
                )
            t = np.full(shape, t, dtype=graph.dtype)
        out[name] = t
    return out


def direction(graph: Graph, wrt: str | tuple[str, object], parameter: str = "direction") -> dict[str, np.ndarray]:
    """A direction written as text: a leaf (all-ones tangent), an element `x[2,3]` (one-hot), or `x=[..]`;
    or (leaf, direction) already read (the CLI reads the value as safely as a graph file). parameter: the
    argument that gave it (derivatives takes its leaf or element as wrt)."""
    if not isinstance(wrt, str):
        return leaf_tangents(graph, {wrt[0]: wrt[1]}, parameter)
    if "=" in wrt:
        name, _, raw = wrt.partition("=")
        return leaf_tangents(graph, {name.strip(): raw}, parameter)
    m = _ELEMENT.match(wrt)
    if m:
        name = m.group(1)
        check_leaf(graph, name, parameter)
        shape = graph.nodes[name].shape
        index = tuple(int(i) for i in m.group(2).split(",") if i.strip())
        if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape, strict=True)):
            raise UsageError(f"{wrt} is not an element of {name}, which has shape {fmt(shape)}", parameter=parameter)
        t = np.zeros(shape, dtype=graph.dtype)
        t[index] = 1
        return {name: t}
    return leaf_tangents(graph, {wrt.strip(): 1.0}, parameter)


__all__ = ["forward_mode", "leaf_tangents", "direction", "describe_bad"]
