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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..arguments import checked, choice, flag
from ..arguments import names as name_list
from ..engines.evaluate import evaluate
from ..engines.reverse_mode import relevant, reverse_mode
from ..errors import PluginError, UsageError
from ..fileformat.plugins import audit
from ..graph import Graph, graph_argument
from .batched import Batch, plan, run
from .kinks import check_beside, resolve
from .many import path_facts, unchecked_plugin_ops, unstopped
from .numerical import (
    COMPLEX_FLOOR,
    Probe,
    element_batch,
    float64_reference,
    group_rows,
    make_probe,
    numeric_derivative,
    own_steps,
    stencil_directions,
    stencil_elements,
    steps_for,
    subnormal_paths,
    typical_size,
)
from .plugin_ops import check_alone
from .rounding import raised_scales
from .scalars import CHUNK_BYTES
from .scalars import check_scalars as _check_scalars  # (a test replaces it)
from .tolerances import POINTS, Tolerance, tolerance_for
from .verdicts import Judge, LeafCheck, Report

MODES = ("auto", "full", "sample", "direction")
METHODS = ("auto", "complex", "richardson", "central")
AUTO_FULL_LIMIT = 2048  # auto mode checks every element of a node up to this size, a sample beyond


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
    beside: bool = False  # this check is the one beside a leaf's kinks (kinks.check_beside)
    progress: Callable[[str, int, int], None] | None = None  # (leaf, elements done, elements in all)


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
    progress: Callable[[str, int, int], None] | None = None,
) -> Report:
    """Check reverse and forward mode against the numerical reference; see the module docstring. progress, if
    given, is called with (leaf, elements checked, elements to check) as the elements of a leaf are checked."""
    graph_argument(graph)
    samples, directions, eps, rtol, atol, seed, order = checked(
        samples=samples, directions=directions, eps=eps, rtol=rtol, atol=atol, seed=seed, order=order
    )
    method, mode = choice(method, "method", METHODS), choice(mode, "mode", MODES)
    strict, nodes, wrt = flag(strict, "strict"), flag(nodes, "nodes"), name_list(wrt, "wrt")
    if mode == "direction" and directions < 1:
        raise UsageError("checking random directions only, 0 directions would check nothing", parameter="directions")
    values = evaluate(graph)
    report = Report(
        graph.name, graph.source, graph.dtype.name, method, mode, tolerance_for(graph.dtype.name, rtol, atol), strict
    )
    names = _names(graph, nodes, wrt, report)
    if graph.expect is not None:
        from .check_expect import check_expect

        report.expect = check_expect(graph, values)
    options = {"method": method, "mode": mode, "samples": samples, "directions": directions, "eps": eps}
    _check_leaves(graph, values, names, report, {**options, "progress": progress}, seed)
    if order >= 2:
        _check_second_order(graph, report, mode, samples, directions, rtol, atol, seed)
    if order >= 3:
        from .higher_orders import check_higher_orders

        check_higher_orders(graph, report, order, rtol, atol, seed)
    report.skipped.update(unchecked_plugin_ops(graph))  # said, so that a pass does not read as "the backward is right"
    if not report.leaves:  # a pass must mean something was checked
        report.errors.append("nothing to check: " + "; ".join(f"{n}: {why}" for n, why in report.skipped.items()))
    graph_passed = report.passed
    if not report.errors:  # each plugin op alone, with a random upstream gradient (plugin_ops.py): on a failing
        # graph too, where it tells which op's backward is wrong (a grade per op, issue 23)
        report.ops = check_alone(graph, values, report.skipped, lambda sub: _alone(sub, report, options, seed))
    if graph_passed:  # a pass on plugin code holds only if it answers as a function of its inputs; code that
        audit(graph)  # does not is the verdict error, even where the op alone failed at another point
    return report


def _alone(graph: Graph, like: Report, options: dict, seed: int) -> Report:
    """A plugin node's graph (plugin_ops.py) checked along random directions, its output on a random upstream
    (a direction crossing kinks still sends the leaf to its elements)."""
    report = Report(graph.name, graph.source, graph.dtype.name, like.method, "direction", like.tolerance, like.strict)
    names = _names(graph, False, None, report)
    options = {**options, "mode": "direction", "directions": max(2, options["directions"])}
    _check_leaves(graph, evaluate(graph), names, report, options, seed, random_upstream=True)
    return report


def _check_leaves(
    graph: Graph, values, names: list[str], report: Report, options: dict, seed: int, random_upstream: bool = False
) -> None:
    """report.leaves for names: reverse and forward mode against the reference, the output projected on seeded
    random weights (ones for a scalar output, unless random_upstream)."""
    reference, base = float64_reference(graph, values)
    out_shape = np.shape(values[graph.output])
    rng = np.random.default_rng(seed)
    if out_shape == ():
        weights = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0) if random_upstream else np.ones(())
    else:
        weights = rng.standard_normal(out_shape)
    weights = np.asarray(weights)
    try:
        gradients = reverse_mode(graph, values, wrt=set(names), seed=np.asarray(weights, graph.dtype))
    except PluginError as err:  # the student's backward: every leaf it feeds fails, with the reason
        for name in names:
            node = graph.nodes[name]
            report.leaves[name] = LeafCheck(name, node.kind, node.shape, report.method, report.mode, status="fail")
            report.leaves[name].notes.append(f"reverse mode failed: {err}")
        return
    gradients = {n: gradients[n] for n in names}  # the checked ones: a large graph's others would be memory
    ctx = _Context(graph, values, reference, base, weights, gradients, tolerance=report.tolerance, rng=rng, **options)
    facts = path_facts(reference)
    scalars = [n for n in names if graph.nodes[n].is_leaf and np.size(values[n]) == 1 and facts.builtin[n]]
    scalars = [n for n in scalars if n not in subnormal_paths(reference, base)]  # these take a wider reference
    together = _check_scalars(ctx, scalars) if len(scalars) > 1 else {}
    for name in names:
        report.leaves[name] = together[name] if name in together else _check_node(ctx, name)


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
        for name in wrt:
            graph.named(name, "leaf or node", "wrt")
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


def _choose(ctx: _Context, probe: Probe) -> tuple[str, str]:
    method = ctx.method
    if method == "auto":  # a step of the user's (eps) means differences, which estimate their own truncation error
        method = "complex" if probe.analytic and ctx.eps is None else "richardson"
    mode = ctx.mode
    if mode == "auto":
        mode = "full" if probe.value.size <= AUTO_FULL_LIMIT else "sample"
    return method, mode


def _check_node(ctx: _Context, name: str, raised: float | None = None) -> LeafCheck:
    state = ctx.rng.bit_generator.state  # a second look draws the same directions
    probe = make_probe(ctx.reference, ctx.base, name, ctx.weights)
    method, mode = _choose(ctx, probe)
    node = ctx.graph.nodes[name]
    leaf = LeafCheck(name, node.kind, node.shape, method, mode)
    if method == "complex" and not probe.analytic:
        leaf.method = method = "richardson"
        leaf.notes.append("the complex step needs analytic ops on the path: used richardson")
    if probe.graph.dtype != ctx.reference.dtype:  # (numerical.widened)
        leaf.notes.append("values on its path are subnormal in float64: the numerical reference in extended precision")
    gradient = np.asarray(ctx.gradients[name], np.float64)
    scale = raised or float(np.max(np.abs(gradient), initial=0.0))
    if scale == 0:  # a gradient that is exactly 0 (paths that cancel) is judged at the output's scale
        phi0 = abs(float(probe.phi(ctx.base[ctx.graph.output][None])[0]))
        scale = phi0 / max(1.0, float(np.max(np.abs(probe.value), initial=0.0))) or 1.0
    judge = Judge(ctx.tolerance, scale, leaf, untrusted=not path_facts(ctx.graph).builtin[name])
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
    larger = raised_scales(ctx, [name], [scale], [leaf.failures and raised is None])[0]
    if larger > scale and path_facts(ctx.reference).builtin[name]:  # (no student code runs twice)
        ctx.rng.bit_generator.state = state
        return _check_node(ctx, name, larger)
    if leaf.unresolved and leaf.status != "fail" and leaf.elements < probe.value.size:
        return resolve(ctx, name, leaf, probe.value.size, _check_node)
    if leaf.kinks and not ctx.beside and node.is_leaf and not path_facts(ctx.graph).builtin[name]:
        check_beside(ctx, name, leaf, _check_node)
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
            lambda rows, s, m=method, index=index: stencil_elements(probe, index[rows], s, m, CHUNK_BYTES),
            own_steps(flat_value[index], method, ctx.eps),
        )
        forward = _forward_elements(ctx, probe.name, index) if judge.leaf.forward_checked else None
        judge.add(index, flat_gradient[index], forward, numeric, gate)
        if ctx.progress is not None:
            ctx.progress(probe.name, start + len(index), len(chosen))
    judge.leaf.elements += len(chosen)


def _check_directions(ctx: _Context, probe: Probe, method: str, gradient: np.ndarray, judge: Judge) -> None:
    """Seeded random directions: every element's rules are in each projection."""
    if ctx.directions <= 0:
        return
    u = ctx.rng.standard_normal((ctx.directions, *probe.value.shape))
    axes = tuple(range(1, u.ndim))  # each direction scaled to a largest element of 1 (no |u| copy: leaves are large)
    u /= np.maximum(np.maximum(u.max(axis=axes, keepdims=True), -u.min(axis=axes, keepdims=True)), 1e-300)
    reverse = np.tensordot(u, gradient, axes=gradient.ndim)
    forward = _forward_directions(ctx, probe.name, u) if judge.leaf.forward_checked else None
    largest = float(np.max(np.abs(probe.value), initial=0.0))
    steps = steps_for(np.full(len(u), largest), method, ctx.eps, typical_size(probe.value))
    if method == "complex" and ctx.eps is None:  # tiny against every element it moves (numerical.steps_for)
        typical = typical_size(probe.value) * COMPLEX_FLOOR
        steps = np.minimum(steps, _own_direction_steps(np.maximum(np.abs(probe.value), typical), u, method, None))
    numeric, gate = numeric_derivative(
        probe.plan.gates,
        method,
        steps,
        lambda rows, s, m=method: stencil_directions(probe, u[rows], s, m, CHUNK_BYTES),
        _own_direction_steps(probe.value, u, method, ctx.eps),
    )
    judge.add(None, reverse, forward, numeric, gate, along_axis=probe.value.size == 1)  # a scalar's: ±1
    judge.leaf.directions += len(u)


def _own_direction_steps(value: np.ndarray, u: np.ndarray, method: str, eps: float | None) -> np.ndarray | None:
    """Per direction, the largest step that moves no element by more than its own-scale step (own_steps): the
    step a direction falls back to where the step at the node's size leaves an op's domain."""
    own = own_steps(value, method, eps)
    if own is None:
        return None
    steps = np.empty(len(u))
    for k, direction in enumerate(u):  # one direction at a time: a leaf may be large
        moved = np.abs(direction) > 0
        steps[k] = np.min(own[moved] / np.abs(direction[moved]), initial=np.inf)
    return steps


def _forward_elements(ctx: _Context, name: str, flat: np.ndarray) -> np.ndarray:
    """Forward-mode derivative of the projected output per element, in the graph's own dtype."""
    graph = ctx.graph
    how = plan(graph, name)
    shape = graph.nodes[name].shape
    batch, group = element_batch(how, shape, flat, 1)
    seed = group_rows(np.zeros(shape, graph.dtype), flat, group, np.ones((1, len(flat))), graph.dtype)
    return _project(ctx, run(graph, ctx.values, how, batch, seed, tangents=True))


def _forward_directions(ctx: _Context, name: str, directions: np.ndarray) -> np.ndarray:
    """Forward-mode derivative along each direction, as many at once as CHUNK_BYTES holds."""
    graph, how = ctx.graph, plan(ctx.graph, name, grouped=False)
    per = max(1, CHUNK_BYTES // (8 * (directions[0].size + sum(int(np.prod(n.shape)) for n in how.gates))))
    parts = []
    for start in range(0, len(directions), per):
        seed = directions[start : start + per].astype(graph.dtype)
        batch = Batch(len(seed), np.arange(len(seed)), np.zeros((len(seed), 0), np.intp))
        parts.append(_project(ctx, run(graph, ctx.values, how, batch, seed, tangents=True)))
    return np.concatenate(parts)


def _project(ctx: _Context, out: np.ndarray) -> np.ndarray:
    return np.tensordot(np.asarray(out, np.float64), ctx.weights, axes=ctx.weights.ndim)
