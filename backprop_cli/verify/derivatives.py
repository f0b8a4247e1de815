"""n-th derivatives of a scalar output along one leaf (or a direction in it): g(t) = f(x + t·v), g⁽ᵏ⁾(0), k ≤ N.

Why a contour integral and not Taylor-mode AD: Taylor mode needs a truncated-series rule for every op of the
table; the Cauchy integral formula needs only what every op has already, its forward and reverse rules on
complex numbers, and it exercises those reverse rules on the way. Applied to the reverse-mode slope
g′(t) = ∇f(x + t·v)·v (reverse mode run on complex leaves),

    g⁽ᵏ⁺¹⁾(0) = k!/(2π rᵏ) ∫ g′(r e^{iθ}) e^{-ikθ} dθ,

and the trapezoidal rule on M points of the circle (an FFT) converges geometrically in M (Lyness & Moler
1967): exact to rounding. The radius: halvings of the point's own scale, each refused when the circle leaves
a piece of a piecewise gate (ReLU, max, a comparison, which are analytic on each piece) or meets a value that
is not finite; of the others, the one whose error estimate (the M points against every other one, the
negative frequencies a singularity inside the circle would bring, rounding ε·max|g′|/rᵏ) is least. A point on a kink has no such circle: its derivatives do not exist there.

Checked against a reference of matching order in real arithmetic: central differences of order k of f itself,
Richardson-extrapolated over the steps h, h/2, h/4, the stencil inside the circle. Where a plugin op is on the
path (its code takes no complex numbers), the derivatives are Richardson-extrapolated differences of order
k - 1 of the reverse-mode slope instead, with a note and an error estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..arguments import MAX_ORDER
from ..engines.forward_mode import direction as parse_direction
from ..engines.forward_mode import leaf_tangents
from ..engines.reverse_mode import reverse_mode
from ..errors import EvaluationError, UsageError
from ..graph import Graph
from .hessian import Gradients, is_labels
from .many import path_facts
from .numerical import EPS64, Derivative, typical_size
from .tolerances import tolerance_for
from .verdicts import Judge, LeafCheck

POINTS = 64  # on the circle: exact for Taylor coefficients up to ~30; half of them give the error estimate
HALVINGS = 12  # radii tried: the point's scale, then halved (a kink closer than 2^-12 of it: no circle fits)
STEPS = 6  # base steps tried for each order of the reference, each half the one before
CONVERGED = 1e-10  # a circle whose error estimate is this small against the Taylor terms: smaller ones only round


@dataclass
class Derivatives:
    """g⁽ᵏ⁾(0) for k = 0..order, g(t) = f(x + t·v): f the output, x the leaf `wrt`, v `direction`."""

    wrt: str
    direction: np.ndarray
    point: np.ndarray
    output: str
    order: int
    values: list[float | None]
    errors: list[float | None]
    method: str  # "contour" (Cauchy's formula on the reverse-mode slope) or "richardson" (differences of it)
    radius: float | None = None
    points: int = 0
    reference: list[float | None] = field(default_factory=list)  # central differences of f, order k
    reference_errors: list[float | None] = field(default_factory=list)
    relative_errors: list[float] = field(default_factory=list)  # per order 1..N: against the reference, as judged
    kink: str | None = None  # the point sits on a kink of this gate: no derivative of order ≥ 1
    check: LeafCheck | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def taylor(self) -> list[float | None]:
        """The Taylor coefficients g⁽ᵏ⁾(0)/k!: g(t) ≈ Σ coefficient_k tᵏ."""
        return [None if v is None else v / math.factorial(k) for k, v in enumerate(self.values)]

    def zero(self, k: int) -> bool:
        """Whether f⁽ᵏ⁾ is 0 as far as the method can tell: no larger than its error estimate (a quadratic's f‴
        comes out as 1e-17 ± 5e-16: rounding). Shown as 0; the JSON keeps the value found and its error."""
        value, error = self.values[k], self.errors[k]
        return value is not None and error is not None and abs(value) <= error

    def reference_zero(self, k: int) -> bool:
        """The same for the reference of order k (central differences, their own error estimate)."""
        if not 0 < k < len(self.reference) or self.reference[k] is None:
            return False
        return abs(self.reference[k]) <= self.reference_errors[k]

    @property
    def status(self) -> str:
        if self.kink is not None:
            return "kink"
        return "pass" if self.check is None else self.check.status


def derivatives(
    graph: Graph,
    wrt: str | None = None,
    order: int = 4,
    direction: object = None,
    check: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
) -> Derivatives:
    """f, f′, …, f⁽ᴺ⁾ of the scalar output along the leaf `wrt` (a leaf, or an element x[1,2]); direction: the
    values of v (the leaf's shape, or a number), default all ones (one-hot for an element)."""
    if graph.nodes[graph.output].shape != ():
        raise UsageError(
            f"derivatives need a scalar output; {graph.output} has shape {graph.nodes[graph.output].shape}"
        )
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= MAX_ORDER:
        raise UsageError(f"the order must be a whole number from 0 to {MAX_ORDER}", parameter="order")
    leaf, v = _direction(graph, wrt, direction)
    grads = Gradients(graph, [leaf])
    line = _Line(grads, v)
    result = Derivatives(leaf, v.reshape(grads.shapes[0]), grads.values[leaf], graph.output, order, [], [], "")
    if graph.dtype != np.float64:
        result.notes.append(f"computed in float64 (the graph is {graph.dtype.name}), as gradcheck's reference")
    value = float(np.real(grads.values[graph.output]))
    if path_facts(grads.graph).builtin[leaf]:
        result.method, result.points = "contour", POINTS
        found = _contour(line, order)
        if found is None:
            result.kink = line.kink or "?"
            result.values, result.errors = [value] + [None] * order, [0.0] + [None] * order
            result.notes.append(
                f"the point sits on a kink of gate {result.kink} (its piece changes on every circle around "
                "it): derivatives of order 1 and up do not exist here; move the point with --at"
            )
            return result
        result.radius, slopes, errors = found
    else:
        result.method = "richardson"
        slopes, errors = _slope_differences(line, order)
        result.notes.append(
            "an op on the path is not built in (no complex numbers): derivatives of order k are Richardson-"
            "extrapolated differences of order k - 1 of the reverse-mode slope, not exact"
        )
    result.values, result.errors = [value, *slopes], [0.0, *errors]
    rounding = [k for k in range(1, order + 1) if result.zero(k) and result.values[k] != 0]
    if rounding:
        found = ", ".join(f"{result.values[k]:.1e} ± {result.errors[k]:.0e}" for k in rounding)
        orders = " and ".join(", ".join(map(str, rounding)).rsplit(", ", 1))
        result.notes.append(
            f"order{'s' * (len(rounding) > 1)} {orders}: 0 within the error estimate (found {found}: rounding), "
            "shown as 0"
        )
    if check and order:
        _check(graph, result, line, rtol, atol)
    return result


def _direction(graph: Graph, wrt: str | None, given: object) -> tuple[str, np.ndarray]:
    """The leaf and the direction v (float64, flat): a leaf, an element x[i,j], and --direction's values."""
    if wrt is None:
        usable = [n for n in graph.leaf_values if not is_labels(graph, n)]
        if len(usable) != 1:
            raise UsageError(f"name the leaf to differentiate along (leaves: {', '.join(usable)})", parameter="wrt")
        wrt = usable[0]
    if given is None:
        tangent = parse_direction(graph, wrt, "wrt")
    else:
        tangent = leaf_tangents(graph, {graph.named(wrt, "leaf", "wrt"): given}, "direction")
    ((leaf, v),) = tangent.items()
    if is_labels(graph, leaf):
        raise UsageError(
            f"{leaf} is read only where no derivative is taken (labels, index arrays, comparisons)", parameter="wrt"
        )
    v = np.asarray(v, np.float64).reshape(-1)
    if not np.all(np.isfinite(v)) or not np.any(v):
        raise UsageError("the direction must be finite and not all zeros", parameter="direction")
    return leaf, v


class _Line:
    """f and its reverse-mode slope along the line x + t·v (t complex for the contour)."""

    def __init__(self, grads: Gradients, v: np.ndarray) -> None:
        self.grads, self.v = grads, v
        x = grads.point
        reach = max(float(np.max(np.abs(x[v != 0]), initial=0.0)), typical_size(x))
        self.scale = reach / float(np.max(np.abs(v)))  # t of this size moves x by its own size
        # t of this size moves some element by its own size (its node's size may be 10⁶ times larger: 0.001
        # beside 1000 under log): circles and stencils at the node's size would leave the op's domain
        moved = (v != 0) & (x != 0)
        self.own = float(np.min(np.abs(x[moved]) / np.abs(v[moved]), initial=np.inf))
        # the size of what g′ = ∇f·v is summed from (verify/rounding.py): its rounding where it cancels to ~0
        self.terms = float(np.max(grads.terms * np.abs(v), initial=0.0))
        self.kink: str | None = None

    def slope(self, t: complex, kinks: list[str] | None = None) -> complex:
        """g′(t); NaN where a gradient away from the point is not finite (a circle or a stencil that leaves an op's
        domain, pow's base around 0, sigmoid's exp overflowing in the complex plane): the callers then take a
        smaller one. At the point itself the error stands: there the graph has no derivative to give."""
        try:
            return complex(np.dot(self.grads(t * self.v, kinks), self.v))
        except EvaluationError:
            if t == 0:
                raise
            return complex(np.nan, np.nan)

    def values(self, ts: np.ndarray) -> tuple[np.ndarray, set[str]]:
        """f at x + t·v for every t (real); and the piecewise gates any of them moved off their piece."""
        out, crossed = np.empty(len(ts)), []
        with np.errstate(all="ignore"):
            for i, t in enumerate(ts):
                moved = self.grads.forward(t * self.v, crossed)
                out[i] = float(np.real(moved[self.grads.graph.output]))
        return out, set(crossed)


def _contour(line: _Line, order: int) -> tuple[float, list[float], list[float]] | None:
    """(radius, g⁽ᵏ⁾(0) for k = 1..order, their error estimates) by Cauchy's formula on the slope; None when every
    circle leaves a piece of some gate (the point is on a kink: line.kink names it)."""
    if order == 0:
        return line.scale, [], []
    best = _circles(line, order, line.scale)
    if (best is None or best[0] > CONVERGED) and line.own < line.scale:
        # no circle at the node's size converged, and an element is closer to 0 than that: at its own size
        scale, line.scale = line.scale, line.own
        own = _circles(line, order, line.own)
        if own is not None and (best is None or own[0] < best[0]):
            best = own
        else:
            line.scale = scale
    if best is None:
        return None
    _, radius, coefficients, error = best
    k = np.arange(order)
    factorial = np.array([math.factorial(int(j)) for j in k], float)
    return radius, (coefficients * factorial).tolist(), (error * factorial).tolist()


def _circles(line: _Line, order: int, scale: float) -> tuple[float, float, np.ndarray, np.ndarray] | None:
    """(quality, radius, Taylor coefficients, their errors) of the best circle of radius scale, scale/2, ...;
    None when every one leaves a piece of some gate or a gradient on it is not finite."""
    k = np.arange(order)
    half = POINTS // 2
    angles = np.exp(2j * np.pi * np.arange(half + 1) / POINTS)
    best, worse = None, 0
    for halving in range(HALVINGS + 1):
        radius = scale / 2**halving
        crossed: list[str] = []
        upper = _on_circle(line, radius * angles, crossed)
        if upper is None:
            line.kink = line.kink or (crossed[0] if crossed else None)
            continue
        samples = np.concatenate([upper, np.conj(upper[-2:0:-1])])  # g′ is real on the real line
        spectrum = np.fft.fft(samples) / POINTS
        fine = spectrum[:order] / radius**k
        coarse = np.fft.fft(samples[::2])[:order] / half / radius**k
        rounding = 4 * EPS64 * np.max(np.abs(samples)) / radius**k
        # Analytic on the disc, g′ has no negative powers of t on the circle: a pole inside, or a branch cut
        # crossed, shows as negative frequencies (and would shift every coefficient by its residue).
        inside = float(np.max(np.abs(spectrum[-(POINTS // 4) :])))
        error = np.abs(fine - coarse) + np.abs(fine.imag) + rounding + inside / radius**k
        # every coefficient at the point's own scale, the errors against the largest of them
        terms = float(np.max(np.abs(fine.real) * line.scale**k))
        quality = float(np.max(error * line.scale**k)) / (terms + EPS64 * float(np.max(np.abs(samples))) + 1e-300)
        if best is None or quality < best[0]:
            best, worse = (quality, radius, fine.real, error), 0
        # nothing but rounding left (of g′, or of what it is summed from where that cancels to ~0): a smaller
        # circle only has more of it
        if np.all(error <= 8 * EPS64 * max(float(np.max(np.abs(samples))), line.terms) / radius**k):
            break
        if best[0] < CONVERGED and best[1] != radius:  # past the best radius once converged: rounding grows
            worse += 1
            if worse >= 2:
                break
    return best


def _on_circle(line: _Line, ts: np.ndarray, crossed: list[str]) -> np.ndarray | None:
    """g′ at each t of the upper half circle; None at the first point that leaves a piece of a gate (crossed
    names it) or whose slope is not finite. The two real points first: a circle that meets a kink moves the
    values most there (the piece is judged on the real part)."""
    order = [0, len(ts) - 1, *range(1, len(ts) - 1)]
    upper = np.empty(len(ts), complex)
    with np.errstate(all="ignore"):
        for i in order:
            upper[i] = line.slope(ts[i], crossed)
            if crossed or not np.isfinite(upper[i]):
                return None
    return upper


def _central(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Points (in steps) and weights of the central difference of the given order: error O(h²), even in h."""
    j = np.arange(order + 1)
    return order / 2 - j, np.array([(-1) ** int(i) * math.comb(order, int(i)) for i in j], float)


def _richardson(values_at, order: int, reach: float, terms: float = 0.0) -> tuple[float, float, bool]:
    """The order-th derivative at 0 of a function of t (values_at: ts -> (values, crossed kinks)) by central
    differences at h, h/2, h/4, Richardson-extrapolated twice; the step with the least error estimate among
    STEPS halvings of reach/order. terms: the size the values' rounding scales with, however small they are
    (rounding_size). (value, error estimate, whether a stencil crossed a kink)."""
    offsets, weights = _central(order)
    steps = (reach / max(order, 1)) / 2.0 ** np.arange(STEPS)
    levels = steps[:, None] / np.array([1.0, 2.0, 4.0])[None, :]  # (steps, 3)
    ts = (levels[..., None] * offsets).reshape(-1)
    values, crossed = values_at(ts)
    values = values.reshape(STEPS, 3, order + 1)
    d = (values @ weights) / levels**order  # (steps, 3)
    first = (4 * d[:, 1:] - d[:, :-1]) / 3
    second = (16 * first[:, 1] - first[:, 0]) / 15
    largest = np.maximum(np.max(np.abs(values), axis=(1, 2)), terms)
    rounding = np.sum(np.abs(weights)) * 4 * EPS64 * largest / levels[:, 2] ** order
    error = np.abs(second - first[:, 1]) + rounding
    error = np.where(np.isfinite(second), error, np.inf)
    pick = int(np.argmin(error))
    return float(second[pick]), float(error[pick]), bool(crossed)


def _slope_differences(line: _Line, order: int) -> tuple[list[float], list[float]]:
    """g⁽ᵏ⁾(0) as differences of order k - 1 of the reverse-mode slope (no complex numbers on the path)."""
    values, errors = [], []
    for k in range(1, order + 1):
        if k == 1:
            values.append(line.slope(0.0).real)
            errors.append(4 * EPS64 * abs(values[0]))
            continue

        def slopes(ts: np.ndarray) -> tuple[np.ndarray, set[str]]:
            return np.array([line.slope(float(t)).real for t in ts]), set()

        value, error, _ = _richardson(slopes, k - 1, line.scale / 4)
        values.append(value)
        errors.append(error)
    return values, errors


def rounding_size(grads: Gradients) -> float:
    """The size of what f's rounding along the line scales with: Σ |∂f/∂n|·|n| over the values that move with the
    leaf (each value's rounding, ε of itself, reaches f times its gradient). A sum that cancels (Σ n·g of tanh-like
    terms near 0) keeps the rounding of its terms, and so does an op whose output cancels what it reads (a hinge
    1 + s_j - s_y of log-probabilities of size 4 whose value is 0.03); values that do not move round the same at
    every point of a stencil and cancel in its differences."""
    adjoints = reverse_mode(grads.graph, grads.values, wrt=grads.wrt)
    moving = [*grads.names, *(node.name for node, _, _ in grads.plan)]
    size = abs(float(np.real(grads.values[grads.graph.output])))
    with np.errstate(all="ignore"):
        for name in moving:
            terms = np.abs(np.asarray(adjoints[name])) * np.abs(np.real(np.asarray(grads.values[name], np.float64)))
            size += float(np.sum(terms[np.isfinite(terms)]))
    return size


def _check(graph: Graph, result: Derivatives, line: _Line, rtol: float | None, atol: float | None) -> None:
    """Each order against central differences of f of that order (real arithmetic, forward evaluations only)."""
    reach = (result.radius or line.scale) / 2  # the stencils stay inside the circle: on the point's pieces
    check = LeafCheck(result.wrt, "derivatives", (result.order,), "richardson", "direction")
    tolerance = tolerance_for("float64", rtol, atol)
    result.reference, result.reference_errors = [result.values[0]], [0.0]
    size = max(abs(c) * line.scale**j for j, c in enumerate(result.taylor))  # the Taylor terms at the point's scale
    terms = rounding_size(line.grads)
    for k in range(1, result.order + 1):
        reference, error, crossed = _richardson(line.values, k, reach, terms)
        if not np.isfinite(reference) and line.own / 2 < reach:
            # the stencil left an op's domain for a small element (sqrt of 0.0012 beside 36: NaN, even where max
            # reads another row): again at the element's own scale, as the circles are
            reference, error, crossed = _richardson(line.values, k, line.own / 2, terms)
        result.reference.append(reference)
        result.reference_errors.append(error)
        scale = max(abs(result.values[k]), abs(reference), math.factorial(k) * size / line.scale**k) or 1.0
        numeric = Derivative(
            np.array([reference]),
            np.array([error + result.errors[k]]),
            np.array([np.nan]),
            np.array([np.nan]),
            np.array([True]),
        )
        before = len(check.findings)
        Judge(tolerance, scale, check).add(
            np.array([k - 1]), np.array([result.values[k]]), None, numeric, np.array([""])
        )
        for finding in check.findings[before:]:
            finding.note = f"order {k}" + (": the reference stencil crossed a kink" if crossed else "")
        gap = abs(result.values[k] - reference)
        result.relative_errors.append(gap / max(abs(result.values[k]), abs(reference), tolerance.floor * scale))
    check.elements = result.order
    result.check = check
