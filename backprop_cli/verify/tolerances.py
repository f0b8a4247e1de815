"""Tolerances and step sizes: data, keyed by dtype and method, merged with the user's overrides."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Tolerance:
    """An element passes when |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|, floor * scale)
    + SAFETY * (the numerical reference's own error estimate), scale being the leaf's largest |gradient|."""

    rtol: float
    atol: float
    floor: float  # elements this much smaller than the leaf's largest gradient are judged at that size


# float64 must catch a relative error of 1e-6 in one element; float32 gradients carry float32 rounding
# (their reference is computed in float64), so they get float32-sized room.
TOLERANCES = {
    "float64": Tolerance(rtol=1e-7, atol=0.0, floor=1e-3),
    "float32": Tolerance(rtol=2e-3, atol=0.0, floor=1e-2),
}

SAFETY = 4.0  # a numerical error estimate is a guess of its size, not a bound

# A derivative whose terms cancel (d/dz Σ softmax(z) = 0, the gradient of x in x·w - x·w) keeps their rounding,
# about ε of their size per term: it is judged to within this many roundings of them (verify/rounding.py).
ROUNDING_SLACK = 100.0

# The step is STEPS[method] * max(|x|, rms) for an element of value x, rms the RMS of its leaf (1 for a leaf of
# zeros): relative for big values, and near 0 scaled to the leaf's typical size (numerical.steps_for).
STEPS = {
    "complex": 1e-20,  # no subtraction, so no cancellation: any tiny step is exact to rounding
    "central": 6e-6,  # ≈ eps^(1/3): truncation h² and rounding eps/h balance
    "richardson": 1e-3,  # steps h, h/2, h/4 extrapolated: truncation h⁴ stays far below rounding
}

# Stencil points, in units of the step (the base point is evaluated once, separately).
POINTS = {
    "complex": (1j,),
    "central": (1.0, -1.0),
    "richardson": (1.0, -1.0, 0.5, -0.5, 0.25, -0.25),
}


def tolerance_for(dtype: str, rtol: float | None = None, atol: float | None = None) -> Tolerance:
    """The defaults for a dtype with the user's overrides merged in."""
    base = TOLERANCES[dtype]
    return replace(base, rtol=base.rtol if rtol is None else rtol, atol=base.atol if atol is None else atol)
