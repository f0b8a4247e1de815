"""Learning-rate schedules: the α each update uses, from the starting α0 (--lr).

t counts the updates already made, so the first update uses α0 under every schedule.
Sources: step decay, α0·e^(−kt) and α0/(1 + kt) from seeds/004 ("learning rate decay over
time"; step decay "decays the learning rate by half every few epochs"); α0/√t from seeds/000
("η_t = η0/√t", whose t counts from 1: here √(t + 1)).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import UsageError


@dataclass(frozen=True)
class Schedule:
    name: str
    formula: str  # the rule as the lectures write it (the README lists the same)
    rate: Callable[..., float]  # rate(lr, t, **params)
    defaults: dict[str, float]


SCHEDULES = {
    s.name: s
    for s in (
        Schedule("constant", "α = α0", lambda lr, t: lr, {}),
        Schedule(
            "step",
            "α = α0·drop^⌊t/every⌋",
            lambda lr, t, drop, every: lr * drop ** (t // int(every)),
            {"drop": 0.5, "every": 100},
        ),
        Schedule("exponential", "α = α0·e^(−kt)", lambda lr, t, k: lr * math.exp(-k * t), {"k": 1e-3}),
        Schedule("inverse", "α = α0/(1 + kt)", lambda lr, t, k: lr / (1 + k * t), {"k": 1e-3}),
        Schedule("sqrt", "α = α0/√(t + 1)", lambda lr, t: lr / math.sqrt(t + 1), {}),
    )
}


def make_schedule(name: str, lr: float, **params: float) -> Callable[[int], float]:
    """α as a function of t (updates made so far) for the named schedule."""
    if name not in SCHEDULES:
        raise UsageError(f"unknown schedule {name!r} (choose from {', '.join(SCHEDULES)})")
    schedule = SCHEDULES[name]
    unknown = set(params) - set(schedule.defaults)
    if unknown:
        takes = ", ".join(schedule.defaults) or "nothing"
        raise UsageError(f"the {name} schedule takes no {sorted(unknown)[0]!r} (it takes: {takes})")
    values = {**schedule.defaults, **params}
    if name == "step" and (values["every"] < 1 or values["every"] != int(values["every"])):
        raise UsageError(
            f"the step schedule drops every whole number ≥ 1 of steps, not {values['every']:g}", parameter="every"
        )

    def rate(t: int) -> float:
        return schedule.rate(lr, t, **values)

    return rate
