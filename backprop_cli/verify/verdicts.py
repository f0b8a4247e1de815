"""Verdicts: how an analytic derivative is judged against the numerical reference, and what is kept of it
(per leaf: status, errors, the worst element, the elements that failed or sit on kinks)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..numbers import number
from .numerical import Derivative
from .tolerances import SAFETY, Tolerance

UNDERFLOW = 1e-290  # gradients this small put the complex step's imaginary parts among the subnormal numbers
KINK_JUMP = 1e-3  # one-sided slopes this far apart (relative) at every step: a kink, not rounding
KEPT_FINDINGS = 5  # failures and kinks listed per node (all are counted)
BUILT_IN_KINKS = (  # said once per leaf where built-in ops alone give a value outside the slopes at a kink
    "each op's choice at its kink (relu'(0) = 0, a tie's gradient split) is a subgradient of that op, but not "
    "always of a composition: move the point off the kink (--at) to check the rules themselves"
)
UNSETTLED = (
    "the differences do not settle at any step here (the function turns faster than the smallest step can follow: "
    "a smooth op of a large argument): the numerical reference can neither confirm nor refute it"
)
BLIND = 0.05  # differences that never settle, their error estimate (×SAFETY) beyond this share of their value: blind
RESOLVABLE = 1e-5  # with plugin code on the path, the reference's error estimate widens the tolerance this far at most


@dataclass
class Finding:
    """One element (or random direction, index None) that did not pass."""

    index: tuple[int, ...] | None
    status: str  # "fail" or "kink"
    reverse: float
    forward: float | None
    numeric: float
    gate: str | None = None  # the gate whose kink the stencil crossed
    left: float | None = None  # one-sided slopes of the numerical reference, at a kink
    right: float | None = None
    note: str = ""


@dataclass
class LeafCheck:
    """The verdict on one leaf (or node): pass, fail or kink."""

    name: str
    kind: str  # input, param or gate
    shape: tuple[int, ...]
    method: str
    mode: str
    status: str = "pass"
    elements: int = 0  # elements checked one by one
    directions: int = 0  # random directions checked
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    worst_index: tuple[int, ...] | None = None
    worst_reverse: float | None = None
    worst_forward: float | None = None
    worst_numeric: float | None = None
    failures: int = 0
    kinks: int = 0
    unresolved: int = 0  # random directions on kinks, outside the one-sided slopes: the elements must decide
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    forward_checked: bool = True
    slip: str | None = None  # a plugin op's backward: the classic bug its gradient looks like (op_slips.py)
    slip_hint: str = ""  # that bug in words


@dataclass
class Report:
    """What gradcheck found on one graph; `passed` is the verdict scripts rely on."""

    graph: str
    file: str
    dtype: str
    method: str
    mode: str
    tolerance: Tolerance
    strict: bool
    leaves: dict[str, LeafCheck] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why it was not checked
    expect: list = field(default_factory=list)  # ExpectResult items, for the file's `expect:` block
    errors: list[str] = field(default_factory=list)  # plugin code that failed before any element was checked
    order: int = 1  # 2: second derivatives checked too (--order 2); N ≥ 3: derivatives 3 to N along a direction
    second_order: dict[str, LeafCheck] = field(default_factory=dict)  # per leaf: H·v against differences
    ops: dict[str, LeafCheck] = field(default_factory=dict)  # "node: input": a plugin node checked alone
    higher_order: dict[str, LeafCheck] = field(default_factory=dict)  # per leaf: orders 3..N against differences

    @property
    def status(self) -> str:
        checks = [*self.leaves.values(), *self.second_order.values(), *self.higher_order.values(), *self.ops.values()]
        states = {leaf.status for leaf in checks}
        if self.errors or "fail" in states or any(not e.ok for e in self.expect):
            return "fail"
        if "kink" in states:
            return "fail" if self.strict else "kink"
        return "pass"

    @property
    def passed(self) -> bool:
        return self.status != "fail"


class Judge:
    """Compares analytic and numerical derivatives and keeps the leaf's statistics."""

    def __init__(self, tolerance: Tolerance, scale: float, leaf: LeafCheck, untrusted: bool = False) -> None:
        self.tolerance = tolerance
        self.scale = scale
        self.leaf = leaf
        self.worst = -1.0  # relative error of the element (or direction) shown as the worst
        self.untrusted = untrusted  # plugin code on the path: its error estimate widens the tolerance only a little
        self._blind: np.ndarray | None = None  # the rows being recorded that the reference cannot see (Rows.blind)

    def add(
        self, index, reverse, forward, numeric: Derivative, gate: np.ndarray, along_axis: bool | None = None
    ) -> None:
        """Judge rows: elements (index: their flat positions) or random directions (index None). along_axis:
        whether each row moves one coordinate (default: rows with an index do)."""
        rows = classify(self.tolerance, self.scale, self.untrusted, reverse, forward, numeric, gate)
        self.record(rows, index, along_axis)

    def record(self, rows: Rows, index, along_axis: bool | None = None) -> None:
        """Keep what classify found on these rows (all of them this judge's leaf's) in the leaf's statistics."""
        leaf, reverse, forward, numeric, gate = self.leaf, rows.reverse, rows.forward, rows.numeric, rows.gate
        err, denom, crossing, outside = rows.err, rows.denom, rows.crossing, rows.outside
        if rows.small.any() and not any(note.startswith("gradients near") for note in leaf.notes):
            leaf.notes.append(  # a pass there says: zero for any purpose, not "checked to rtol"
                f"gradients near {float(np.max(np.abs(reverse[rows.small]))):.1e} are below what the numerical "
                f"reference resolves (its own error there: ±{float(np.max(rows.allowed[rows.small])):.0e}, "
                "subnormal numbers): judged as zero"
            )
        if index is not None if along_axis is None else along_axis:
            kink, fail = crossing & ~outside, (rows.bad & ~crossing) | outside
        else:
            outside = rows.outside_direction
            kink, fail = crossing, rows.bad & ~crossing
            leaf.unresolved += int(outside.sum())
        leaf.failures += int(fail.sum())
        leaf.kinks += int(kink.sum())
        rel = err / denom
        judged = ~kink & np.isfinite(err)
        if judged.any():
            k = int(np.argmax(np.where(judged, rel, -1.0)))
            element_known = leaf.worst_reverse is not None and leaf.worst_index is not None
            if leaf.worst_reverse is None or (rel[k] > self.worst and not (index is None and element_known)):
                self.worst = float(rel[k])  # an element names what to fix; a direction only that something is
                leaf.worst_index = None if index is None else _unravel(int(index[k]), leaf.shape)
                leaf.worst_reverse, leaf.worst_numeric = float(reverse[k]), float(numeric.value[k])
                leaf.worst_forward = None if forward is None else float(forward[k])
            leaf.max_rel_error = max(leaf.max_rel_error, float(rel[k]))
            leaf.max_abs_error = max(leaf.max_abs_error, float(np.max(np.where(judged, err, 0.0))))
        if (~judged & ~kink).any():  # a NaN reference
            leaf.max_abs_error = leaf.max_rel_error = float("nan")
        self._blind = rows.blind
        for k in np.flatnonzero(fail | kink):
            if len(leaf.findings) >= KEPT_FINDINGS:
                break
            leaf.findings.append(
                self._finding(
                    index, k, bool(kink[k]), reverse, forward, numeric, gate, rows.modes_disagree, outside, rows.unsure
                )
            )
            if kink[k] and rows.outside_direction[k] and not outside[k]:  # reverse mode misses: AD at a kink
                leaf.findings[-1].note = "reverse mode's value is not between them: the ops' choices at their kinks"
        excused = rows.outside_direction & ~rows.outside  # built-in kinks outside their slopes: kinks
        if ((outside & ~kink) | excused).any() and not self.untrusted and BUILT_IN_KINKS not in leaf.notes:
            leaf.notes.append(BUILT_IN_KINKS)
        if leaf.failures:
            leaf.status = "fail"
        elif leaf.kinks:
            leaf.status = "kink"

    def _finding(self, index, k, is_kink, reverse, forward, numeric, gate, modes_disagree, outside, unsure) -> Finding:
        note = ""
        if modes_disagree[k]:
            note = "reverse and forward mode disagree"
        elif unsure[k] and not is_kink:
            note = (
                f"the numerical reference cannot tell (its own error is ±{number(SAFETY * numeric.error[k])}, "
                "rounding or a kink within the stencil): unconfirmed, so not a pass"
            )
        elif outside[k] and not is_kink and numeric.jumps is not None and numeric.jumps[k]:
            note = "the function jumps here (its change does not shrink with the step): no derivative to check"
        elif outside[k] and not is_kink:
            of = f" of gate {gate[k]}" if gate[k] else ""
            note = (
                f"at a kink{of}, and not between its one-sided slopes {number(numeric.left[k])} (left) and "
                f"{number(numeric.right[k])} (right): no subgradient"
            )

        elif outside[k]:
            note = "outside the one-sided slopes along this direction, which crosses kinks: the elements decide"
        elif not np.isfinite(numeric.value[k]) and not (is_kink and gate[k]):  # across a kink: the kink says it
            note = "the numerical reference is NaN: the step leaves an op's domain (try a smaller step, eps)"
        elif is_kink and not gate[k] and self._blind is not None and self._blind[k]:
            note = UNSETTLED
        elif is_kink and not gate[k]:
            note = "the function is not smooth here (one-sided slopes differ at every step size)"
        return Finding(
            index=None if index is None else _unravel(int(index[k]), self.leaf.shape),
            status="kink" if is_kink else "fail",
            reverse=float(reverse[k]),
            forward=None if forward is None else float(forward[k]),
            numeric=float(numeric.value[k]),
            gate=gate[k] or None,
            left=_finite(numeric.left[k]),
            right=_finite(numeric.right[k]),
            note=note,
        )


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


@dataclass
class Rows:
    """Judged rows (classify): the derivatives, their errors, and what each row is (several leaves' at once)."""

    reverse: np.ndarray
    forward: np.ndarray | None
    numeric: Derivative
    gate: np.ndarray
    err: np.ndarray
    denom: np.ndarray
    allowed: np.ndarray
    bad: np.ndarray  # outside the tolerance (NaN too)
    small: np.ndarray  # below what the reference resolves: judged as zero
    crossing: np.ndarray  # on a kink
    outside: np.ndarray  # on a kink, and not between its one-sided slopes
    unsure: np.ndarray
    modes_disagree: np.ndarray
    outside_direction: np.ndarray  # outside, and where built-in kinks leave no derivative: judged along a direction
    blind: np.ndarray | None = None  # differences that never settled, their error beyond BLIND: they see nothing

    def take(self, part) -> Rows:
        """These rows only (a slice: one leaf's among several)."""
        cut = [None if v is None else v[part] for v in (self.reverse, self.forward)]
        rest = [getattr(self, f)[part] for f in ("gate", "err", "denom", "allowed", "bad", "small", "crossing")]
        last = [self.outside[part], self.unsure[part], self.modes_disagree[part], self.outside_direction[part]]
        blind = None if self.blind is None else self.blind[part]
        return Rows(cut[0], cut[1], self.numeric.take(part), rest[0], *rest[1:], *last, blind)


def record_passing(leaves: list[LeafCheck], rows: Rows, element: int, count: int) -> list[bool]:
    """Many scalar leaves' rows (element + count per leaf, side by side) recorded at once where all of a fresh
    leaf's rows are within the tolerance, off every kink and resolved, as Judge.record would record them one
    by one (its element names the worst; a direction only without one): the common case, at numpy's speed.
    Returns which leaves were recorded; the caller records the others through Judge.record."""
    per = element + count
    if not per or not leaves:
        return [False] * len(leaves)
    err = rows.err.reshape(-1, per)
    rel = err / rows.denom.reshape(-1, per)
    clean = (~rows.bad & ~rows.crossing & ~rows.small).reshape(-1, per).all(axis=1) & np.isfinite(err).all(axis=1)
    pick = np.arange(len(leaves)) * per + (0 if element else np.argmax(rel, axis=1))
    reverse, numeric = rows.reverse[pick].tolist(), rows.numeric.value[pick].tolist()
    forward = None if rows.forward is None else rows.forward[pick].tolist()
    largest_rel, largest_abs = rel.max(axis=1).tolist(), err.max(axis=1).tolist()
    done = []
    for k, leaf in enumerate(leaves):
        fresh = leaf.worst_reverse is None and not (leaf.failures or leaf.kinks or leaf.unresolved)
        done.append(bool(clean[k]) and fresh)
        if not done[-1]:
            continue
        leaf.worst_index = _unravel(0, leaf.shape) if element else None
        leaf.worst_reverse, leaf.worst_numeric = reverse[k], numeric[k]
        leaf.worst_forward = forward[k] if forward is not None and leaf.forward_checked else None
        leaf.max_rel_error = max(leaf.max_rel_error, largest_rel[k])
        leaf.max_abs_error = max(leaf.max_abs_error, largest_abs[k])
        leaf.elements += element
        leaf.directions += count
    return done


def classify(tolerance: Tolerance, scale, untrusted: bool, reverse, forward, numeric: Derivative, gate) -> Rows:
    """Each row judged against the reference (scale: one number, or one per row); no leaf's state is touched,
    so the rows of many leaves are judged at once (verify/scalars.py) and recorded leaf by leaf. A row that
    would fail against a reference with a second look (plain central differences) is judged on that look."""
    rows = _classify(tolerance, scale, untrusted, reverse, forward, numeric, gate)
    doubt = np.flatnonzero((rows.bad & ~rows.crossing) | rows.outside_direction)
    if numeric.second_look is None or not doubt.size:
        return rows
    better, where = numeric.second_look(doubt)
    numeric, gate = numeric.copy(), np.array(gate, dtype=object, copy=True)
    numeric.put(doubt, better)
    gate[doubt] = where
    numeric.second_look = None
    return _classify(tolerance, scale, untrusted, reverse, forward, numeric, gate)


def _classify(tolerance: Tolerance, scale, untrusted: bool, reverse, forward, numeric: Derivative, gate) -> Rows:
    tol = tolerance
    num = numeric.value
    denom = np.maximum.reduce(
        [np.abs(reverse), np.abs(num), np.broadcast_to(tol.floor * np.asarray(scale) + 1e-300, num.shape)]
    )
    suspect = (gate != "") | ~numeric.smooth  # across a kink the reference's error estimate means nothing
    # Where no gate's kink was crossed on a path of built-in ops, the op table says there is none: differences that
    # do not settle at any step are a smooth function of huge higher derivatives (cos(sinh(11)) turns every 3e-5),
    # and the reference's own error estimate holds. Within it the row is judged as a smooth one; beyond it, as
    # before, but its one-sided slopes are known only to that error too (their truncation, of order h squared
    # times the third derivative, can put the derivative outside them).
    # Differences that never settled, with an error estimate beyond BLIND of their value, see no derivative (sin(13.5
    # ** 6.0) turns every 1e-7 of x: each step the tool can take aliases it, and the estimates land anywhere, their
    # error estimates too): nothing to confirm or refute, neither a pass within that error nor a failure; the note
    # says so. Within it (cos(sinh(11)): 5e-4) the reference still tells a wrong rule, off by far more.
    jumps = np.zeros(num.shape, bool) if numeric.jumps is None else numeric.jumps
    unsettled = ~numeric.smooth & (gate == "") & ~jumps & np.isfinite(num) & (not untrusted)
    blind = unsettled & ~(SAFETY * numeric.error <= BLIND * np.abs(num))
    unsettled &= ~blind
    margin = np.where(suspect & ~unsettled, 0.0, SAFETY * numeric.error)
    # A reference too unsure to tell right from wrong passes anything within its error: plugin code makes it
    # so at will (x·x + 1e15 drowns every difference in rounding), so there it cannot buy a pass.
    unsure = margin > RESOLVABLE * denom if untrusted else np.zeros(num.shape, bool)
    allowed = tol.atol + tol.rtol * denom + np.where(unsure, RESOLVABLE * denom, margin)
    err = np.abs(reverse - num)
    modes_disagree = np.zeros(num.shape, bool)
    if forward is not None:
        err = np.maximum(err, np.abs(forward - num))
        modes_disagree = np.abs(reverse - forward) > tol.atol + tol.rtol * denom
    bad = ~(err <= allowed)  # NaN is bad
    small = ~suspect & (np.maximum(np.abs(reverse), np.abs(num)) < UNDERFLOW) & (allowed >= np.abs(num))
    # A stencil that still crosses a kink at the smallest step sits on it: a kink even where the difference
    # happens to agree with the chosen subgradient (|x| at 0: 0 both ways), since no derivative exists there;
    # so does one whose one-sided slopes still differ at every step, by more than rounding could make them (a
    # plugin op's kink, which no table names; a piecewise-linear path can look unsmooth at rounding level).
    # On built-in paths the op table names every kink (gate): there a stencil that only looks unsmooth is a
    # smooth function of large higher derivatives (micrograd's polynomial: tests/verdict_cases), not a kink.
    jump = (
        (untrusted | (numeric.jumps if numeric.jumps is not None else False))
        & ~numeric.smooth
        & (np.abs(numeric.left - numeric.right) > np.maximum(allowed, KINK_JUMP * denom))
    )
    crossing = ~modes_disagree & ((bad & suspect) | (gate != "") | jump)
    # At a kink the derivative is any value between the one-sided slopes (a subgradient); a value outside
    # them is wrong whichever piece it was taken from. That holds along one coordinate (an element, an
    # entry, a scalar's direction); along a random direction through several kinks it need not (relu(a) -
    # relu(b) at 0: 0 is right for each element, yet outside the slopes along (1, -1)): there the elements
    # decide, and the caller checks them one by one (leaf.unresolved).
    # Where the function jumps there is no derivative at all: a built-in step (sign at 0) is a kink, as the op
    # table declares it; a jump only the student's code makes is not (it would excuse any backward).
    # On a built-in path at a kink the op table names, where the one-sided slopes differ there is no derivative
    # to be wrong about: each op's choice at its own kink is a subgradient of that op, not always of the whole
    # (a max_pool2d tie under overlapping windows, relu(x - x) read by several gates), and the rules are not
    # the student's: along a coordinate, a kink (outside holds only the rest). Where the slopes agree a
    # derivative exists (relu(x) - relu(-x) is x, a max_pool2d of ties read by min) that reverse mode misses:
    # a known limit of automatic differentiation at kinks, not a wrong rule, so a kink too, with the note that
    # says so. A random direction still leaves it to the elements (outside_direction).
    widen = np.where(unsettled, SAFETY * numeric.error, 0.0)
    inside = _between(tol, reverse, numeric, denom, widen)
    if forward is not None:
        inside &= _between(tol, forward, numeric, denom, widen)
    excused = np.where(jumps, gate != "", inside) | blind
    outside = crossing & ~excused
    known = np.isfinite(numeric.left) & np.isfinite(numeric.right)  # a NaN slope (out of a domain) confirms nothing
    no_derivative = outside & (gate != "") & known if not untrusted else np.zeros_like(outside)
    return Rows(
        reverse,
        forward,
        numeric,
        gate,
        err,
        denom,
        allowed,
        bad,
        small,
        crossing,
        outside & ~no_derivative,
        unsure,
        modes_disagree,
        outside,
        blind,
    )


def _between(
    tol: Tolerance, value: np.ndarray, numeric: Derivative, denom: np.ndarray, widen: np.ndarray | float = 0.0
) -> np.ndarray:
    """Where value lies between the one-sided slopes, within the tolerance, their rounding error and widen (both
    slopes must be known: a NaN slope, a step out of an op's domain, confirms nothing)."""
    slack = tol.atol + tol.rtol * denom + (0.0 if numeric.noise is None else SAFETY * numeric.noise) + widen
    low, high = np.minimum(numeric.left, numeric.right), np.maximum(numeric.left, numeric.right)
    return (value >= low - slack) & (value <= high + slack)  # NaN anywhere: False
