"""Second derivatives: Hessian-vector products from the reverse-mode gradient, and the Hessian from them.

H·v is the derivative of the gradient along v. Where every op between the leaves and the output is
analytic it is taken by the complex step applied to reverse mode, H·v = Im ∇f(x + i·h·v) / h: the reverse
rules run on complex values, nothing is subtracted, so it is exact to rounding. Elsewhere (ReLU, max, abs)
it is a central difference of gradients. Either is checked against Richardson-extrapolated differences of
gradients (steps h, h/2, h/4), whose spread also estimates their own error and finds kinks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..arguments import checked, choice, flag
from ..arguments import names as name_list
from ..engines.evaluate import evaluate, gate_plan
from ..engines.reverse_mode import relevant, reverse_mode
from ..errors import EvaluationError, UsageError
from ..graph import Graph, graph_argument
from .many import path_facts
from .numerical import (
    COMPLEX_FLOOR,
    EPS64,
    KINK_RETRIES,
    Derivative,
    Stencil,
    derivative,
    float64_reference,
    own_steps,
    too_coarse,
    typical_size,
)
from .rounding import judged_scale, term_sizes
from .tolerances import POINTS, STEPS, TOLERANCES, Tolerance, tolerance_for

DIFFERENCE_NOISE = 1e-6  # relative to the largest |eigenvalue|: below it, central differences cannot tell 0
MAX_ELEMENTS = 5000  # a Hessian is n×n and takes n gradient passes (and six more each to check)

# Differences of gradients are one derivative further from the function than gradcheck's differences
# of values: their error is judged with a little more room in float64.
SECOND_ORDER_RTOL = {"float64": 1e-6, "float32": 1e-6}  # both are computed on the float64 reference


def second_order_tolerance(dtype: str, rtol: float | None = None, atol: float | None = None) -> Tolerance:
    return tolerance_for(dtype, SECOND_ORDER_RTOL[dtype] if rtol is None else rtol, atol)


class Gradients:
    """The reverse-mode gradient of the output with respect to some leaves, at shifted values of those leaves,
    as one flat vector (the leaves' elements row-major, in the order given). Only the gates downstream of the
    leaves are re-evaluated for each shift."""

    def __init__(self, graph: Graph, names: list[str]) -> None:
        self.graph, self.values = float64_reference(graph, evaluate(graph))
        self.names = names
        self.shapes = [self.graph.nodes[n].shape for n in names]
        self.sizes = [int(np.prod(s, dtype=np.int64)) for s in self.shapes]
        self.offsets = np.cumsum([0, *self.sizes])
        self.point = np.concatenate([np.reshape(self.values[n], -1) for n in names]) if names else np.zeros(0)
        down = relevant(self.graph, set(names))
        self.plan = [step for step in gate_plan(self.graph, self.graph.dtype) if step[0].name in down]
        self.wrt = set(names)
        self.base = self(np.zeros(len(self.point)))
        # what each gradient is summed from (verify/rounding.py): their rounding stays where they cancel
        terms = term_sizes(self.graph, self.values, np.ones(np.shape(self.values[self.graph.output])))
        self.terms = np.repeat([terms.get(n, 0.0) for n in names], self.sizes) if names else np.zeros(0)
        self.second_terms = max((terms.get(n, 0.0) / typical_size(self.values[n]) for n in names), default=0.0)

    @property
    def size(self) -> int:
        return int(self.offsets[-1])

    @property
    def analytic(self) -> bool:
        """Every op on the path is holomorphic (its reverse rules too): the complex step applies."""
        return all(n.operation.analytic for n, _, _ in self.plan)  # Op.analytic: built-in, no kinks

    def __call__(self, shift: np.ndarray, kinks: list[str] | None = None) -> np.ndarray:
        """∇f at point + shift (shift may be complex); kinks, if given, receives the first gate whose piece changed."""
        grads = reverse_mode(self.graph, self.forward(shift, kinks), wrt=self.wrt)
        return np.concatenate([np.reshape(grads[n], -1) for n in self.names])

    def forward(self, shift: np.ndarray, kinks: list[str] | None = None) -> dict[str, np.ndarray]:
        """Every value at point + shift: the gates downstream of the leaves run again, the others keep theirs."""
        values = dict(self.values)
        for name, start, size, shape in zip(self.names, self.offsets, self.sizes, self.shapes, strict=False):
            values[name] = self.values[name] + shift[start : start + size].reshape(shape)
        with np.errstate(all="ignore"):
            for node, forward, inputs in self.plan:
                if node.operation.stops_gradient:  # a constant to every derivative, the second too (torch's detach)
                    values[node.name] = self.values[node.name]
                    continue
                xs = [values[x] if isinstance(x, str) else x for x in inputs]
                values[node.name] = np.asarray(forward(*xs, **node.attrs))
                piecewise = node.operation.kinks
                if kinks is not None and not kinks and piecewise is not None:
                    before = [self.values[x] if isinstance(x, str) else x for x in inputs]
                    here = piecewise.piece(*before, **node.attrs)
                    there = piecewise.piece(*(np.real(x) for x in xs), **node.attrs)
                    if np.any(np.asarray(there) != np.asarray(here)):
                        kinks.append(node.name)
        return values

    def steps(self, directions: np.ndarray, method: str) -> np.ndarray:
        """A step per direction, scaled to the size of the values it moves (as gradcheck's steps)."""
        typical = np.concatenate(
            [np.full(size, typical_size(self.values[n])) for n, size in zip(self.names, self.sizes, strict=True)]
        )
        if method == "complex":  # tiny against every element it moves (numerical.steps_for)
            size = np.maximum(np.abs(self.point), typical * COMPLEX_FLOOR)
            moved = np.abs(directions) > 0
            reach = np.min(np.where(moved, size / np.where(moved, np.abs(directions), 1.0), np.inf), axis=1)
            return STEPS[method] * np.where(np.isfinite(reach), reach, 1.0)
        reach = np.max(np.abs(directions) * np.maximum(np.abs(self.point), typical), axis=1, initial=0.0)
        return STEPS[method] * np.where(reach > 0, reach, 1.0)

    def own_steps(self, directions: np.ndarray, method: str) -> np.ndarray:
        """Per direction, the largest step that moves no element by more than a step at its own size (as
        numerical.own_steps): where the step at the node's typical size leaves an op's domain (sqrt, log near 0)
        or is coarse for the function's curvature at a small element."""
        own = own_steps(self.point, method, None)
        out = np.empty(len(directions))
        for k, v in enumerate(directions):
            moved = v != 0
            out[k] = np.min(own[moved] / np.abs(v[moved]), initial=np.inf)
        return out


def hvp_exact(grads: Gradients, directions: np.ndarray, method: str) -> np.ndarray:
    """(k, n): H·v for each direction v (rows): complex step, or plain central differences of gradients (at the
    elements' own scale where the step at their node's size leaves an op's domain or is coarse there)."""
    steps = grads.steps(directions, method)
    own = grads.own_steps(directions, method) if method != "complex" else steps
    out = np.empty((len(directions), grads.size))
    for k, (v, h) in enumerate(zip(directions, steps, strict=True)):
        if method == "complex":
            out[k] = np.imag(grads(1j * h * v)) / h
            continue
        try:
            out[k], coarse = _central(grads, v, h, own[k])
        except EvaluationError:
            if not own[k] < h:
                raise
            coarse = True
        if coarse and own[k] < h:
            out[k], _ = _central(grads, v, own[k], own[k])
    return out


def _central(grads: Gradients, v: np.ndarray, h: float, own: float) -> tuple[np.ndarray, bool]:
    """The central difference of gradients along v, and whether the step is coarse for their curvature where the
    own step (own) would be finer."""
    after, before = grads(h * v), grads(-h * v)
    value = (after - before) / (2 * h)
    rounding = 8 * EPS64 * (np.abs(grads.base) + np.maximum(np.abs(after), np.abs(before)) + grads.terms)
    left, right = (grads.base - before) / h, (after - grads.base) / h
    one = Derivative(value, rounding / h, left, right, np.ones(value.shape, bool), 2 * rounding / h)
    floor = TOLERANCES["float64"].floor * float(np.max(np.abs(value), initial=0.0))  # (entries are judged so)
    return value, bool(too_coarse(one, np.full(value.shape, own), np.full(value.shape, h), "central", floor).any())


def hvp_differences(grads: Gradients, directions: np.ndarray) -> tuple[Derivative, np.ndarray]:
    """(k, n) Richardson-extrapolated differences of gradients along each direction, with their error
    estimates and one-sided slopes, and per direction the gate whose kink the stencil crossed ('' for none).
    A direction whose step, at its node's typical size, leaves an op's domain or is coarse for the curvature at
    a small element is taken again at the elements' own scale."""
    points = POINTS["richardson"]
    steps = grads.steps(directions, "richardson")
    own = grads.own_steps(directions, "richardson")
    k, n = len(directions), grads.size
    phi = np.empty((len(points), k, n))
    gate = np.full(k, "", dtype=object)

    def take(i: int) -> None:
        crossed: list[str] = []
        for p, point in enumerate(points):
            phi[p, i] = grads(point * steps[i] * directions[i], crossed)
        gate[i] = crossed[0] if crossed else ""

    for i in range(k):
        try:
            take(i)
        except EvaluationError:
            if not own[i] < steps[i]:
                raise
            steps[i] = own[i]
            take(i)

    def differences() -> Derivative:
        stencil = Stencil(phi.reshape(len(points), k * n), np.tile(grads.base, k), np.repeat(steps, n), {})
        stencil.terms = np.tile(grads.terms, k)
        return derivative(stencil, "richardson")

    found = differences()
    coarse = too_coarse(found, np.repeat(own, n), np.repeat(steps, n), "richardson").reshape(k, n).any(axis=1)
    for i in np.flatnonzero(coarse):
        steps[i] = own[i]
        take(i)
    if coarse.any():
        found = differences()
    # As gradcheck's first-order rows: a direction whose differences do not fit a smooth function though no gate's
    # kink was crossed (sin(sinh(expm1(x))) at 1.79 bends at 1/445 of x's size) is taken again with steps 10, 100
    # and 1000 times smaller, until it fits; one that crossed a kink keeps its steps and is judged a kink.
    for _attempt in range(KINK_RETRIES):
        rough = ~found.smooth.reshape(k, n).all(axis=1) & (gate == "")
        if not rough.any():
            break
        for i in np.flatnonzero(rough):
            steps[i] /= 10
            take(i)
        found = differences()
    return found, gate


def settled(central: np.ndarray, numeric: Derivative, gate: np.ndarray) -> np.ndarray:
    """(k, n) H·v by central differences of gradients (hvp_exact's, where an op is not analytic), each entry
    replaced by the Richardson extrapolation of the same gradients (numeric, gate: hvp_differences's) wherever that
    settled: no gate's kink crossed, a stencil that fits a smooth function. Both are differences of one gradient,
    so nothing of the rules is lost; the central difference's truncation grows with the gradient's curvature
    (sin(sinh(6.8)) put it at 3e-4 of the entry), which Richardson's removes. At a kink the central difference
    stays, and the check judges it against the one-sided slopes there."""
    k, n = central.shape
    value = numeric.value.reshape(k, n)
    good = numeric.smooth.reshape(k, n) & (gate == "")[:, None] & np.isfinite(value)
    return np.where(good, value, central)


def is_labels(graph: Graph, name: str) -> bool:
    """Read only where no derivative is taken (cross_entropy's integer labels, index arrays, what a comparison
    reads): no derivative to vary."""
    from .many import differentiable, unstopped

    return name in relevant(graph, None) and name in unstopped(graph) and name not in differentiable(graph)


def leaf_names(graph: Graph, wrt: list[str] | None) -> list[str]:
    """The leaves given (each once, in order), or every param, or every input when there are no params
    (labels left out)."""
    if not wrt:
        names = graph.params or list(graph.leaf_values)
        return [n for n in names if not is_labels(graph, n)]
    names = []
    for name in wrt:
        graph.named(name, "leaf", "wrt")
        if is_labels(graph, name):
            raise UsageError(
                f"{name} is read only where no derivative is taken (labels, index arrays, comparisons): "
                "its derivatives are 0",
                parameter="wrt",
            )
        if name not in names:
            names.append(name)
    return names


@dataclass
class Hessian:
    wrt: list[str]
    shapes: list[tuple[int, ...]]
    matrix: np.ndarray  # (n, n): the leaves' elements flattened row-major, in the order of wrt
    method: str  # complex (exact to rounding) or central (differences of gradients)
    check: object = None  # a LeafCheck: each entry against Richardson differences of gradients
    notes: list[str] = field(default_factory=list)
    # entries and eigenvalues no larger than this are rounding: of terms that cancel (x/v · v with v = 0.0012 has
    # second-derivative terms of 1e6 and is linear: its Hessian came out as -2.5e-10, "indefinite: a saddle")
    rounding: float = 0.0

    @property
    def symmetric(self) -> np.ndarray:
        return (self.matrix + self.matrix.T) / 2

    @property
    def eigenvalues(self) -> np.ndarray:
        return np.linalg.eigvalsh(self.symmetric) if self.matrix.size else np.zeros(0)

    @property
    def condition_number(self) -> float | None:
        """max |λ| / min |λ| (the ratio of the largest to the smallest singular value); None when singular."""
        size = np.abs(self.eigenvalues)
        # exact to rounding: singular below n·ε of the largest; differences of gradients carry ~1e-8 noise
        zero = len(size) * EPS64 if self.method == "complex" else max(len(size) * EPS64, DIFFERENCE_NOISE)
        if size.size == 0 or size.max() <= self.rounding or size.min() <= max(zero * size.max(), self.rounding):
            return None
        return float(size.max() / size.min())

    @property
    def status(self) -> str:
        return "pass" if self.check is None else self.check.status


def hessian(
    graph: Graph,
    wrt: list[str] | None = None,
    method: str = "auto",
    check: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
) -> Hessian:
    """The Hessian of the (scalar) output with respect to the given leaves; see the module docstring."""
    from .verdicts import Judge, LeafCheck

    graph_argument(graph)
    method, check = choice(method, "method", ("auto", "complex", "central")), flag(check, "check")
    wrt, (rtol, atol) = name_list(wrt, "wrt"), checked(rtol=rtol, atol=atol)
    if graph.nodes[graph.output].shape != ():
        raise UsageError(
            f"the Hessian needs a scalar output; {graph.output} has shape {graph.nodes[graph.output].shape}"
        )
    names = leaf_names(graph, wrt)
    grads = Gradients(graph, names)
    n = grads.size
    if n > MAX_ELEMENTS:
        raise UsageError(
            f"the Hessian w.r.t. {', '.join(names)} would be {n:,}×{n:,}; at most {MAX_ELEMENTS:,} elements "
            "(choose fewer leaves with --wrt)"
        )
    if method == "auto":
        method = "complex" if grads.analytic else "central"
    elif method == "complex" and not grads.analytic:
        raise UsageError(
            "the complex step needs every op between the leaves and the output to be analytic", parameter="method"
        )
    eye = np.eye(n)
    columns = hvp_exact(grads, eye, method) if n else np.zeros((0, 0))  # row i: column i of H
    differences = hvp_differences(grads, eye) if n and method != "complex" else None
    if differences is not None:
        columns = settled(columns, *differences)
    result = Hessian(names, grads.shapes, columns.T, method)
    result.rounding = 4 * EPS64 * grads.second_terms * max(1.0, np.sqrt(n))
    if method != "complex":
        result.notes.append(
            "an op on the path is not analytic: differences of gradients (extrapolated off kinks), not exact"
        )
    if graph.dtype != np.float64:
        result.notes.append(f"computed in float64 (the graph is {graph.dtype.name}), as gradcheck's reference")
    if check and n:
        leaf = LeafCheck("hessian", "hessian", (n, n), "richardson", "full")
        tolerance = second_order_tolerance(graph.dtype.name, rtol, atol)
        largest = float(np.max(np.abs(result.matrix), initial=0.0))
        scale = judged_scale(largest, grads.second_terms, tolerance, np.dtype(np.float64)) or 1.0
        judge = Judge(tolerance, scale, leaf)
        numeric, gate = differences or hvp_differences(grads, eye)  # row i: column i of H
        entries = np.arange(n * n).reshape(n, n).T.reshape(-1)  # (column i, row j) -> flat index j·n + i
        judge.add(entries, result.matrix.T.reshape(-1), None, numeric, np.repeat(gate, n))
        leaf.elements = n * n
        result.check = leaf
        if leaf.status != "fail" and not all(path_facts(graph).builtin[name] for name in names):
            _check_gradient(graph, names, result)
        if leaf.status != "fail":
            from ..fileformat.plugins import audit

            audit(graph)  # plugin code answered as a function of its inputs (fileformat/replay.py)
    return result


def _check_gradient(graph: Graph, names: list[str], result: Hessian) -> None:
    """The Hessian is checked against differences of the gradient it differentiates: with plugin code on the path,
    that gradient (the student's backward) is checked against the forward too, or a wrong one passes."""
    from .check import gradcheck

    report = gradcheck(graph, wrt=names)
    if report.status == "fail":
        result.check.status = "fail"
        wrong = ", ".join(n for n, leaf in report.leaves.items() if leaf.status == "fail") or "the plugin ops"
        result.notes.append(f"the gradient itself is wrong (backprop gradcheck: {wrong}): its Hessian is of that")
