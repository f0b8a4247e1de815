"""gradcheck: reverse mode and forward mode against the numerical reference, element by element.

Every checked node gets
- per element (all of them, a seeded sample, or none, by mode): its reverse-mode gradient, its
  forward-mode derivative and the numerical reference;
- a few seeded random directions u: <reverse gradient, u>, the forward-mode derivative along u and the
  numerical derivative along u (one projection checks every element's rule at once).
An element that disagrees is a kink, not a failure, when the stencil crossed a non-differentiable point:
a piecewise gate changed piece between stencil points, or the stencil does not fit a smooth function.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..engines.evaluate import evaluate
from ..engines.reverse_mode import relevant, reverse_mode
from ..errors import PluginError, UsageError
from ..graph import Graph
from .batched import Batch, plan, run
from .many import Items, downstream_of, path_facts, stencil_items, tangent_items, unchecked_plugin_ops, unstopped
from .numerical import (
    Derivative,
    Probe,
    element_batch,
    group_rows,
    make_probe,
    numeric_derivative,
    stencil_directions,
    stencil_elements,
    steps_for,
    typical_size,
)
from .tolerances import POINTS, Tolerance, tolerance_for
from .verdicts import Judge, LeafCheck, Report

MODES = ("auto", "full", "sample", "direction")
METHODS = ("auto", "complex", "richardson", "central")
AUTO_FULL_LIMIT = 2048  # auto mode checks every element of a node up to this size, a sample beyond
CHUNK_BYTES = 32 * 2**20  # batched values held at once (ops' own temporaries come on top)


@dataclass
class _Context:
    graph: Graph  # as written (its dtype is what is checked)
    values: dict[str, np.ndarray]
    reference: Graph  # float64
    base: dict[str, np.ndarray]
    weights: np.ndarray  # float64 output projection
    gradients: dict[str, np.ndarray]
    method: str
    mode: str
    samples: int
    directions: int
    eps: float | None
    tolerance: Tolerance
    rng: np.random.Generator


def gradcheck(
    graph: Graph,
    *,
    method: str = "auto",
    mode: str = "auto",
    samples: int = 20,
    directions: int = 2,
    eps: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    strict: bool = False,
    nodes: bool = False,
    wrt: list[str] | None = None,
    seed: int = 0,
    order: int = 1,
) -> Report:
    """Check reverse and forward mode against the numerical reference; see the module docstring."""
    from .derivatives import MAX_ORDER

    if isinstance(order, bool) or order not in range(1, MAX_ORDER + 1):
        raise UsageError(f"{order!r} is not a whole number from 1 to {MAX_ORDER}", parameter="order")
    for parameter, value, choices in (("method", method, METHODS), ("mode", mode, MODES)):
        if value not in choices:
            raise UsageError(f"{value!r} is not one of {', '.join(choices)}", parameter=parameter)
    if mode == "direction" and directions < 1:
        raise UsageError("checking random directions only, 0 directions would check nothing", parameter="directions")
    values = evaluate(graph)
    report = Report(
        graph.name, graph.source, graph.dtype.name, method, mode, tolerance_for(graph.dtype.name, rtol, atol), strict
    )
    names = _names(graph, nodes, wrt, report)
    reference, base = float64_reference(graph, values)
    out_shape = np.shape(values[graph.output])
    rng = np.random.default_rng(seed)
    weights = np.ones(out_shape) if out_shape == () else rng.standard_normal(out_shape)
    if graph.expect is not None:
        from .check_expect import check_expect

        report.expect = check_expect(graph, values)
    try:
        gradients = reverse_mode(graph, values, wrt=set(names), seed=np.asarray(weights, graph.dtype))
    except PluginError as err:  # the student's backward: every leaf it feeds fails, with the reason
        for name in names:
            node = graph.nodes[name]
            report.leaves[name] = LeafCheck(name, node.kind, node.shape, method, mode, status="fail")
            report.leaves[name].notes.append(f"reverse mode failed: {err}")
        return report
    ctx = _Context(
        graph,
        values,
        reference,
        base,
        weights,
        gradients,
        method,
        mode,
        samples,
        directions,
        eps,
        report.tolerance,
        rng,
    )
    facts = path_facts(reference)
    scalars = [n for n in names if graph.nodes[n].is_leaf and np.size(values[n]) == 1 and facts.builtin[n]]
    together = _check_scalars(ctx, scalars) if len(scalars) > 1 else {}
    for name in names:
        report.leaves[name] = together[name] if name in together else _check_node(ctx, name)
    if order >= 2:
        _check_second_order(graph, report, mode, samples, directions, rtol, atol, seed)
    if order >= 3:
        from .derivatives import check_higher_orders

        check_higher_orders(graph, report, order, rtol, atol, seed)
    report.skipped.update(unchecked_plugin_ops(graph))  # said, so that a pass does not read as "the backward is right"
    if not report.leaves:  # a pass must mean something was checked
        report.errors.append("nothing to check: " + "; ".join(f"{n}: {why}" for n, why in report.skipped.items()))
    return report


def _check_second_order(graph: Graph, report: Report, mode, samples, directions, rtol, atol, seed) -> None:
    """gradcheck --order 2: the checked leaves' second derivatives (verify/second_order.py)."""
    from .second_order import check_second_order

    report.order = 2
    leaves = [name for name, leaf in report.leaves.items() if leaf.kind != "gate"]
    try:
        report.second_order = check_second_order(
            graph, leaves, mode=mode, samples=samples, directions=directions, rtol=rtol, atol=atol, seed=seed
        )
    except PluginError as err:
        report.errors.append(f"second order: {err}")


def _names(graph: Graph, nodes: bool, wrt: list[str] | None, report: Report) -> list[str]:
    """The leaves (and with nodes, the gates) whose gradient is checked; the others, with the reason, in skipped."""
    candidates = [n.name for n in graph.nodes.values() if n.is_leaf or (nodes and n.name != graph.output)]
    if wrt:
        from ..errors import suggest

        for name in wrt:
            if name not in graph.nodes:
                raise UsageError(f"{name!r}: no such leaf or node{suggest(name, graph.nodes)}", parameter="wrt")
        candidates = [n for n in graph.nodes if n in wrt]
    from .many import differentiable

    on_path = relevant(graph, None)
    chosen = []
    for name in candidates:
        if name == graph.output:
            report.skipped[name] = f"the output itself (d{name}/d{name} = 1)"
        elif 0 in graph.nodes[name].shape:
            report.skipped[name] = "empty: it has no elements"
        elif name not in on_path:
            report.skipped[name] = "not on a path to the output (its gradient is 0)"
        elif name not in unstopped(graph):
            report.skipped[name] = "its gradient is stopped on every path to the output (stopper gates): 0"
        elif name not in differentiable(graph):
            report.skipped[name] = "not differentiable (labels, masks, index arrays, or only compared)"
        else:
            chosen.append(name)
    if wrt and not chosen:
        reasons = "; ".join(f"{n}: {why}" for n, why in report.skipped.items())
        raise UsageError(f"{','.join(wrt)}: nothing to check ({reasons})", parameter="wrt")
    return chosen


def float64_reference(graph: Graph, values: dict[str, np.ndarray]) -> tuple[Graph, dict[str, np.ndarray]]:
    """The graph in float64: float32 gradients are judged against a float64 reference at the same point."""
    if graph.dtype == np.float64:
        return graph, values
    leaf_values = {k: v.astype(np.float64) for k, v in graph.leaf_values.items()}
    reference = replace(graph, dtype=np.dtype(np.float64), leaf_values=leaf_values)
    return reference, evaluate(reference)


def _choose(ctx: _Context, probe: Probe) -> tuple[str, str]:
    method = ctx.method
    if method == "auto":
        method = "complex" if probe.analytic else "richardson"
    mode = ctx.mode
    if mode == "auto":
        mode = "full" if probe.value.size <= AUTO_FULL_LIMIT else "sample"
    return method, mode


def _check_node(ctx: _Context, name: str) -> LeafCheck:
    probe = make_probe(ctx.reference, ctx.base, name, ctx.weights)
    method, mode = _choose(ctx, probe)
    node = ctx.graph.nodes[name]
    leaf = LeafCheck(name, node.kind, node.shape, method, mode)
    if method == "complex" and not probe.analytic:
        leaf.method = method = "richardson"
        leaf.notes.append("the complex step needs analytic ops on the path: used richardson")
    gradient = np.asarray(ctx.gradients[name], np.float64)
    scale = float(np.max(np.abs(gradient), initial=0.0))
    if scale == 0:  # a gradient that is exactly 0 (paths that cancel) is judged at the output's scale
        phi0 = abs(float(probe.phi(ctx.base[ctx.graph.output][None])[0]))
        scale = phi0 / max(1.0, float(np.max(np.abs(probe.value), initial=0.0))) or 1.0
    judge = Judge(ctx.tolerance, scale, leaf)
    missing = path_facts(ctx.graph).missing_jvp[name]
    if missing:
        leaf.forward_checked = False
        leaf.notes.append(f"forward mode not checked: op {missing} has no forward rule (jvp)")
    try:
        if mode in ("full", "sample"):
            _check_elements(ctx, probe, method, mode, gradient, judge)
        _check_directions(ctx, probe, method, gradient, judge)
    except PluginError as err:  # the student's code failed on a perturbed input: a verdict, with the reason
        leaf.status = "fail"
        leaf.notes.append(str(err))
    return leaf


def _elements(ctx: _Context, probe: Probe, gradient: np.ndarray, mode: str) -> np.ndarray:
    """The elements to check, ordered so that elements sharing a group sit together."""
    size = probe.value.size
    if mode == "full" or size <= ctx.samples:
        chosen = np.arange(size)
    else:
        picked = ctx.rng.choice(size, ctx.samples, replace=False)
        largest = int(np.argmax(np.abs(gradient)))  # always include the element that matters most
        chosen = np.unique(np.append(picked, largest))
    shape = probe.value.shape
    if not shape or not probe.plan.axes:
        return chosen
    order = [a for a in range(len(shape)) if a not in probe.plan.axes] + list(probe.plan.axes)
    coords = np.unravel_index(chosen, shape)
    key = np.ravel_multi_index([coords[a] for a in order], [shape[a] for a in order])
    return chosen[np.argsort(key, kind="stable")]


def _chunk(probe: Probe, method: str) -> int:
    """Elements per batch, so that their rows fit CHUNK_BYTES: one row per element for the gates after the
    groups split (and the grouped values they read), one per group before."""
    how = probe.plan
    group = max(1, int(np.prod([probe.value.shape[a] for a in how.axes], dtype=np.int64))) if how.axes else 1
    size = {n.name: int(np.prod(n.shape, dtype=np.int64)) for n in how.gates}
    apart = [n for n in how.gates if n.name not in how.maps]
    read = {x for n in apart for x in n.inputs if isinstance(x, str) and x in how.maps}
    per_element = sum(size[n.name] for n in apart) + sum(size.get(x, probe.value.size) for x in read)
    per_group = sum(size[n] for n in how.maps if n in size) + probe.value.size
    row = 16 * len(POINTS[method]) * (per_element + per_group / group)
    return int(max(1, CHUNK_BYTES // row))


def _check_elements(ctx: _Context, probe: Probe, method: str, mode: str, gradient: np.ndarray, judge: Judge) -> None:
    flat_value = probe.value.reshape(-1)
    flat_gradient = gradient.reshape(-1)
    chosen = _elements(ctx, probe, flat_gradient, mode)
    step = _chunk(probe, method)
    for start in range(0, len(chosen), step):
        index = chosen[start : start + step]
        steps = steps_for(flat_value[index], method, ctx.eps, typical_size(probe.value))
        numeric, gate = numeric_derivative(
            probe.plan.gates,
            method,
            steps,
            lambda rows, s, index=index: stencil_elements(probe, index[rows], s, method),
        )
        forward = _forward_elements(ctx, probe.name, index) if judge.leaf.forward_checked else None
        judge.add(index, flat_gradient[index], forward, numeric, gate)
    judge.leaf.elements += len(chosen)


def _check_directions(ctx: _Context, probe: Probe, method: str, gradient: np.ndarray, judge: Judge) -> None:
    """Seeded random directions: every element's rules are in each projection."""
    if ctx.directions <= 0:
        return
    u = ctx.rng.standard_normal((ctx.directions, *probe.value.shape))
    u /= np.max(np.abs(u), axis=tuple(range(1, u.ndim)), keepdims=True, initial=1e-300)
    reverse = np.tensordot(u, gradient, axes=gradient.ndim)
    forward = _forward_directions(ctx, probe.name, u) if judge.leaf.forward_checked else None
    largest = float(np.max(np.abs(probe.value), initial=0.0))
    steps = steps_for(np.full(len(u), largest), method, ctx.eps, typical_size(probe.value))
    numeric, gate = numeric_derivative(
        probe.plan.gates, method, steps, lambda rows, s: stencil_directions(probe, u[rows], s, method)
    )
    judge.add(None, reverse, forward, numeric, gate)
    judge.leaf.directions += len(u)


def _forward_elements(ctx: _Context, name: str, flat: np.ndarray) -> np.ndarray:
    """Forward-mode derivative of the projected output per element, in the graph's own dtype."""
    graph = ctx.graph
    how = plan(graph, name)
    shape = graph.nodes[name].shape
    batch, group = element_batch(how, shape, flat, 1)
    seed = group_rows(np.zeros(shape, graph.dtype), flat, group, np.ones((1, len(flat))), graph.dtype)
    return _project(ctx, run(graph, ctx.values, how, batch, seed, tangents=True))


def _forward_directions(ctx: _Context, name: str, directions: np.ndarray) -> np.ndarray:
    graph = ctx.graph
    count = len(directions)
    batch = Batch(count, np.arange(count), np.zeros((count, 0), np.intp))
    seed = directions.astype(graph.dtype)
    return _project(ctx, run(graph, ctx.values, plan(graph, name, grouped=False), batch, seed, tangents=True))


def _project(ctx: _Context, out: np.ndarray) -> np.ndarray:
    return np.tensordot(np.asarray(out, np.float64), ctx.weights, axes=ctx.weights.ndim)


# ------------------------------------------------------------------ scalar leaves, all at once (see many.py)


def _check_scalars(ctx: _Context, names: list[str]) -> dict[str, LeafCheck]:
    """Scalar leaves checked together: one batched evaluation per stencil for all of them."""
    facts = path_facts(ctx.reference)
    leaves, groups = {}, {}
    for name in names:
        node = ctx.graph.nodes[name]
        method = ctx.method if ctx.method != "auto" else ("complex" if facts.analytic[name] else "richardson")
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


def _scalar_chunk(ctx: _Context, method: str) -> int:
    """Leaves per batch: their rows through the largest gate within CHUNK_BYTES (a few held at once)."""
    largest = max((int(np.prod(n.shape, dtype=np.int64)) for n in ctx.graph.gates), default=1)
    row = 16 * 4 * len(POINTS[method]) * (1 + ctx.directions) * max(1, largest)
    return int(max(1, CHUNK_BYTES // row))


def _check_scalar_group(ctx: _Context, group: list[str], method: str, leaves: dict[str, LeafCheck]) -> None:
    gates = downstream_of(ctx.reference, set(group))
    own = gates if ctx.reference is ctx.graph else downstream_of(ctx.graph, set(group))
    x = np.array([float(np.real(ctx.base[n]).reshape(-1)[0]) for n in group])
    g = np.array([float(np.asarray(ctx.gradients[n], np.float64).reshape(-1)[0]) for n in group])
    phi0 = abs(float(np.real(np.tensordot(ctx.base[ctx.graph.output], ctx.weights, axes=ctx.weights.ndim))))
    scale = np.where(g != 0, np.abs(g), phi0 / np.maximum(1.0, np.abs(x)))
    judges = [Judge(ctx.tolerance, float(s) or 1.0, leaves[n]) for n, s in zip(group, scale, strict=True)]
    typical = np.where(x != 0, np.abs(x), 1.0)
    checks = []
    if ctx.mode != "direction":
        checks.append((Items(group, np.ones(len(group))), np.zeros(len(group), int), 1))
    if ctx.directions > 0:
        signs = np.sign(ctx.rng.standard_normal((len(group), ctx.directions)))  # a scalar's direction, normalized
        checks.append((Items([n for n in group for _ in range(ctx.directions)], signs.reshape(-1)), None, 0))
    for items, index, per in checks:
        count = 1 if per else ctx.directions
        where = np.repeat(np.arange(len(group)), count)
        steps = steps_for(x[where], method, ctx.eps, typical[where])  # as typical_size gives for one scalar

        def stencil(rows, s, items=items):
            picked = Items([items.leaves[r] for r in rows], items.move[rows])
            return stencil_items(ctx.reference, ctx.base, gates, ctx.weights, picked, s, method)

        numeric, crossed = numeric_derivative(gates, method, steps, stencil)
        forward = tangent_items(ctx.graph, ctx.values, own, ctx.weights, items)
        reverse = g[where] * items.move
        for k, judge in enumerate(judges):
            part = slice(k * count, (k + 1) * count)
            fwd = forward[part] if judge.leaf.forward_checked else None
            judge.add(index if per else None, reverse[part], fwd, _part(numeric, part), crossed[part])
            if per:
                judge.leaf.elements += 1
            else:
                judge.leaf.directions += count


def _part(numeric: Derivative, part: slice) -> Derivative:
    return Derivative(*(getattr(numeric, f)[part] for f in ("value", "error", "left", "right", "smooth")))
