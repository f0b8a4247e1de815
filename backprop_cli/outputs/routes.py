"""How the gradient routes: what each wire of a diagram carries, and what each gate does to it.

A wire runs from a node to one operand slot of a gate that reads it, plus one from the output
that carries the seed. It carries its tail's value forward and, back, the gradient the gate
sends down that slot (reverse mode), or its tail's tangent (forward mode). A gradient that is
exactly zero gets the reason: killed (a dead ReLU), routed away (max chose another input),
× 0 (a switcher whose factor is 0), or the reason of the zero it was made from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engines.evaluate import operands
from ..engines.trace import Row, Trace
from ..numbers import number
from ..ops import GateKind
from .diagram_style import SATURATED_SLOPE, VANISHING

NOT_REACHING = "does not reach the output"


@dataclass
class Wire:
    tail: str
    head: str | None  # None: the output's own wire, where the backward pass starts
    slot: int
    value: np.ndarray
    gradient: np.ndarray | None = None  # sent back along this wire (reverse mode)
    tangent: np.ndarray | None = None  # the tail's tangent (forward mode)
    differentiable: bool = True  # False: an operand like integer labels, which gets no gradient
    zero: str | None = None  # why what flows (gradient; in forward mode the tangent) is exactly 0
    vanishing: bool = False  # 0 < |flow| < VANISHING


@dataclass
class Routes:
    flow: str  # "gradient" or "tangent": what the wires' styles and widths follow
    wires: list[Wire]
    notes: dict[str, str]  # gate -> what it does here ("z won", "dead: i2 = -3 ≤ 0")
    largest: float  # the largest |flow| on any wire: line widths are relative to it
    out: dict[str, list[Wire]] = field(default_factory=dict)  # node -> the wires leaving it


def magnitude(array: np.ndarray | None) -> float:
    """The largest |element|: what decides a wire's width and whether it vanishes."""
    return 0.0 if array is None or np.size(array) == 0 else float(np.max(np.abs(array)))


def _join(reasons: list[str | None]) -> str:
    return " / ".join(sorted({r for r in reasons if r})) or "0"


def _cause(row: Row) -> str:
    """Why a gate sends exactly 0 down a slot although its own gradient is not 0."""
    gate = row.node.operation.gate_kind
    return {GateKind.KILLER: "killed", GateKind.ROUTER: "routed away", GateKind.STOPPER: "stopped"}.get(gate, "× 0")


def trace_routes(trace: Trace) -> Routes:
    values, gradients, tangents = trace.values, trace.gradients, trace.tangents
    flow = "gradient" if gradients is not None else "tangent"
    wires: list[Wire] = []
    into: dict[str, list[Wire]] = {}
    out: dict[str, list[Wire]] = {}
    for row in trace.rows:
        for i, edge in enumerate(row.edges):
            if not edge.is_node:
                continue
            operand = edge.operand
            wire = Wire(operand, row.node.name, i, values[operand])
            wire.differentiable = row.node.operation.vjp[i] is not None
            if gradients is not None and wire.differentiable:
                wire.gradient = edge.sent if edge.sent is not None else np.zeros_like(values[operand])
            if tangents is not None:
                wire.tangent = tangents[operand]
            wires.append(wire)
            into.setdefault(row.node.name, []).append(wire)
            out.setdefault(operand, []).append(wire)
    output = trace.graph.output
    seed = Wire(output, None, 0, values[output])
    seed.gradient = gradients[output] if gradients is not None else None
    seed.tangent = tangents[output] if tangents is not None else None
    wires.append(seed)
    out.setdefault(output, []).append(seed)

    if flow == "gradient":
        _gradient_zeros(trace, into, out)
    else:
        _tangent_zeros(trace, into, wires)
    for wire in wires:
        wire.vanishing = 0 < magnitude(getattr(wire, flow)) < VANISHING
    largest = max((magnitude(getattr(w, flow)) for w in wires), default=0.0)
    notes = {row.node.name: gate_note(trace, row) for row in trace.rows if not row.node.is_leaf}
    return Routes(flow, wires, notes, largest, out)


def _gradient_zeros(trace: Trace, into: dict[str, list[Wire]], out: dict[str, list[Wire]]) -> None:
    """Reverse topological order: a zero wire is explained by its gate, or by the zero upstream of it."""
    reason: dict[str, str] = {}  # node -> why its own gradient is 0
    for row in reversed(trace.rows):
        name = row.node.name
        leaving = out.get(name, [])
        if not np.any(trace.gradients[name]):
            if not leaving:
                reason[name] = NOT_REACHING
            elif any(w.zero for w in leaving):
                reason[name] = _join([w.zero for w in leaving])
            else:
                reason[name] = "cancels"  # nonzero gradients that sum to exactly 0
        for wire in into.get(name, []):
            if wire.gradient is not None and not np.any(wire.gradient):
                wire.zero = reason[name] if name in reason else _cause(row)


def _tangent_zeros(trace: Trace, into: dict[str, list[Wire]], wires: list[Wire]) -> None:
    """Topological order: a zero tangent is a leaf held constant, or made zero by a gate."""
    reason: dict[str, str] = {}
    for row in trace.rows:
        name = row.node.name
        if np.any(trace.tangents[name]):
            continue
        wires_in = into.get(name, [])
        if row.node.is_leaf:
            reason[name] = "held constant"
        elif all(w.tail in reason for w in wires_in):
            reason[name] = _join([reason[w.tail] for w in wires_in])
        else:
            reason[name] = _cause(row)
    for wire in wires:
        wire.zero = reason.get(wire.tail)


def merge_wires(parts: list[Wire], flow: str) -> Wire:
    """Wires from one node into one collapsed box, drawn as one: their gradients sum."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    merged = Wire(first.tail, first.head, first.slot, first.value, tangent=first.tangent, zero=first.zero)
    merged.differentiable = all(w.differentiable for w in parts)
    if flow == "gradient":
        merged.zero = None
        if all(w.gradient is not None for w in parts):
            merged.gradient = sum(w.gradient for w in parts)
            if not np.any(merged.gradient):
                merged.zero = _join([w.zero for w in parts]) if any(w.zero for w in parts) else "cancels"
    merged.vanishing = 0 < magnitude(getattr(merged, flow)) < VANISHING
    return merged


# ------------------------------------------------------------ what a gate does here, in a few words
def _share(fraction: float) -> str:
    return "<1%" if 0 < fraction < 0.005 else f"{fraction:.0%}"


def _local(row: Row, i: int, xs: list) -> np.ndarray:
    """The gate's local derivative along its i-th operand, elementwise (the reverse rule given g = 1)."""
    rule = row.node.operation.vjp[i]
    with np.errstate(all="ignore"):
        return np.asarray(rule(np.ones_like(row.value), row.value, *xs, **row.node.attrs))


def _factor(value: np.ndarray, show) -> str | None:
    """One factor for every element (×-1, ÷3 for a mean), or None when they differ."""
    flat = np.ravel(value)
    if flat.size == 0 or not np.all(flat == flat[0]):
        return None
    f = float(flat[0])
    if 0 < abs(f) < 1 and float(round(1 / f)) == 1 / f and abs(round(1 / f)) > 1:
        return f"÷{round(1 / f)}" if f > 0 else f"÷-{round(-1 / f)}"
    return f"×{show(f)}"


def gate_note(trace: Trace, row: Row, show=number) -> str:
    """What the gate does here, in full (a tooltip, the page): "×-4 to q, ×3 to z", "dead: i2 = -3 ≤ 0"."""
    node = row.node
    gate = node.operation.gate_kind
    edges = [e for e in row.edges if e.is_node]
    if not edges:
        return ""
    scalar = np.ndim(row.value) == 0 and all(e.local is not None and np.ndim(e.local) == 0 for e in edges)

    def to(edge) -> str:  # with one input, no need to name it
        way = "from" if trace.mode == "forward" else "to"  # the factor meets a tangent coming in
        return f" {way} {edge.operand}" if len(edges) > 1 else ""

    if gate is GateKind.STOPPER:
        return "gradient stopped (0)"
    xs = operands(node, trace.values, trace.graph.dtype)
    if gate is GateKind.DISTRIBUTOR:
        factors = [(_factor(_local(row, i, xs), show), e) for i, e in enumerate(row.edges) if e.is_node]
        return ", ".join(f"{f}{to(e)}" for f, e in factors if f is not None and f != "×1")
    if gate in (GateKind.SWITCHER, GateKind.SCALER):
        if scalar:
            return ", ".join(f"×{show(e.local)}{to(e)}" for e in edges)
        return ", ".join(f"{e.local_text}{to(e)}" for e in edges) if gate is GateKind.SWITCHER else ""
    if gate is GateKind.ROUTER:
        routed = [e for e in edges if e.local is not None]  # where's mask and index arrays get no gradient
        if np.ndim(row.value) == 0 and routed and all(np.ndim(e.local) == 0 for e in routed):
            winners = [e.operand for e in routed if float(e.local) != 0]
            return f"{' and '.join(winners)} won" if winners else ""
        won = []  # how many elements of each input the gradient goes to
        for i, operand in enumerate(node.inputs):
            if isinstance(operand, str) and node.operation.vjp[i] is not None:
                mask = _local(row, i, xs)
                won.append(
                    f"{np.count_nonzero(mask):,} of {mask.size:,}" + (f" to {operand}" if len(edges) > 1 else "")
                )
        return ("to " if len(edges) == 1 else "") + ", ".join(won)
    if gate in (GateKind.KILLER, GateKind.LEAKY) and xs:
        x, local = np.asarray(xs[0]), _local(row, 0, xs)
        name = str(node.inputs[0])
        if scalar:
            if float(x) > 0:
                return f"passes: {name} = {show(x)} > 0"
            if float(local) == 0:
                return f"dead: {name} = {show(x)} ≤ 0"
            return f"×{show(local)}: {name} = {show(x)} ≤ 0"
        if not np.size(x):
            return ""
        below = np.broadcast_to(x, np.shape(local)) <= 0  # prelu's x broadcast against its slope
        if not np.any(below):
            return "passes everywhere (input > 0)"
        if gate is GateKind.KILLER:
            return f"dead for {_share(float(np.mean(below)))} (input ≤ 0)"
        return f"{_span(local[below], show)} for {_share(float(np.mean(below)))} (input ≤ 0)"
    if gate is GateKind.SQUASHER and xs:
        slope = _local(row, 0, xs)
        if scalar:
            return f"{'saturated: ' if float(slope) < SATURATED_SLOPE else ''}slope {show(slope)}"
        saturated = float(np.mean(np.abs(slope) < SATURATED_SLOPE)) if slope.size else 0.0
        return f"saturated for {_share(saturated)}" if saturated else f"slope ≤ {show(np.max(np.abs(slope)))}"
    return ""


def _span(values: np.ndarray, show) -> str:
    low, high = float(np.min(values)), float(np.max(values))
    return f"×{show(low)}" if low == high else f"×{show(low)}…{show(high)}"


def short_note(trace: Trace, row: Row, show=number) -> str:
    """What the gate does here in a word or two, for the gate itself, where the numbers on its wires do not
    already say it: a factor other than 1 (1 − y: ×-1), dead or leaking, saturated, stopped, a router's share.
    Derived from the local derivative, as the wires' numbers are, so the two never disagree."""
    node, gate = row.node, row.node.operation.gate_kind
    edges = [e for e in row.edges if e.is_node]
    if not edges:
        return ""
    if gate is GateKind.STOPPER:
        return "stops ∂"
    xs = operands(node, trace.values, trace.graph.dtype)
    if gate is GateKind.DISTRIBUTOR:
        factors = [(_factor(_local(row, i, xs), show), e) for i, e in enumerate(row.edges) if e.is_node]
        shown = [(f, e) for f, e in factors if f is not None and f != "×1"]
        if len(shown) == 1 and len(edges) > 1:
            return f"{shown[0][0]} to {shown[0][1].operand}"
        return ", ".join(f for f, _ in shown)
    if gate in (GateKind.KILLER, GateKind.LEAKY) and xs:
        x, local = np.asarray(xs[0]), _local(row, 0, xs)
        below = np.broadcast_to(x, np.shape(local)) <= 0 if np.ndim(local) else x <= 0
        if not np.any(below):
            return ""
        if gate is GateKind.KILLER:
            return "dead" if np.ndim(x) == 0 else f"dead {_share(float(np.mean(below)))}"
        return _span(local[below], show) + ("" if np.ndim(x) == 0 else f" at {_share(float(np.mean(below)))}")
    if gate is GateKind.SQUASHER and xs:
        slope = _local(row, 0, xs)
        saturated = np.abs(slope) < SATURATED_SLOPE
        if np.ndim(slope) == 0:
            return "saturated" if saturated else ""
        return f"saturated {_share(float(np.mean(saturated)))}" if np.any(saturated) else ""
    if gate is GateKind.ROUTER and np.ndim(row.value) != 0 and len(edges) == 1:
        mask = _local(row, 0, xs)
        return f"to {np.count_nonzero(mask):,} of {mask.size:,}"
    return ""
