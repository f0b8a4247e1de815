"""The numerical reference: derivatives of the output from forward evaluations only.

Complex step where every op on the path is analytic (one evaluation per element, exact to
rounding), else central differences with Richardson extrapolation (steps h, h/2, h/4, whose spread
also estimates the reference's own error). Plain central differences on request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ..engines.evaluate import evaluate
from ..graph import Graph, Node
from .batched import Batch, Plan, plan, run
from .tolerances import POINTS, STEPS

EPS64 = float(np.finfo(np.float64).eps)
KINK_RETRIES = 3  # a stencil that crosses a kink is tried again with steps 10, 100, 1000 times smaller
CONVERGED = 1e-8  # Richardson's two extrapolations agree this well (relative) on a smooth function at these steps
# The complex step subtracts nothing, so its step is scaled to each element alone (x³ = 1e-11 beside 4e9 under
# sqrt: a step at the node's size, 1e-20 · 4e9, is no longer tiny against the element and the derivative is off
# by half); only elements this far below their node's size take a step at that: it stays far above underflow.
COMPLEX_FLOOR = 1e-100
# One-sided slopes this far apart (relative to the derivative) where a finer own-scale step exists: the step is
# coarse for the function's curvature at the element. Central differences have no estimate of their truncation
# error (about the square of this); Richardson's slopes are taken at h/4 and its error is estimated, so only a
# step near the element's own size counts (x² has slopes 2.5e-4·RMS/x apart: no element of an ordinary node).
CURVED = {"central": 1e-4, "richardson": 1e-2, "complex": np.inf}
SUBNORMAL = float(np.finfo(np.float64).smallest_subnormal)  # the absolute resolution of float64 near 0


@dataclass
class Probe:
    """A node whose value is perturbed, and the path its perturbations take to the output."""

    graph: Graph  # evaluated in float64: the reference
    base: dict[str, np.ndarray]
    name: str
    plan: Plan
    weights: np.ndarray  # the output is projected on these: phi = Σ weights · output

    @property
    def value(self) -> np.ndarray:
        return self.base[self.name]

    @property
    def analytic(self) -> bool:
        """Every op on the path is holomorphic: the complex step applies."""
        return all(n.operation.analytic for n in self.plan.gates)

    def phi(self, output: np.ndarray) -> np.ndarray:
        """(rows, *output shape) -> (rows,)"""
        return np.tensordot(output, self.weights, axes=self.weights.ndim)


def float64_reference(graph: Graph, values: dict[str, np.ndarray]) -> tuple[Graph, dict[str, np.ndarray]]:
    """The graph in float64: float32 gradients are judged against a float64 reference at the same point."""
    if graph.dtype == np.float64:
        return graph, values
    leaf_values = {k: v.astype(np.float64) for k, v in graph.leaf_values.items()}
    reference = replace(graph, dtype=np.dtype(np.float64), leaf_values=leaf_values)
    return reference, evaluate(reference)


def make_probe(graph: Graph, base: dict[str, np.ndarray], name: str, weights: np.ndarray) -> Probe:
    graph, base = widened(graph, base, [name])
    return Probe(graph, base, name, plan(graph, name), weights)


# ------------------------------------------------------------------ paths through values float64 cannot resolve

TINY = float(np.finfo(np.float64).tiny)  # below it float64 is subnormal: x·x at x = 1e-160 is 1e-320, 3 digits
WIDE = np.dtype(np.longdouble) if np.finfo(np.longdouble).tiny < TINY else None  # x86: exponents to 1e-4932


def widened(graph: Graph, base: dict[str, np.ndarray], leaves: list[str]) -> tuple[Graph, dict[str, np.ndarray]]:
    """The reference for these leaves: the float64 graph and values, or where a leaf's path to the output passes
    a subnormal value, the graph in extended precision (np.longdouble), where the platform has a wider exponent
    range. In float64 a complex step's imaginary parts would underflow to 0 there, and differences to subnormal
    noise: a false fail of a right gradient."""
    if WIDE is None or graph.dtype != np.float64 or not subnormal_paths(graph, base) & set(leaves):
        return graph, base

    def wide() -> tuple[Graph, dict[str, np.ndarray]]:
        leaf_values = {k: np.asarray(v, WIDE) for k, v in graph.leaf_values.items()}
        reference = replace(graph, dtype=WIDE, leaf_values=leaf_values)
        return reference, evaluate(reference)

    return graph.derived("wide reference", wide)


def subnormal_paths(graph: Graph, base: dict[str, np.ndarray]) -> set[str]:
    """The nodes whose path to the output passes a subnormal value (their own included)."""

    def compute() -> set[str]:
        found = {name for name, v in base.items() if np.any((v != 0) & (v < TINY) & (v > -TINY))}
        for node in reversed(graph.gates):
            if node.name in found and not node.operation.stops_gradient:
                found.update(x for x in node.inputs if isinstance(x, str))
        return found

    return graph.derived("subnormal paths", compute)


def element_batch(how: Plan, shape: tuple[int, ...], flat: np.ndarray, points: int) -> tuple[Batch, np.ndarray]:
    """Rows for perturbing the given elements at each of `points` stencil points, and each element's group.

    Elements that differ only along the plan's independent axes share a group (one evaluation)."""
    coords = np.stack(np.unravel_index(flat, shape), axis=1) if shape else np.zeros((len(flat), 0), np.intp)
    other = [a for a in range(len(shape)) if a not in how.axes]
    _, group = np.unique(coords[:, other], axis=0, return_inverse=True) if other else (None, np.zeros(len(flat), int))
    group = np.reshape(group, -1)
    groups = int(group.max(initial=-1)) + 1
    group_of = np.concatenate([group + p * groups for p in range(points)])
    return Batch(points * groups, group_of, np.tile(coords, (points, 1))), group


def group_rows(value: np.ndarray, flat: np.ndarray, group: np.ndarray, amounts: np.ndarray, dtype) -> np.ndarray:
    """(points · groups, *shape): value with amounts[p, k] added at element flat[k] in row p·groups + group[k]."""
    groups = int(group.max(initial=-1)) + 1
    points = len(amounts)
    rows = np.empty((points * groups, value.size), dtype)
    rows[:] = value.reshape(-1)
    for p in range(points):
        rows[p * groups + group, flat] += amounts[p]
    return rows.reshape((points * groups, *value.shape))


@dataclass
class Stencil:
    """The projected output at every stencil point: phi[p, k] for point p and element (or direction) k."""

    phi: np.ndarray
    phi0: float
    steps: np.ndarray  # (k,)
    crossed: dict[str, np.ndarray]  # gate -> (points, k): the stencil crossed a kink of this gate
    depth: int = 1  # gates on the path from the perturbed node to the output
    terms: np.ndarray | float = 0.0  # the size of the terms each value is summed from, where they cancel


def stencil_elements(
    probe: Probe, flat: np.ndarray, steps: np.ndarray, method: str, budget: int = 32 * 2**20
) -> Stencil:
    """The projected output with element flat[k] moved by p·steps[k], for every stencil point p: all points in
    one batch, or one point at a time where a point's rows of the node alone fill the budget (a large node)."""
    points = np.asarray(POINTS[method])
    dtype = np.result_type(probe.value, 1j if method == "complex" else 1.0)
    batch, group = element_batch(probe.plan, probe.value.shape, flat, 1)
    if len(points) == 1 or 16 * len(points) * batch.groups * probe.value.size <= budget:
        batch, group = element_batch(probe.plan, probe.value.shape, flat, len(points))
        seed = group_rows(probe.value, flat, group, points[:, None] * steps[None, :], dtype)
        return _stencil(probe, batch, seed, len(flat), steps, method)
    parts = [
        _rows(probe, batch, group_rows(probe.value, flat, group, p * steps[None, :], dtype), method) for p in points
    ]
    phi0 = float(np.real(probe.phi(probe.base[probe.graph.output][None])[0]))
    crossed = {g: np.stack([part[1][g] for part in parts]) for g in parts[0][1]}
    return Stencil(np.stack([part[0] for part in parts]), phi0, steps, crossed, max(1, len(probe.plan.gates)))


def stencil_directions(
    probe: Probe, directions: np.ndarray, steps: np.ndarray, method: str, budget: int = 32 * 2**20
) -> Stencil:
    """The projected output at value + p·steps[k]·directions[k], for every stencil point p: as many rows
    (point, direction) at once as budget bytes hold, each row a copy of the node and of the gates after it
    (a direction is as large as its node: all of them at every point would be memory in multiples of it)."""
    points = np.asarray(POINTS[method])
    count = len(directions)
    how = plan(probe.graph, probe.name, grouped=False)
    whole = Probe(probe.graph, probe.base, probe.name, how, probe.weights)
    amounts = (points[:, None] * steps[None, :]).reshape(-1)
    size = probe.value.size + sum(int(np.prod(n.shape, dtype=np.int64)) for n in how.gates)
    per = int(max(1, budget // (16 * max(size, 1))))
    parts = []
    for start in range(0, len(amounts), per):
        rows = np.arange(start, min(len(amounts), start + per))
        batch = Batch(len(rows), np.arange(len(rows)), np.zeros((len(rows), 0), np.intp))
        parts.append(_rows(whole, batch, _moved(probe.value, amounts[rows], directions, rows % count), method))
    phi = np.concatenate([p[0] for p in parts])
    crossed = {g: np.concatenate([p[1][g] for p in parts]).reshape(len(points), count) for g in parts[0][1]}
    phi0 = float(np.real(probe.phi(probe.base[probe.graph.output][None])[0]))
    return Stencil(phi.reshape(len(points), count), phi0, steps, crossed, max(1, len(how.gates)))


def _moved(value: np.ndarray, amounts: np.ndarray, directions: np.ndarray, which: np.ndarray) -> np.ndarray:
    """value + amounts[r] · directions[which[r]] for each row r, built in place (no temporaries the size of the
    rows): a complex step's rows are value + i·h·u, a real and an imaginary part written once each."""
    seed = np.empty((len(amounts), *value.shape), np.result_type(value, amounts))
    for r, (amount, k) in enumerate(zip(amounts, which, strict=True)):
        row = seed[r : r + 1]  # a view, also of a scalar node's row
        if np.iscomplexobj(seed):
            row.real[...], row.imag[...] = value, directions[k]
            row.imag[...] *= amount.imag
        else:
            np.multiply(directions[k], amount, out=row[0] if row.ndim > 1 else row)
            row += value
    return seed


def _rows(probe: Probe, batch: Batch, seed: np.ndarray, method: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The projected output of each row of a batch, and per piecewise gate whether the row crossed a kink."""
    crossed: dict[str, np.ndarray] = {}
    out = run(probe.graph, probe.base, probe.plan, batch, seed, kinks=None if method == "complex" else crossed)
    return probe.phi(out), crossed


def _stencil(probe: Probe, batch: Batch, seed: np.ndarray, count: int, steps: np.ndarray, method: str) -> Stencil:
    points = len(POINTS[method])
    phi, crossed = _rows(probe, batch, seed, method)
    phi0 = float(np.real(probe.phi(probe.base[probe.graph.output][None])[0]))
    crossed = {g: m.reshape(points, count) for g, m in crossed.items()}
    return Stencil(phi.reshape(points, count), phi0, steps, crossed, max(1, len(probe.plan.gates)))


@dataclass
class Derivative:
    value: np.ndarray  # (k,) the numerical derivative along each direction
    error: np.ndarray  # (k,) an estimate of its own error (truncation and rounding)
    left: np.ndarray  # one-sided slopes at the smallest step (NaN for the complex step)
    right: np.ndarray
    smooth: np.ndarray  # (k,) False where the stencil does not fit a smooth function (a kink no op reports)
    noise: np.ndarray | None = None  # (k,) the rounding error of the one-sided slopes (None: none known)
    jumps: np.ndarray | None = None  # (k,) True where the function jumps (a step, no derivative; None: not known)
    # rows -> (their derivative by Richardson, the gates whose kinks it crossed): plain central differences have no
    # estimate of their truncation error (a C¹ bend such as elu's at 0 puts h·f''-sized error in them), so a row
    # they would fail is looked at again before it is called wrong (verdicts.classify). None: no second look.
    second_look: Callable[[np.ndarray], tuple[Derivative, np.ndarray]] | None = field(default=None, repr=False)

    def take(self, index) -> Derivative:
        """The rows at index (a slice, a mask or positions) of every part; the second look, if any, of those rows."""
        taken = Derivative(*(None if p is None else p[index] for p in (getattr(self, f) for f in PARTS)))
        if self.second_look is not None:
            rows, look = np.arange(len(self.value))[index], self.second_look
            taken.second_look = lambda picked: look(rows[picked])
        return taken

    def copy(self) -> Derivative:
        """Every part copied (the second look is kept)."""
        parts = (None if p is None else np.array(p, copy=True) for p in (getattr(self, f) for f in PARTS))
        return Derivative(*parts, second_look=self.second_look)

    def put(self, index, other: Derivative) -> None:
        """Rows at index replaced by other's (a retry with smaller steps)."""
        for part in PARTS:
            mine, theirs = getattr(self, part), getattr(other, part)
            if mine is not None and theirs is not None:
                mine[index] = theirs


PARTS = ("value", "error", "left", "right", "smooth", "noise", "jumps")


def derivative(stencil: Stencil, method: str) -> Derivative:
    phi, phi0, h = stencil.phi, stencil.phi0, stencil.steps
    rounding = 8 * EPS64 * (abs(phi0) + np.max(np.abs(np.real(phi)), axis=0, initial=0.0) + stencil.terms)
    if method == "complex":
        value = np.imag(phi[0]) / h
        nan = np.full_like(value, np.nan)
        # The imaginary parts are about h·(derivative): for a derivative near 1e-300 they fall among the subnormal
        # numbers, where each gate can round them by a subnormal step, whatever their size.
        underflow = stencil.depth * SUBNORMAL / h
        return Derivative(value, 8 * EPS64 * np.abs(value) + underflow, nan, nan, np.ones(value.shape, bool))
    c1 = (phi[0] - phi[1]) / (2 * h)
    if method == "central":
        left, right = (phi0 - phi[1]) / h, (phi[0] - phi0) / h
        return Derivative(c1, rounding / h, left, right, np.ones(c1.shape, bool), 2 * rounding / h)
    c2 = (phi[2] - phi[3]) / h
    c3 = (phi[4] - phi[5]) / (0.5 * h)
    r1, r2 = (4 * c2 - c1) / 3, (4 * c3 - c2) / 3
    small = 0.25 * h
    # One-sided slopes differ by about h·f'' on a smooth function, halving with the step; across a kink
    # they differ by the jump in slope, whatever the step.
    gaps = [np.abs(phi[i] - 2 * phi0 + phi[i + 1]) / (s * h) for i, s in ((0, 1.0), (2, 0.5), (4, 0.25))]
    noise = 4 * rounding / small
    smooth = ~((gaps[2] > 0.6 * gaps[1]) & (gaps[1] > 0.6 * gaps[0]) & (gaps[2] > noise))
    # On a smooth function the two extrapolations agree to far below any tolerance; where they do not, a kink
    # lies within the widest points only (its jump would otherwise widen the error estimate into a pass).
    smooth &= np.abs(r2 - r1) <= CONVERGED * np.abs(r2) + noise
    left, right = (phi0 - phi[5]) / small, (phi[4] - phi0) / small
    # Beside a kink the change in value halves with the step; beside a jump it does not shrink at all.
    jumps = np.zeros(r2.shape, bool)
    for side in (0, 1):
        d = [np.abs(phi[i + side] - phi0) for i in (0, 2, 4)]  # at steps h, h/2, h/4
        jumps |= (d[2] > 0.75 * d[1]) & (d[1] > 0.75 * d[0]) & (d[2] > 4 * rounding)
    return Derivative(r2, np.abs(r2 - r1) + rounding / small, left, right, smooth, 2 * rounding / small, jumps)


def steps_for(values: np.ndarray, method: str, eps: float | None, typical: float | np.ndarray = 1.0) -> np.ndarray:
    """A step per element, scaled to its magnitude, and near 0 to the typical magnitude of its node (its RMS:
    a relative step next to x = 1e-12 would drown in rounding; the complex step, which has no rounding to fear,
    only below COMPLEX_FLOOR of it), or the absolute step eps if given."""
    if eps is not None:
        return np.full(np.shape(values), float(eps))
    if method == "complex":  # nothing cancels: the step need only be tiny against the element itself
        return STEPS[method] * np.maximum(np.abs(values), np.asarray(typical) * COMPLEX_FLOOR)
    return STEPS[method] * np.maximum(np.abs(values), typical)


def own_steps(values: np.ndarray, method: str, eps: float | None) -> np.ndarray | None:
    """A step per element scaled to its own magnitude alone (inf for a 0): where a node's typical size is far
    larger than an element (0.48²⁰ beside 2.03²⁰), the step at the node's size can leave an op's domain (sqrt
    and log near 0) at every smaller retry; the element's own magnitude is then the one safe scale. None when
    the user fixed the step (--eps)."""
    if eps is not None:
        return None
    size = np.abs(np.asarray(values, np.float64))
    return np.where(size > 0, STEPS[method] * size, np.inf)


def typical_size(value: np.ndarray) -> float:
    """A node's typical magnitude: its RMS, or 1 for a node of zeros."""
    rms = float(np.sqrt(np.mean(np.square(value)))) if np.size(value) else 0.0
    return rms if rms > 0 and np.isfinite(rms) else 1.0


def numeric_derivative(
    gates: list[Node], method: str, steps: np.ndarray, stencil, own: np.ndarray | None = None
) -> tuple[Derivative, np.ndarray]:
    """The numerical reference for each row, and the gate whose kink its stencil crossed ('' for none).
    stencil(rows, steps, method=the method given) evaluates the rows' stencils.

    A row whose stencil crossed a kink, or does not fit a smooth function, is tried again with steps 10,
    100 and 1000 times smaller: a kink near the point is stepped over rather than across; one at the
    point stays, and the row is judged a kink if the modes disagree with the reference. A row whose stencil
    left an op's domain (NaN), or whose step is coarse for the function's curvature at the element, is tried
    again at the element's own scale (own: see own_steps) where that is finer."""
    rows = np.arange(len(steps))
    found = stencil(rows, steps)
    numeric, gate = derivative(found, method), first_crossed(found.crossed, gates, len(rows))
    tried = np.array(steps, np.float64, copy=True)
    coarse = too_coarse(numeric, own, tried, method)
    suspect = (gate != "") | ~numeric.smooth | ~np.isfinite(numeric.value) | coarse  # NaN: it left an op's domain
    for _attempt in range(KINK_RETRIES):
        if not suspect.any():
            break
        again = np.flatnonzero(suspect)
        smaller = tried[again] / 10
        if own is not None:
            smaller = np.where(coarse[again], np.minimum(smaller, own[again]), smaller)
        tried[again] = smaller
        retry = stencil(again, smaller)
        better, where = derivative(retry, method), first_crossed(retry.crossed, gates, len(again))
        numeric.put(again, better)
        gate[again] = where
        coarse[again] = too_coarse(better, None if own is None else own[again], smaller, method)
        suspect[again] = (where != "") | ~better.smooth | ~np.isfinite(better.value) | coarse[again]
    if method == "central":
        numeric.second_look = lambda picked: _richardson_rows(gates, steps, stencil, own, picked)
    return numeric, gate


def _richardson_rows(gates: list[Node], steps: np.ndarray, stencil, own: np.ndarray | None, picked: np.ndarray):
    """The rows picked of a central-difference reference, again by Richardson (steps scaled as steps_for scales
    them for it, or the user's own step, --eps, as given: own is None then); stencil(rows, steps, method)."""
    ratio = 1.0 if own is None else STEPS["richardson"] / STEPS["central"]
    return numeric_derivative(
        gates,
        "richardson",
        np.asarray(steps)[picked] * ratio,
        lambda rows, s: stencil(picked[rows], s, "richardson"),
        None if own is None else own[picked] * ratio,
    )


def too_coarse(
    numeric: Derivative, own: np.ndarray | None, steps: np.ndarray, method: str, scale: float = 0.0
) -> np.ndarray:
    """Rows whose step, at the node's typical size, is coarser than the element's own scale (own) and too coarse
    for the function there: the stencil left an op's domain (NaN), or the function curves at the element's scale
    (its one-sided slopes differ by more than CURVED of the derivative, where the central difference's truncation
    error, about the square of that, would exceed a float64 tolerance). Such rows are redone at their own scale.
    scale: the size below which a derivative is judged at that size (the tolerance's floor of its vector's
    largest): a tiny entry beside large ones is not made exact by a finer step, only noisier. Nor is a row whose
    curvature the own step could not resolve: the slopes' rounding grows as the step shrinks, and at an own step
    thousands of times finer (a random direction moves an element of 4e-4 beside ones of size 1) it would exceed
    the curvature it was meant to remove."""
    if own is None:
        return np.zeros(len(steps), bool)
    noise = 0.0 if numeric.noise is None else numeric.noise
    with np.errstate(invalid="ignore", divide="ignore"):
        size = np.maximum(np.abs(numeric.value), scale)
        gap = np.abs(numeric.right - numeric.left)
        curved = (gap > CURVED[method] * size + noise) & (noise * steps / own < gap)
    return (own < steps) & (~np.isfinite(numeric.value) | curved)


def first_crossed(crossed: dict[str, np.ndarray], gates: list[Node], size: int) -> np.ndarray:
    """Per direction, the first gate (in topological order) whose kink the stencil crossed, or ''."""
    gate = np.full(size, "", dtype=object)
    for node in reversed(gates):
        if node.name in crossed:
            gate[crossed[node.name].any(axis=0)] = node.name
    return gate
