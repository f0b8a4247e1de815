"""gradcheck's scalar leaves, all at once (see many.py): checking them one at a time would walk the graph once
per leaf; one batched evaluation per stencil takes every scalar leaf downstream of the others along. ctx is
check.py's context (the graph, its values, the reference, the gradients, the options)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .many import Items, downstream_of, path_facts, stencil_items, tangent_items
from .numerical import numeric_derivative, own_steps, steps_for
from .rounding import raised_scales
from .tolerances import POINTS
from .verdicts import Judge, LeafCheck, Rows, classify, record_passing

CHUNK_BYTES = 32 * 2**20  # batched values held at once (ops' own temporaries come on top)


def check_scalars(ctx, names: list[str]) -> dict[str, LeafCheck]:
    """Scalar leaves checked together: one batched evaluation per stencil for all of them."""
    facts = path_facts(ctx.reference)
    leaves, groups = {}, {}
    for name in names:
        node = ctx.graph.nodes[name]
        analytic = facts.analytic[name] and ctx.eps is None  # as _choose
        method = ctx.method if ctx.method != "auto" else ("complex" if analytic else "richardson")
        leaf = LeafCheck(name, node.kind, node.shape, method, "full" if ctx.mode == "auto" else ctx.mode)
        if method == "complex" and not facts.analytic[name]:
            leaf.method = "richardson"
            leaf.notes.append("the complex step needs analytic ops on the path: used richardson")
        missing = facts.missing_jvp[name]
        if missing:
            leaf.forward_checked = False
            leaf.notes.append(f"forward mode not checked: op {missing} has no forward rule (jvp)")
        leaves[name] = leaf
        groups.setdefault(leaf.method, []).append(name)
    for method, group in groups.items():
        for start in range(0, len(group), _scalar_chunk(ctx, method)):
            _check_scalar_group(ctx, group[start : start + _scalar_chunk(ctx, method)], method, leaves)
    return leaves


def _scalar_chunk(ctx, method: str) -> int:
    """Leaves per batch: their rows through the largest gate within CHUNK_BYTES (a few held at once)."""
    largest = max((int(np.prod(n.shape, dtype=np.int64)) for n in ctx.graph.gates), default=1)
    row = 16 * 4 * len(POINTS[method]) * (1 + ctx.directions) * max(1, largest)
    return int(max(1, CHUNK_BYTES // row))


def _check_scalar_group(ctx, group: list[str], method: str, leaves: dict[str, LeafCheck]) -> None:
    gates = downstream_of(ctx.reference, set(group))
    own = gates if ctx.reference is ctx.graph else downstream_of(ctx.graph, set(group))
    x = np.array([float(np.real(ctx.base[n]).reshape(-1)[0]) for n in group])
    g = np.array([float(np.asarray(ctx.gradients[n], np.float64).reshape(-1)[0]) for n in group])
    phi0 = abs(float(np.real(np.tensordot(ctx.base[ctx.graph.output], ctx.weights, axes=ctx.weights.ndim))))
    scale = [float(s) or 1.0 for s in np.where(g != 0, np.abs(g), phi0 / np.maximum(1.0, np.abs(x)))]
    blank = {n: replace(leaves[n], findings=[], notes=list(leaves[n].notes)) for n in group}  # for a second look
    typical = np.where(x != 0, np.abs(x), 1.0)
    count = ctx.directions  # one batch: per leaf, its element (+1) and its directions (±1), side by side
    element = int(ctx.mode != "direction")  # the element checked, or directions only
    signs = np.sign(ctx.rng.standard_normal((len(group), count))) if count else np.zeros((len(group), 0))
    moves = np.concatenate([np.ones((len(group), element)), signs], axis=1)  # (leaves, element + count)
    items = Items([name for name in group for _ in range(element + count)], moves.reshape(-1))
    where = np.repeat(np.arange(len(group)), element + count)
    steps = steps_for(x[where], method, ctx.eps, typical[where])  # as typical_size gives for one scalar

    def stencil(rows, s, m=method):
        picked = Items([items.leaves[r] for r in rows], items.move[rows])
        return stencil_items(ctx.reference, ctx.base, gates, ctx.weights, picked, s, m)

    numeric, crossed = numeric_derivative(gates, method, steps, stencil, own_steps(x[where], method, ctx.eps))
    forward = tangent_items(ctx.graph, ctx.values, own, ctx.weights, items)
    reverse = g[where] * items.move

    def judge(k: int, leaf: LeafCheck, scale: float, rows: Rows | None = None) -> LeafCheck:
        judge = Judge(ctx.tolerance, scale, leaf)
        first = k * (element + count)
        if rows is None:  # (a second look at a larger scale: this leaf's rows alone)
            part = slice(first, first + element + count)
            fwd = forward[part] if leaf.forward_checked else None
            rows = classify(ctx.tolerance, scale, False, reverse[part], fwd, numeric.take(part), crossed[part])
            first = 0
        mine = rows if leaf.forward_checked else replace(rows, forward=None)
        if element:
            judge.record(mine.take(slice(first, first + 1)), np.zeros(1, int), along_axis=True)
        if count:
            judge.record(mine.take(slice(first + element, first + element + count)), None, along_axis=True)
        leaf.elements += element
        leaf.directions += count
        return leaf

    # every row of every leaf judged at once (a scalar leaf's rows are few: per-leaf numpy calls would dominate);
    # a leaf whose forward mode is not checked has its forward rows left out by judging them as the reverse's
    checked = np.repeat([leaves[n].forward_checked for n in group], element + count)
    fwd = np.where(checked, forward, reverse) if forward is not None else None
    rows = classify(ctx.tolerance, np.asarray(scale)[where], False, reverse, fwd, numeric, crossed)
    done = record_passing([leaves[n] for n in group], rows, element, count)
    failed = [not done[k] and judge(k, leaves[name], scale[k], rows).failures > 0 for k, name in enumerate(group)]
    for k, larger in enumerate(raised_scales(ctx, group, scale, failed)):
        if larger > scale[k]:
            leaves[group[k]] = judge(k, blank[group[k]], larger)
