"""The chain rule in words and numbers, one line per edge, e.g.

dL/dw7 = dL/do · do/dw7 = 6 · h1 = 6 · 4 = 24
"""

from __future__ import annotations

import numpy as np

from ..ops import GateKind
from ..ops.shapes import fmt
from .numbers import number
from .trace import Row, Trace

ROLE_NOTE = {
    GateKind.DISTRIBUTOR: "{op} distributes: the gradient passes unchanged",
    GateKind.SWITCHER: "{op} switches: the local gradient is the other input's value",
    GateKind.ROUTER: "{op} routes: only the winning input gets the gradient",
    GateKind.KILLER: "{op} kills the gradient where its input is ≤ 0",
    GateKind.SQUASHER: "{op} squashes: its slope shrinks the gradient",
}


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _scalar_step(trace: Trace, row: Row, i: int) -> str:
    node, edge = row.node, row.edges[i]
    out = trace.graph.output
    d = f"d{out}/d{edge.operand}"
    head = f"{d} = d{out}/d{node.name} · d{node.name}/d{edge.operand}"
    g = number(row.gradient)
    local = number(edge.local) if edge.local is not None else edge.local_text
    words = f" = {g} · {edge.local_text}" if not _is_number(edge.local_text) and edge.local_text != local else ""
    sent = number(edge.sent) if edge.sent is not None else "0"
    return f"{head}{words} = {g} · {local} = {sent}"


def _tensor_step(trace: Trace, row: Row, i: int) -> str:
    node, edge = row.node, row.edges[i]
    out = trace.graph.output
    shape_of = {name: trace.values[name].shape for name in trace.values}
    g_shape = fmt(row.value.shape)
    target = fmt(shape_of[edge.operand])
    d_node = f"d{out}/d{node.name} {g_shape}"
    if node.op == "matmul":
        a, b = (str(x) for x in node.inputs)
        if i == 0:
            body = f"{d_node} · {b}ᵀ {fmt(shape_of[b][::-1])}"
        else:
            body = f"{a}ᵀ {fmt(shape_of[a][::-1])} · {d_node}"
    else:
        body = f"{d_node} ⊙ [{edge.local_text}]"
        if shape_of[edge.operand] != row.value.shape:
            body += f", summed back to {target}"
    return f"d{out}/d{edge.operand} {'+=' if len(trace.consumers[edge.operand]) > 1 else '='} {body} → {target}"


def explain_lines(trace: Trace) -> list[str]:
    """Reverse topological order: each gate's edges, and a sum line wherever paths meet at a fork."""
    if trace.gradients is None:
        return []
    lines: list[str] = []
    out = trace.graph.output
    received: dict[str, list[np.ndarray]] = {}
    for row in reversed(trace.rows):
        node = row.node
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
                    f"d{out}/d{node.name} = sum of the {len(parts)} gradients arriving at the fork "
                    f"{node.name} {fmt(np.shape(total))}"
                )
        if node.is_leaf:
            continue
        if node.name == out:
            lines.append(f"d{out}/d{out} = 1   (the output)")
        note = ROLE_NOTE.get(node.operation.gate)
        if note:
            lines.append(f"# {node.name} = {node.expr}: {note.format(op=node.op)}")
        else:
            lines.append(f"# {node.name} = {node.expr}")
        scalar = np.ndim(row.value) == 0 and all(e.local is not None or not e.is_node for e in row.edges)
        for i, edge in enumerate(row.edges):
            if not edge.is_node or edge.sent is None:
                continue
            received.setdefault(edge.operand, []).append(edge.sent)
            lines.append(
                ("  " + _scalar_step(trace, row, i))
                if scalar and np.ndim(edge.sent) == 0
                else ("  " + _tensor_step(trace, row, i))
            )
    return lines
