"""Many scalar leaves at once, and facts about every node's path to the output from one pass over the graph.

Checking leaves one at a time costs a walk of the graph per leaf: a sum of 10,000 scalar leaves is a chain of
10,000 gates, and each leaf's perturbations would re-run the gates after it (quadratic). Perturbations of
different leaves are independent, so scalar leaves are checked together: one batched evaluation of the gates
downstream of any of them, each gate once per stencil, with one row per (leaf, direction, stencil point).

A row differs from the unperturbed evaluation only at the gates downstream of its leaf, so each node carries
only its own rows (row-sparse): the gate summing leaf k into a chain holds k rows, not 10,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from ..engines.reverse_mode import relevant
from ..graph import Graph, Node
from ..ops import OPS
from .batched import gate_rows
from .numerical import Stencil
from .tolerances import POINTS

# ------------------------------------------------------------------ facts about every node's path, in one pass


@dataclass(frozen=True)
class PathFacts:
    """Per node, about the gates on its paths to the output."""

    analytic: dict[str, bool]  # every one is a built-in holomorphic op: the complex step applies
    builtin: dict[str, bool]  # none runs plugin code
    missing_jvp: dict[str, str | None]  # the first op (topological order) that has no forward rule, if any


def path_facts(graph: Graph) -> PathFacts:
    return graph.derived("path facts", lambda: _path_facts(graph))


def _path_facts(graph: Graph) -> PathFacts:
    on_path = relevant(graph, None)
    order = {name: i for i, name in enumerate(graph.nodes)}
    analytic: dict[str, bool] = {}
    builtin: dict[str, bool] = {}
    missing: dict[str, tuple[int, str] | None] = {}
    readers = graph.consumers()
    for name in reversed(graph.nodes):
        a = b = True
        first: tuple[int, str] | None = None
        for gate in readers[name]:
            if gate not in on_path:
                continue
            node = graph.nodes[gate]
            op = node.operation
            own = OPS.get(node.op) is op
            a = a and op.analytic and analytic[gate]  # (Op.analytic: built-in, no kinks)
            b = b and own and builtin[gate]
            lacks = any(v is not None and j is None for v, j in zip(op.vjp, op.jvp, strict=True))
            for candidate in ((order[gate], node.op) if lacks else None, missing[gate]):
                if candidate is not None and (first is None or candidate[0] < first[0]):
                    first = candidate
        analytic[name], builtin[name], missing[name] = a, b, first
    return PathFacts(analytic, builtin, {n: None if m is None else m[1] for n, m in missing.items()})


# ------------------------------------------------------------------ row-sparse batched evaluation


@dataclass(frozen=True)
class Items:
    """What is moved: item k moves leaf leaves[k] by move[k] (a scalar leaf's direction: 1 or ±1)."""

    leaves: list[str]
    move: np.ndarray

    def __len__(self) -> int:
        return len(self.leaves)


def unstopped(graph: Graph) -> set[str]:
    """The nodes with a path to the output that passes no gate stopping the gradient (one pass)."""

    def compute() -> set[str]:
        found = {graph.output}
        for node in reversed(graph.gates):
            if node.name in found and not node.operation.stops_gradient:
                found.update(x for x in node.inputs if isinstance(x, str))
        return found

    return graph.derived("unstopped", compute)


def differentiable(graph: Graph) -> set[str]:
    """The nodes with a path to the output along which a derivative is taken: through no stopper and no slot
    without a reverse rule (labels, index arrays, what a comparison reads); never a mask leaf. One pass."""

    def compute() -> set[str]:
        found = {graph.output}
        for node in reversed(graph.gates):
            if node.name in found and not node.operation.stops_gradient:
                rules = node.operation.vjp
                found.update(x for x, rule in zip(node.inputs, rules, strict=False) if isinstance(x, str) and rule)
        return {name for name in found if not graph.nodes[name].attrs.get("mask")}  # true/false: no derivative

    return graph.derived("differentiable", compute)


def unchecked_plugin_ops(graph: Graph) -> dict[str, str]:
    """Nodes of plugin ops (student code) whose backward no check exercises: their output's gradient is stopped
    on every path to the output (stop_gradient around them), or they do not reach the output at all."""
    reached = unstopped(graph)
    return {
        node.name: f"op {node.op}'s backward is never checked here: no gradient reaches it from the output"
        for node in graph.gates
        if OPS.get(node.op) is not node.operation and node.name not in reached
    }


def downstream_of(graph: Graph, starts: set[str]) -> list[Node]:
    """The gates on a path from any of starts to the output, in topological order (one pass); as in
    batched.downstream, not through a gate that stops the gradient."""
    on_path = relevant(graph, None)
    marked = set(starts)
    gates = []
    for node in graph.gates:
        if node.operation.stops_gradient:
            continue
        if node.name in on_path and any(isinstance(x, str) and x in marked for x in node.inputs):
            marked.add(node.name)
            gates.append(node)
    return gates


def _starts(base: dict[str, np.ndarray], items: Items, amounts: np.ndarray, tangents: bool) -> dict:
    """{leaf: (rows, values)}: row p·K + k holds item k's leaf moved by amounts[p, k] · move[k]. One sort of the
    items by leaf, then a slice per leaf: 10,000 leaves cost no more than a few passes over the items."""
    points, count = amounts.shape
    ids: dict[str, int] = {}
    of = np.fromiter((ids.setdefault(leaf, len(ids)) for leaf in items.leaves), np.intp, count)
    order = np.argsort(of, kind="stable")  # items grouped by leaf, each group in item order
    bounds = np.searchsorted(of[order], np.arange(len(ids) + 1))
    rows = np.arange(points)[:, None] * count + order[None, :]  # (points, K): ascending within a leaf's columns
    moved = amounts[:, order] * items.move[order]
    starts = {}
    for leaf, i in ids.items():
        a, b = bounds[i], bounds[i + 1]
        value = base[leaf]
        values = moved[:, a:b].reshape((-1,) + (1,) * value.ndim) + (0 if tangents else value)
        starts[leaf] = (rows[:, a:b].reshape(-1), values)
    return starts


def run_rows(
    graph: Graph,
    base: dict[str, np.ndarray],
    gates: list[Node],
    starts: dict[str, tuple[np.ndarray, np.ndarray]],
    tangents: bool = False,
    kinks: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, values) of the output: each node holds only the rows its value differs in, and is dropped after
    the last gate that reads it. kinks, if given, receives per piecewise gate (rows, crossed a kink)."""
    live = dict(starts)
    total = 1 + max((int(rows[-1]) for rows, _ in starts.values() if len(rows)), default=0)
    last = {}
    for i, node in enumerate(gates):
        for x in node.inputs:
            if isinstance(x, str):
                last[x] = i
    dtype = graph.dtype
    with np.errstate(all="ignore"):
        for i, node in enumerate(gates):
            names = list(dict.fromkeys(x for x in node.inputs if isinstance(x, str) and x in live))  # s * s: once
            if not names:  # only leaves not moved this time (a retry of a few) feed it: its value is the base
                continue
            rows, places = _union([live[x][0] for x in names], total)
            moved = {
                x: _widen(live[x][1], rows, p, 0.0 if tangents else base[x]) for x, p in zip(names, places, strict=True)
            }
            out, changed = gate_rows(node, moved, base, dtype, len(rows), tangents, kinks is not None)
            if changed is not None:
                kinks[node.name] = (rows, np.reshape(changed, (len(rows), -1)).any(axis=1))
            live[node.name] = (rows, out)
            for x in names:
                if last.get(x) == i and x != graph.output:
                    del live[x]
    if graph.output not in live:
        return np.zeros(0, np.intp), np.zeros((0, *np.shape(base[graph.output])))
    return live[graph.output]


Place = slice | np.ndarray | None  # where a node's rows sit among a gate's rows (None: they are all of them)


def _union(sets: list[np.ndarray], total: int) -> tuple[np.ndarray, list[Place]]:
    """The sorted union of row sets (rows below total), and where each set's rows sit in it. Sets that follow
    one another (a chain adding one leaf's rows after the others') are joined end to end; others through a
    mask over all rows, not a sort (a chain's gates hold thousands of rows and each adds a few), unless they
    hold few of all the rows (a gate early in one of many chains)."""
    first = sets[0]
    if all(s is first or (len(s) == len(first) and np.array_equal(s, first)) for s in sets[1:]):
        return first, [None] * len(sets)
    filled = [s for s in sets if len(s)]
    order = sorted(range(len(filled)), key=lambda i: filled[i][0])
    if all(filled[a][-1] < filled[b][0] for a, b in pairwise(order)) and len(filled) == len(sets):
        starts = np.cumsum([0] + [len(filled[i]) for i in order])
        places: list[Place] = [None] * len(sets)
        for k, i in enumerate(order):
            places[i] = slice(int(starts[k]), int(starts[k + 1]))
        return np.concatenate([filled[i] for i in order]), places
    if 8 * sum(len(s) for s in sets) < total:  # a few rows among many: sort them, not a mask over all rows
        rows = np.unique(np.concatenate(sets))
        return rows, [np.searchsorted(rows, s) for s in sets]
    mask = np.zeros(total, bool)
    for s in sets:
        mask[s] = True
    rank = np.cumsum(mask) - 1
    return np.flatnonzero(mask), [rank[s] for s in sets]


def _widen(values: np.ndarray, rows: np.ndarray, place: Place, fill: np.ndarray | float) -> np.ndarray:
    """A node's values on a gate's rows: the unperturbed value (or tangent 0) where it was not moved."""
    if place is None or len(values) == len(rows):
        return values
    full = np.empty((len(rows), *np.shape(values)[1:]), np.result_type(values, fill))
    full[...] = fill
    full[place] = values
    return full


def stencil_items(
    graph: Graph,
    base: dict[str, np.ndarray],
    gates: list[Node],
    weights: np.ndarray,
    items: Items,
    steps: np.ndarray,
    method: str,
) -> Stencil:
    """The projected output at every stencil point of every item (as numerical.stencil_elements)."""
    points = np.asarray(POINTS[method])
    count = len(items)
    starts = _starts(base, items, points[:, None] * steps[None, :], tangents=False)
    crossed: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    rows, out = run_rows(graph, base, gates, starts, kinks=None if method == "complex" else crossed)
    phi0 = float(np.real(np.tensordot(base[graph.output], weights, axes=weights.ndim)))
    phi = np.full(len(points) * count, phi0, np.result_type(out, float))
    phi[rows] = np.tensordot(out, weights, axes=weights.ndim)
    masks = {}
    for gate, (where, changed) in crossed.items():
        full = np.zeros(len(points) * count, bool)
        full[where] = changed
        masks[gate] = full.reshape(len(points), count)
    return Stencil(phi.reshape(len(points), count), phi0, steps, masks, max(1, len(gates)))


def tangent_items(
    graph: Graph, values: dict[str, np.ndarray], gates: list[Node], weights: np.ndarray, items: Items
) -> np.ndarray:
    """Forward mode: the projected output's derivative along each item's move, in the graph's own dtype."""
    starts = _starts(values, items, np.ones((1, len(items))), tangents=True)
    starts = {leaf: (rows, vals.astype(graph.dtype)) for leaf, (rows, vals) in starts.items()}
    rows, out = run_rows(graph, values, gates, starts, tangents=True)
    result = np.zeros(len(items))
    result[rows] = np.tensordot(np.asarray(out, np.float64), weights, axes=weights.ndim)
    return result
