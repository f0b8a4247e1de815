"""Reverse mode (backpropagation): gates in reverse topological order, gradients summed at forks."""

from __future__ import annotations

import numpy as np

from ..errors import EvaluationError, UsageError
from ..graph import Graph, Node
from .evaluate import all_finite, describe_bad, gate_plan, operands


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


def _first_fault(
    graph: Graph, values: dict[str, np.ndarray], needed: set[str], grads: dict[str, np.ndarray]
) -> EvaluationError:
    """The first edge, in backward order, whose gradient went non-finite (only run once something did)."""
    with np.errstate(all="ignore"):
        for node in reversed(graph.gates):
            g = grads.get(node.name)
            if g is None or node.name not in needed or not all_finite(g):
                continue
            xs = operands(node, values, graph.dtype)
            for i, operand in enumerate(node.inputs):
                rule = node.operation.vjp[i]
                if isinstance(operand, str) and operand in needed and rule is not None:
                    sent = rule(g, values[node.name], *xs, **node.attrs)
                    if not all_finite(sent):
                        return EvaluationError(
                            f"the gradient node {node.name} = {node.expr} sends to {operand} is "
                            f"{describe_bad(sent)} ({node.operation.fault} in its derivative)",
                            node.where,
                        )
    return EvaluationError("a gradient became NaN or inf")


def relevant(graph: Graph, wrt: set[str] | None) -> set[str]:
    """Nodes that lie on a path from some leaf in wrt (default: every node) to the output."""
    return graph.derived(("relevant", None if wrt is None else frozenset(wrt)), lambda: _relevant(graph, wrt))


def _zero(graph: Graph, name: str, dtype: np.dtype) -> np.ndarray:
    """A read-only zero gradient: a broadcast view, allocated once per node."""
    return graph.derived(("zero", name, dtype), lambda: np.broadcast_to(np.zeros((), dtype), graph.nodes[name].shape))


def _one(graph: Graph, out: np.ndarray) -> np.ndarray:
    """d output / d output: ones, read-only and made once per graph (and shape and dtype of the output)."""
    return graph.derived(("one", np.shape(out), out.dtype), lambda: _read_only(np.ones(np.shape(out), out.dtype)))


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _relevant(graph: Graph, wrt: set[str] | None) -> set[str]:
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


NO_GRADIENT = {  # why a node that reaches the output has no gradient (its 0 in reverse mode is no derivative)
    "labels": "read only as class labels, which have no gradient",
    "compared": "only compared: a comparison gives a mask of 0s and 1s, with no gradient",
    "indices": "read only as labels, indices or a mask, which have no gradient",
    "stopped": "every path to the output passes a gate that stops the gradient (stop_gradient)",
}


def no_gradient(graph: Graph) -> dict[str, str]:
    """{node: reason} for the nodes that reach the output but along no path a gradient can take: class labels
    (a slot with no reverse rule) and nodes behind stop_gradient. Their reverse-mode 0 is not a derivative."""

    def carried(past_stoppers: bool) -> set[str]:
        found = {graph.output}
        for node in reversed(graph.gates):
            stops = node.operation.stops_gradient
            if node.name in found and (past_stoppers or not stops):
                slots = zip(node.inputs, node.operation.vjp, strict=False)
                found.update(x for x, rule in slots if isinstance(x, str) and (rule is not None or stops))
        return found

    def why(name: str, past_stoppers: set[str]) -> str:
        if name in past_stoppers:
            return NO_GRADIENT["stopped"]
        readers = {n.operation.gate_kind.role for n in graph.gates if name in n.inputs}
        if readers == {"comparator"}:
            return NO_GRADIENT["compared"]
        return NO_GRADIENT["labels" if readers == {"loss"} else "indices"]

    def compute() -> dict[str, str]:
        reach, carry, past_stoppers = relevant(graph, None), carried(False), carried(True)
        return {name: why(name, past_stoppers) for name in graph.nodes if name in reach and name not in carry}

    return graph.derived("no gradient", compute)


def backward_plan(graph: Graph, wrt: set[str] | None, dtype: np.dtype) -> list[tuple[Node, tuple, tuple]]:
    """The gates on the paths from wrt to the output, last first, each with its operands (as in
    gate_plan) and the slots a gradient is sent down: (slot, operand, reverse rule). Built once per
    graph, wrt and dtype, so a training step skips data inputs and constants without looking."""
    return graph.derived(
        ("backward plan", None if wrt is None else frozenset(wrt), dtype), lambda: _plan(graph, wrt, dtype)
    )


def carried(graph: Graph, wrt: set[str] | None) -> set[str]:
    """The leaves in wrt (default: all) and the nodes a gradient can flow to them from: through a slot with a
    reverse rule. arcsin(greater(x, y)) depends on x only through a comparison: no gradient reaches x, so an
    infinite one sent below arcsin (its slope at 1) is that node's derivative, not a fault (torch takes none
    there: a comparison has no grad_fn)."""
    return graph.derived(("carried", None if wrt is None else frozenset(wrt)), lambda: _carried(graph, wrt))


def _carried(graph: Graph, wrt: set[str] | None) -> set[str]:
    carried = set(graph.leaf_values if wrt is None else wrt)
    for node in graph.gates:
        slots = zip(node.inputs, node.operation.vjp, strict=False)
        if any(isinstance(x, str) and x in carried and rule is not None for x, rule in slots):
            carried.add(node.name)
    return carried


def _plan(graph: Graph, wrt: set[str] | None, dtype: np.dtype) -> list[tuple[Node, tuple, tuple]]:
    needed = relevant(graph, wrt)
    plan = []
    for node, _, inputs in reversed(gate_plan(graph, dtype)):
        slots = tuple(
            (i, operand, rule)
            for i, (operand, rule) in enumerate(zip(node.inputs, node.operation.vjp, strict=False))
            if isinstance(operand, str) and operand in needed and rule is not None
        )
        if node.name in needed and slots:
            plan.append((node, inputs, slots))
    return plan


def upstream_gradient(graph: Graph, given: object, of: str | None = None) -> np.ndarray:
    """The gradient seeded at the output (or at node `of`), parsed like a leaf override: a number fills
    the node's shape, a list must have its shape; NaN and inf are refused."""
    from ..ops.shapes import fmt
    from .evaluate import parse_value

    name = graph.output if of is None else of
    shape = graph.nodes[name].shape
    value = parse_value(given, graph.dtype, "grad_output")
    if value.shape != shape:
        if value.ndim != 0:
            raise UsageError(
                f"the upstream gradient at {name} has shape {fmt(value.shape)}; "
                + (
                    f"{name} is a scalar: give one number"
                    if not shape
                    else f"give a number or a list of shape {fmt(shape)}"
                ),
                parameter="grad_output",
            )
        value = np.full(shape, value, dtype=graph.dtype)
    if not np.all(np.isfinite(value)):
        raise UsageError(
            f"the upstream gradient at {name} must be finite, not {describe_bad(value)}", parameter="grad_output"
        )
    return value


def reverse_mode(
    graph: Graph,
    values: dict[str, np.ndarray],
    wrt: set[str] | None = None,
    edges: dict[tuple[str, int], np.ndarray] | None = None,
    seed: np.ndarray | None = None,
    summed: set[tuple[str, int]] | None = None,
) -> dict[str, np.ndarray]:
    """d output / d name for every node (zero off the output's paths).

    wrt limits the work to the paths from those leaves; edges, if given, receives the
    gradient each gate sends down each of its operand slots (for explanations), and summed
    the slots whose gradient was summed back to a broadcast operand's shape.
    """
    out = values[graph.output]
    grads: dict[str, np.ndarray] = {graph.output: _one(graph, out) if seed is None else seed}
    finite = seed is None or all_finite(np.asarray(seed))  # checked as each gradient is made, each array once
    leads = carried(graph, wrt)  # (a gradient that reaches no leaf may be infinite: the node's own derivative)
    with np.errstate(all="ignore"):
        for node, inputs, slots in backward_plan(graph, wrt, graph.dtype):
            g = grads.get(node.name)
            if g is None:
                continue
            xs = [values[x] if isinstance(x, str) else x for x in inputs]
            y = values[node.name]
            for i, operand, rule in slots:
                raw = rule(g, y, *xs, **node.attrs)
                contribution = unbroadcast(raw, np.shape(xs[i]))
                if edges is not None:
                    edges[(node.name, i)] = contribution
                    if summed is not None and np.size(raw) > np.size(contribution):
                        summed.add((node.name, i))
                if contribution is not g and operand in leads:  # a distributor hands g on as it is: checked
                    finite = finite and all_finite(contribution)
                if operand in grads:  # a fork: the sum can overflow even when both parts are finite
                    contribution = grads[operand] + contribution
                    finite = finite and (operand not in leads or all_finite(contribution))
                grads[operand] = contribution
        if not finite:
            raise _first_fault(graph, values, relevant(graph, wrt) & leads, grads)
    ordered = {}
    for name in graph.nodes:
        g = grads.get(name)
        if g is None:
            g = _zero(graph, name, values[name].dtype)
        elif g.dtype != values[name].dtype and not np.iscomplexobj(g):
            g = g.astype(values[name].dtype)
        ordered[name] = g
    return ordered
