"""Verdicts: how an analytic derivative is judged against the numerical reference, and what is kept of it
(per leaf: status, errors, the worst element, the elements that failed or sit on kinks)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .numerical import Derivative
from .tolerances import SAFETY, Tolerance

UNDERFLOW = 1e-290  # gradients this small put the complex step's imaginary parts among the subnormal numbers
KINK_JUMP = 1e-3  # one-sided slopes this far apart (relative) at every step: a kink, not rounding
KEPT_FINDINGS = 5  # failures and kinks listed per node (all are counted)


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
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    forward_checked: bool = True


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
    higher_order: dict[str, LeafCheck] = field(default_factory=dict)  # per leaf: orders 3..N against differences

    @property
    def status(self) -> str:
        checks = [*self.leaves.values(), *self.second_order.values(), *self.higher_order.values()]
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

    def __init__(self, tolerance: Tolerance, scale: float, leaf: LeafCheck) -> None:
        self.tolerance = tolerance
        self.scale = scale
        self.leaf = leaf
        self.worst = -1.0  # relative error of the element (or direction) shown as the worst

    def add(self, index, reverse, forward, numeric: Derivative, gate: np.ndarray) -> None:
        tol, leaf = self.tolerance, self.leaf
        num = numeric.value
        denom = np.maximum.reduce([np.abs(reverse), np.abs(num), np.full(num.shape, tol.floor * self.scale + 1e-300)])
        suspect = (gate != "") | ~numeric.smooth  # across a kink the reference's error estimate means nothing
        allowed = tol.atol + tol.rtol * denom + np.where(suspect, 0.0, SAFETY * numeric.error)
        err = np.abs(reverse - num)
        modes_disagree = np.zeros(num.shape, bool)
        if forward is not None:
            err = np.maximum(err, np.abs(forward - num))
            modes_disagree = np.abs(reverse - forward) > tol.atol + tol.rtol * denom
        bad = ~(err <= allowed)  # NaN is bad
        unresolved = ~suspect & (np.maximum(np.abs(reverse), np.abs(num)) < UNDERFLOW) & (allowed >= np.abs(num))
        if unresolved.any() and not any(note.startswith("gradients near") for note in leaf.notes):
            leaf.notes.append(  # a pass there says: zero for any purpose, not "checked to rtol"
                f"gradients near {float(np.max(np.abs(reverse[unresolved]))):.1e} are below what the numerical "
                f"reference resolves (its own error there: ±{float(np.max(allowed[unresolved])):.0e}, "
                "subnormal numbers): judged as zero"
            )
        # A stencil that still crosses a kink at the smallest step sits on it: a kink even where the difference
        # happens to agree with the chosen subgradient (|x| at 0: 0 both ways), since no derivative exists there;
        # so does one whose one-sided slopes still differ at every step, by more than rounding could make them (a
        # plugin op's kink, which no table names; a piecewise-linear path can look unsmooth at rounding level).
        jump = ~numeric.smooth & (np.abs(numeric.left - numeric.right) > np.maximum(allowed, KINK_JUMP * denom))
        kink = ~modes_disagree & ((bad & suspect) | (gate != "") | jump)
        fail = bad & ~kink
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
                leaf.worst_reverse, leaf.worst_numeric = float(reverse[k]), float(num[k])
                leaf.worst_forward = None if forward is None else float(forward[k])
            leaf.max_rel_error = max(leaf.max_rel_error, float(rel[k]))
            leaf.max_abs_error = max(leaf.max_abs_error, float(np.max(np.where(judged, err, 0.0))))
        if (~judged & ~kink).any():  # a NaN reference
            leaf.max_abs_error = leaf.max_rel_error = float("nan")
        for k in np.flatnonzero(fail | kink):
            if len(leaf.findings) >= KEPT_FINDINGS:
                break
            leaf.findings.append(
                self._finding(index, k, bool(kink[k]), reverse, forward, numeric, gate, modes_disagree)
            )
        if leaf.failures:
            leaf.status = "fail"
        elif leaf.kinks:
            leaf.status = "kink"

    def _finding(self, index, k, is_kink, reverse, forward, numeric, gate, modes_disagree) -> Finding:
        note = ""
        if modes_disagree[k]:
            note = "reverse and forward mode disagree"
        elif not np.isfinite(numeric.value[k]) and not (is_kink and gate[k]):  # across a kink: the kink says it
            note = "the numerical reference is NaN: the step leaves an op's domain (try a smaller step, eps)"
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
