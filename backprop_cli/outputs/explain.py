"""The chain rule in words and numbers, one line per edge, e.g.

    dL/dw7 = dL/do · ∂o/∂w7 = 6 · h1 = 6 · 4 = 24

the upstream gradient dL/do (what reached the gate, d: through the whole graph) times the local
gradient ∂o/∂w7 (the gate's own derivative, ∂), as the lectures write it. Tensors show their numbers
when small (SMALL elements; every one with --full) and their shape and summary beyond.

Gates are explained in reverse topological order. A node of the file that expands into
several gates (o: w7*h1 + w8*h2) is explained gate by gate, then summed up the way the
lectures write it, as one step from the node to each of its operands.
"""

from __future__ import annotations

import numpy as np

from ..engines.partials import node_partials
from ..engines.trace import Row, Trace
from ..numbers import is_number, number, summary
from ..ops import GateKind
from ..ops.shapes import fmt

ROLE_NOTE = {
    GateKind.DISTRIBUTOR: "{op} distributes: the gradient passes unchanged",
    GateKind.SWITCHER: "{op} switches: the local gradient is the other input's value",
    GateKind.ROUTER: "{op} routes: only what won (or was picked) gets the gradient, 0 goes to the rest",
    GateKind.KILLER: "{op} kills the gradient where its input is ≤ 0",
    GateKind.LEAKY: "{op} leaks: the gradient passes where its input is > 0, scaled by its small slope elsewhere",
    GateKind.SQUASHER: "{op} squashes: its slope shrinks the gradient",
    GateKind.STOPPER: "{op} stops the gradient: its input is treated as a constant and gets 0",
    GateKind.COMPARATOR: "{op} gives a mask of 0s and 1s, flat between ties: no gradient goes back through it",
}


# What the gradient's shape does on its way to an operand of another shape than the gate's, where the engine did
# not sum a broadcast back (that is "summed back to", said only where it happened); the others (a loss, softmax,
# conv2d) multiply the upstream gradient into the operand's shape: nothing more to say.
RESHAPED = {
    GateKind.ROUTER: "scattered into",  # x[i], max, max_pool2d: the picked elements get it, 0 the rest
    GateKind.DISTRIBUTOR: "copied to every element of",  # sum, mean: the adjoint of a sum is a copy
    GateKind.WIRE: "rearranged into",  # reshape, transpose, concat, stack
}

SMALL = 6  # tensors of up to this many elements are shown in full


def _step(out: str, node: str, operand: str, upstream: float, words: str, local: float, sent: float) -> str:
    """dL/dx = dL/dn · ∂n/∂x = g · words = g · local = sent: upstream (total, d) times local (∂)."""
    head = f"d{out}/d{operand} = d{out}/d{node} · ∂{node}/∂{operand}"
    g = number(upstream)
    shown = number(local)
    middle = f" = {g} · {words}" if words != shown and not is_number(words) else ""
    return f"{head}{middle} = {g} · {shown} = {number(sent)}"


def _tensor_step(trace: Trace, row: Row, i: int, full: bool) -> str:
    """dL/dx = dL/dn ⊙ ∂n/∂x = upstream ⊙ [local in words] = sent, in numbers when small (summaries when big);
    ops with a tensor rule in the op table (matmul) say it with their operands."""
    node, edge = row.node, row.edges[i]
    out = trace.graph.output

    def shown(value: object) -> str:
        return summary(value, full, SMALL)

    def transposed(name: str) -> str:  # a small operand by its numbers, a big one by its name and shape
        value = trace.values[name]
        small = full or np.size(value) <= SMALL
        return f"({shown(value)})ᵀ" if small and np.ndim(value) else f"{name}ᵀ {fmt(np.shape(value)[::-1])}"

    upstream = shown(row.gradient)
    rule = node.operation.tensor_rule
    if rule:
        names, numbers = {"g": f"d{out}/d{node.name}"}, {"g": upstream}
        for j, operand in enumerate(node.inputs):
            value = trace.values.get(str(operand), np.zeros(()))
            names[f"x{j}"], names[f"x{j}_T"] = str(operand), f"{operand}ᵀ"
            numbers[f"x{j}"], numbers[f"x{j}_T"] = shown(value), transposed(str(operand))
        words, values = rule[i].format(**names), rule[i].format(**numbers)
    else:
        words = f"d{out}/d{node.name} ⊙ ∂{node.name}/∂{edge.operand}"
        local = edge.local_text if edge.local_text.startswith("[") else f"[{edge.local_text}]"  # a literal: as it is
        values = f"{upstream} ⊙ {local}"
        shape = trace.values[edge.operand].shape
        how = "summed back to" if edge.summed else RESHAPED.get(node.operation.gate_kind)
        if how and (edge.summed or shape != row.value.shape):
            values += f", {how} {fmt(shape)}"
    fork = "+=" if len(trace.consumers[edge.operand]) > 1 else "="
    return f"d{out}/d{edge.operand} {fork} {words} = {values} = {shown(edge.sent)}"


def _all_ones(local: object) -> bool:
    return local is not None and bool(np.all(np.asarray(local) == 1))


def _gate_lines(trace: Trace, row: Row, full: bool) -> list[str]:
    node = row.node
    note = ROLE_NOTE.get(node.operation.gate_kind)
    if node.operation.gate_kind is GateKind.DISTRIBUTOR and not all(_all_ones(e.local) for e in row.edges if e.is_node):
        note = "{op} distributes: the gradient passes on, times a fixed factor (-1 where subtracted, 1/n in a mean)"
    lines = [f"# {node.name} = {node.expr}" + (f": {note.format(op=node.op)}" if note else "")]
    scalar = np.ndim(row.value) == 0
    for i, edge in enumerate(row.edges):
        if not edge.is_node or edge.sent is None:
            continue
        if scalar and edge.local is not None and np.ndim(edge.sent) == 0:
            line = _step(
                trace.graph.output, node.name, edge.operand, row.gradient, edge.local_text, edge.local, edge.sent
            )
            if node.operation.gate_kind is GateKind.KILLER and float(edge.local) == 0:
                line += f"   (dead: {edge.operand} = {number(trace.values[edge.operand])} ≤ 0, the gradient stops)"
            lines.append("  " + line)
        else:
            lines.append("  " + _tensor_step(trace, row, i, full))
    return lines


def _node_summary(trace: Trace, rows: list[Row]) -> list[str]:
    """One lecture-style step from a file node to each operand outside it, through its inner gates."""
    if len(rows) < 2:
        return []
    name = rows[-1].node.name
    return [
        "  ⇒ " + _step(trace.graph.output, name, operand, g, text, value, g * value)
        for operand, (g, text, value) in node_partials(trace, rows).items()
    ]


def explain_lines(trace: Trace, full: bool = False) -> list[str]:
    """Reverse topological order: each gate's edges, node summaries, and a sum line wherever paths meet."""
    return [line for _, lines in explain_steps(trace, full) for line in lines]


def explain_steps(trace: Trace, full: bool = False) -> list[tuple[str | None, list[str]]]:
    """explain_lines in steps of the backward pass: (None, the output's 1 and the rule), then per node in
    reverse topological order (node, its lines): a fork's sum, then a gate's edges and its file node's summary."""
    if trace.gradients is None:
        return []
    out = trace.graph.output
    steps: list[tuple[str | None, list[str]]] = [
        (
            None,
            [
                f"d{out}/d{out} = 1   (the output)",
                f"each step: d{out}/d(input) = d{out}/d(gate) · ∂gate/∂input, the upstream gradient times the local one",
            ],
        )
    ]
    if trace.grad_output is not None:  # a given upstream gradient v: every d below is of Σ v·output
        v = trace.grad_output
        given = number(v) if np.ndim(v) == 0 else f"v {fmt(np.shape(v))}"
        steps[0][1][0] = (
            f"upstream gradient at {out} (--grad-output) = {given}   (the gradients below are of Σ v·{out})"
        )
    received: dict[str, list[np.ndarray]] = {}
    by_origin: dict[str, list[Row]] = {}
    for row in trace.rows:
        if not row.node.is_leaf:
            by_origin.setdefault(row.node.origin, []).append(row)
    for row in reversed(trace.rows):
        node = row.node
        lines: list[str] = []
        parts = received.get(node.name, [])
        if len(parts) > 1:
            total = trace.gradients[node.name]
            if np.ndim(total) == 0:
                lines.append(
                    f"d{out}/d{node.name} = {' + '.join(number(p) for p in parts)} = {number(total)}"
                    f"   (gradients from {len(parts)} paths add at the fork {node.name})"
                )
            else:
                lines.append(
                    f"d{out}/d{node.name} = the sum of the {len(parts)} gradients arriving at the fork "
                    f"{node.name} = {summary(total, full, SMALL)}"
                )
        if not node.is_leaf:
            for edge in row.edges:
                if edge.is_node and edge.sent is not None:
                    received.setdefault(edge.operand, []).append(edge.sent)
            lines += _gate_lines(trace, row, full)
            group = by_origin[node.origin]
            if group[0] is row:  # the last gate of a file node in backward order: sum the node up
                lines += _node_summary(trace, group)
        if lines:
            steps.append((node.name, lines))
    return steps
