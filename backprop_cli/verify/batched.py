"""Many evaluations at once: the gates downstream of a perturbed node, with a leading batch axis.

gradcheck perturbs elements one at a time; evaluating thousands of perturbed graphs one by one
would spend its time in Python, and most of it recomputing what did not change. So:

- Only the gates downstream of the perturbed node run, each once per batch. How a gate takes the
  batch axis follows from its shape rule: elementwise ops broadcast over it, reductions and softmax
  shift their axis past it, matmul broadcasts it as a batch dimension, conv2d folds it into its image
  axis; any other op (losses, plugin ops) runs once per batch item.
- Elements whose effects land in different slices run together. Column j of x @ w depends only on
  column j of w, so perturbing a whole row of w at once and reading column j of the result gives
  column j's element alone. A group of such elements stays together through every gate that keeps
  the slices apart (elementwise ops, the kept axes of a reduction: Op.independent), and splits into
  one row per element at the first gate that mixes them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..engines.reverse_mode import relevant
from ..graph import Const, Graph, Node
from ..ops import OPS, shapes

ELEMENTWISE = (shapes.same, shapes.broadcast)
AXIS_RULES = (shapes.reduction, shapes.selection, shapes.along_axis)
IMAGES = (shapes.conv2d, shapes.pool2d)


def downstream(graph: Graph, start: str) -> list[Node]:
    """The gates on a path from start to the output, in topological order (start itself excluded). A path
    through a gate that stops the gradient (stop_gradient) does not count: its output is held constant."""

    def compute() -> list[Node]:  # a walk from start along the readers: its own gates, not the whole graph
        on_path = relevant(graph, None)  # once per graph: a gate off it never leads back onto it
        readers = graph.derived("readers", graph.consumers)
        order = graph.derived("order", lambda: {name: i for i, name in enumerate(graph.nodes)})
        found, stack = set(), [start]
        while stack:
            for gate in readers[stack.pop()]:
                if gate in on_path and gate not in found and not graph.nodes[gate].operation.stops_gradient:
                    found.add(gate)
                    stack.append(gate)
        return [graph.nodes[name] for name in sorted(found, key=order.__getitem__)]

    return graph.derived(("downstream", start), compute)


# ------------------------------------------------------------------ one gate, a whole batch


def call(node: Node, fn: Callable, args: Sequence[object], batched: Sequence[bool], size: int) -> np.ndarray:
    """fn(*args, **node.attrs) for every batch item at once; args marked batched carry a leading batch axis."""
    op = node.operation
    attrs = node.attrs
    if op.shape in ELEMENTWISE:
        rank = len(node.shape)
        padded = [
            np.reshape(a, (size,) + (1,) * (rank - (np.ndim(a) - 1)) + np.shape(a)[1:]) if b else a
            for a, b in zip(args, batched, strict=True)
        ]
        return np.asarray(fn(*padded, **attrs))
    builtin = OPS.get(node.op) is op
    if op.shape in AXIS_RULES and builtin and batched[0]:  # forward, rules, pieces: slice by slice along kept axes
        x = 2 if fn in op.vjp or fn in op.jvp else 0  # the operand: (g or t, out, x) for a rule
        ndim = np.ndim(args[x]) - batched[x]
        every = [a if b else np.broadcast_to(a, (size, *np.shape(a))) for a, b in zip(args, batched, strict=True)]
        return np.asarray(fn(*every, **dict(attrs, axis=_shift_axis(attrs.get("axis"), ndim))))
    if op.shape is shapes.matmul and fn is op.forward:
        return _matmul_batched(fn, *args, *batched)
    image = fn is op.forward or fn is op.jvp[0] or (op.kinks is not None and fn is op.kinks.piece)
    if op.shape in IMAGES and builtin and image and batched[0] and not any(batched[1:]):
        return _images_batched(node, fn, args, size)
    if op.shape is shapes.conv2d and builtin and _filters_moved(op, fn, batched):
        return _filters_batched(node, fn, args, batched, size)
    each = [tuple(a[k] if b else a for a, b in zip(args, batched, strict=True)) for k in range(size)]
    many = getattr(fn, "many", None)  # a plugin op: the whole batch in one round trip to its worker
    items = many(each, attrs) if many is not None else [fn(*xs, **attrs) for xs in each]
    return np.stack([np.asarray(item) for item in items])


def _images_batched(node: Node, fn: Callable, args: Sequence[object], size: int) -> np.ndarray:
    """conv2d or max_pool2d (the forward, the forward rule of the image, max_pool2d's pieces) with a batch of
    images or of their tangents: the batch joins the op's own image axis N. A rule's unmoved output and image
    (its arguments 1 and 2) are repeated to match, so that the rule sees every item as an image of its own."""

    def joined(a: np.ndarray) -> np.ndarray:
        return np.reshape(a, (-1, *np.shape(a)[-3:]))

    rule = fn is not node.operation.forward and len(args) > 1
    rest = [joined(np.broadcast_to(a, (size, *np.shape(a)))) if rule and i in (1, 2) else a for i, a in enumerate(args)]
    out = np.asarray(fn(joined(args[0]), *rest[1:], **node.attrs))
    if fn is node.operation.forward or fn in node.operation.jvp:
        return np.reshape(out, (size, *node.shape))
    return np.reshape(out, (size, out.shape[0] // size, *out.shape[1:]))  # a piece: (N or 1, ...) per item


def _filters_moved(op, fn: Callable, batched: Sequence[bool]) -> bool:
    """conv2d's filters or bias moved and its image not, or the forward rule of its filters."""
    return (fn is op.forward and not batched[0] and any(batched[1:])) or (fn is op.jvp[1] and not any(batched[1:]))


def _filters_batched(node: Node, fn: Callable, args: Sequence[object], batched: Sequence[bool], size: int):
    """conv2d with a batch of filters or biases (the image unmoved), or the forward rule of its filters with a
    batch of tangents: the batch joins the filter axis F, and the output (N, B·F, OH, OW) regroups to
    (B, N, F, OH, OW)."""

    def joined(a: np.ndarray, moved: bool) -> np.ndarray:
        return np.reshape(a, (-1, *np.shape(a)[2:])) if moved else np.tile(a, (size,) + (1,) * (np.ndim(a) - 1))

    if fn is node.operation.forward:
        x, *rest = args
        out = fn(x, *(a if a is None else joined(a, b) for a, b in zip(rest, batched[1:], strict=True)), **node.attrs)
    else:
        out = fn(joined(args[0], True), *args[1:], **node.attrs)
    images = np.asarray(out) if np.ndim(out) == 4 else np.asarray(out)[None]
    images = images.reshape(images.shape[0], size, -1, *images.shape[2:])
    return np.reshape(np.moveaxis(images, 1, 0), (size, *node.shape))


def _shift_axis(axis: object, ndim: int) -> object:
    """The same axes of an operand that gained a leading batch axis."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    items = axis if isinstance(axis, (list, tuple)) else [axis]
    moved = tuple(a + 1 if a >= 0 else a for a in items)
    return moved if isinstance(axis, (list, tuple)) else moved[0]


def _matmul_batched(product: Callable, a: np.ndarray, b: np.ndarray, a_batched: bool, b_batched: bool) -> np.ndarray:
    """a @ b for every batch item at once, a batched operand carrying a leading batch axis B. Vectors are
    promoted as @ promotes them, (k,) to (1, k) on the left and to (k, 1) on the right, and the batch axis goes
    in front of all of the product's own batch axes, so that @ pairs item k of one operand with item k of the
    other and broadcasts every axis the way a single product would. A batch of left vectors against at most a
    matrix is one product of (B, k) rows; a batch of right vectors against a matrix is (a @ bᵀ)ᵀ."""
    own_a, own_b = np.ndim(a) - a_batched, np.ndim(b) - b_batched
    if a_batched and not b_batched and own_a == 1 and own_b <= 2:
        return np.asarray(product(a, b))  # (B, k) @ (k, m): each row times b
    if b_batched and not a_batched and own_b == 1 and own_a == 2:
        return np.asarray(product(a, np.swapaxes(b, 0, 1))).T
    a2 = np.expand_dims(a, -2) if own_a == 1 else a
    b2 = np.expand_dims(b, -1) if own_b == 1 else b
    lead = max(own_a, own_b, 2) - 2  # the product's own batch axes

    def batch_first(x: np.ndarray, batched: bool, own: int) -> np.ndarray:
        return np.reshape(x, (x.shape[0],) + (1,) * (lead - (max(own, 2) - 2)) + x.shape[1:]) if batched else x

    out = np.asarray(product(batch_first(a2, a_batched, own_a), batch_first(b2, b_batched, own_b)))
    dropped = ([out.ndim - 1] if own_b == 1 else []) + ([out.ndim - 2] if own_a == 1 else [])
    return np.squeeze(out, axis=tuple(dropped)) if dropped else out


# ------------------------------------------------------------------ which gates keep perturbed elements apart


def independent(graph: Graph, node: Node, slot: int) -> dict[int, int]:
    """{operand axis: output axis} of one operand slot (see Op.independent); elementwise ops keep every axis
    that is not broadcast."""
    op = node.operation
    operand_shapes = [x.shape if isinstance(x, Const) else graph.nodes[x].shape for x in node.inputs]
    if op.shape in ELEMENTWISE:
        shape, out = operand_shapes[slot], node.shape
        offset = len(out) - len(shape)
        return {a: a + offset for a in range(len(shape)) if shape[a] == out[a + offset]}
    if op.independent is None:
        return {}
    return op.independent(*operand_shapes, **node.attrs)[slot]


@dataclass(frozen=True)
class Plan:
    """How perturbations of one node's elements reach the output."""

    start: str
    gates: list[Node]  # downstream of start, in topological order
    axes: tuple[int, ...]  # start's axes along which perturbed elements stay apart (empty: no grouping)
    maps: dict[str, dict[int, int]]  # node run once per group -> {start axis: node axis}


def plan(graph: Graph, start: str, grouped: bool = True) -> Plan:
    return graph.derived(("plan", start, grouped), lambda: _plan(graph, start, grouped))


def _plan(graph: Graph, start: str, grouped: bool) -> Plan:
    gates = downstream(graph, start)
    axes: set[int] | None = None
    for node in gates:
        for i, x in enumerate(node.inputs):
            if x == start:
                kept = set(independent(graph, node, i))
                axes = kept if axes is None else axes & kept
    if not grouped or not axes:
        return Plan(start, gates, (), {})
    order = tuple(sorted(axes))
    maps = {start: {a: a for a in order}}
    touched = {start}
    for node in gates:
        candidates = []
        for i, x in enumerate(node.inputs):
            if x in touched:
                through = independent(graph, node, i) if x in maps else {}
                mapped = {a: through[ax] for a, ax in maps.get(x, {}).items() if ax in through}
                candidates.append(mapped if len(mapped) == len(order) else None)
        if candidates and all(c is not None and c == candidates[0] for c in candidates):
            maps[node.name] = candidates[0]
        touched.add(node.name)
    return Plan(start, gates, order, maps)


# ------------------------------------------------------------------ running a plan


@dataclass(frozen=True)
class Batch:
    """Rows of perturbed evaluations: one per group while groups stay apart, one per element after."""

    groups: int
    group_of: np.ndarray  # (elements,) the group row each element row reads
    coords: np.ndarray  # (elements, start ndim) each element's index in the start node


def expand(rows: np.ndarray, fill: np.ndarray | float, node_map: dict[int, int], batch: Batch) -> np.ndarray:
    """From one row per group to one row per element: each element keeps its own slice, `fill` elsewhere."""
    if not node_map and len(rows) == len(batch.group_of) and _in_order(batch.group_of):
        return rows  # a row per element already (random directions, a Jacobian's columns): no copy
    picked = rows[batch.group_of]
    if not node_map:
        return picked
    ndim = picked.ndim - 1
    mask = np.ones((len(batch.group_of),) + (1,) * ndim, bool)
    for a, axis in node_map.items():
        size = picked.shape[axis + 1]
        along = np.arange(size).reshape((1,) + tuple(size if d == axis else 1 for d in range(ndim)))
        mask = mask & (along == batch.coords[:, a].reshape((-1,) + (1,) * ndim))
    np.copyto(picked, fill, where=~mask)  # in place: rows of a large node are not copied twice
    return picked


def _in_order(group_of: np.ndarray) -> bool:
    return bool(np.array_equal(group_of, np.arange(len(group_of))))


def run(
    graph: Graph,
    base: dict[str, np.ndarray],
    how: Plan,
    batch: Batch,
    seed: np.ndarray,
    tangents: bool = False,
    kinks: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """The output, one row per element, when the start node takes the seed rows (one per group): values,
    or with tangents the forward-mode tangents of the seed directions.

    kinks, if given, receives for each piecewise gate an (elements,) mask: True where the gate is on
    another piece than in the base evaluation (a stencil crossed its kink).
    """
    grouped = {how.start: seed}
    rows: dict[str, np.ndarray] = {}
    dtype = graph.dtype
    last = {x: i for i, node in enumerate(how.gates) for x in node.inputs if isinstance(x, str)}

    def element_rows(name: str) -> np.ndarray:
        if name not in rows:
            rows[name] = expand(grouped[name], 0.0 if tangents else base[name], how.maps.get(name, {}), batch)
        return rows[name]

    with np.errstate(all="ignore"):
        for i, node in enumerate(how.gates):
            together = node.name in how.maps
            size = batch.groups if together else len(batch.group_of)
            moved = {}
            for x in node.inputs:
                if isinstance(x, str) and (x in grouped or x in rows):
                    moved[x] = grouped[x] if together else element_rows(x)
            out, changed = gate_rows(node, moved, base, dtype, size, tangents, kinks is not None)
            if changed is not None:
                if together:
                    changed = expand(np.broadcast_to(changed, (size, *node.shape)), False, how.maps[node.name], batch)
                kinks[node.name] = np.reshape(changed, (len(batch.group_of), -1)).any(axis=1)
            (grouped if together else rows)[node.name] = out
            for x in {x for x in node.inputs if isinstance(x, str) and last[x] == i and x != graph.output}:
                grouped.pop(x, None), rows.pop(x, None)  # read for the last time: its rows are not kept
    if graph.output not in grouped and graph.output not in rows:  # every path is stopped (stop_gradient)
        unchanged = np.zeros(np.shape(base[graph.output])) if tangents else base[graph.output]
        return np.broadcast_to(unchanged, (len(batch.group_of), *np.shape(unchanged)))
    return element_rows(graph.output)


def gate_rows(
    node: Node, moved: dict, base: dict[str, np.ndarray], dtype: np.dtype, size: int, tangents: bool, kinks: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """A gate on size rows of its moved operands (the others at base): its values, or with tangents its tangents;
    and with kinks, where a piecewise gate went onto another piece (None otherwise)."""
    xs = [np.asarray(x.value, dtype) if isinstance(x, Const) else base[x] for x in node.inputs]
    if tangents:
        return _tangent(node, moved, xs, base[node.name], size), None
    args = [moved.get(x, v) if isinstance(x, str) else v for x, v in zip(node.inputs, xs, strict=True)]
    out = call(node, node.operation.forward, args, [isinstance(x, str) and x in moved for x in node.inputs], size)
    if not kinks or node.operation.kinks is None:
        return out, None
    return out, _branch_changed(node, args, xs, moved, size)


LINEAR = ("sum", "mean", "matmul")  # built-in ops linear in each operand: the tangent of one is the op applied to it


def _tangent(node: Node, moved: dict[str, np.ndarray], xs: list[np.ndarray], out: np.ndarray, size: int) -> np.ndarray:
    total = None
    op = node.operation
    linear = node.op in LINEAR and OPS.get(node.op) is op  # batched like the forward (a rule would go item by item)
    for i, x in enumerate(node.inputs):
        rule = op.jvp[i]
        if isinstance(x, str) and x in moved and rule is not None:
            if linear:
                args = [moved[x] if k == i else v for k, v in enumerate(xs)]
                part = call(node, op.forward, args, [k == i for k in range(len(xs))], size)
            else:
                args = [moved[x], out, *xs]
                part = call(node, rule, args, [True] + [False] * (len(args) - 1), size)
            total = part if total is None else total + part
    return np.broadcast_to(np.zeros(()) if total is None else total, (size, *node.shape))


def _branch_changed(node: Node, args: list, xs: list, moved: dict, size: int) -> np.ndarray:
    """(size, ...) True where the perturbed operands put an element on another piece of the gate."""
    branch = node.operation.kinks.piece
    here = np.asarray(branch(*(np.real(x) for x in xs), **node.attrs))
    batched = [isinstance(x, str) and x in moved for x in node.inputs]
    there = call(node, branch, [np.real(a) for a in args], batched, size)
    if np.ndim(there) == np.ndim(here):  # the branch does not read the perturbed operand (prelu's slope)
        return np.zeros((size, *node.shape), bool)
    return there != here
