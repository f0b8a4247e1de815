"""The rules for the arguments both the command line and the Python API take: one table, so that a value the CLI
refuses is refused by the library too (UsageError naming the parameter), and none can forge a verdict (an
infinite atol would pass anything, eps=0 or a negative rtol would fail a correct graph)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .errors import UsageError, shortened, suggest

MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class Rule:
    """A whole number (kind int) or a finite real number (kind float) in [low, high] (ends open where said)."""

    kind: type
    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    optional: bool = False  # None is accepted: the default (a tolerance per dtype, a step per element)

    def accepts(self, value: object) -> bool:
        if value is None:
            return self.optional
        if isinstance(value, (bool, np.bool_)):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        if not isinstance(value, numbers.Real) or not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def check(self, value: object, parameter: str) -> int | float | None:
        """The value as a plain int or float (None where optional), or UsageError saying what the parameter takes."""
        if not self.accepts(value):
            raise UsageError(f"{shortened(repr(value))} is not {self.describe()}", parameter=parameter)
        return None if value is None else self.kind(value)

    def describe(self) -> str:
        low = "above" if self.low_open else "from"
        high = "below" if self.high_open else "to"
        noun = "a whole number" if self.kind is int else "a finite number"
        if self.high == math.inf:
            return f"{noun} {'above' if self.low_open else 'of at least'} {_number(self.low)}"
        return f"{noun} {low} {_number(self.low)} {high} {_number(self.high)}"


def _number(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


MAX_ORDER = 10  # derivatives: beyond it the real-arithmetic reference loses every digit (rounding grows like ε/hᵏ)

RULES = {
    "samples": Rule(int, 1, 100_000),  # two evaluations each: more would run for hours
    "directions": Rule(int, 0, 1_000),  # a direction is as big as its leaf: more would fill memory
    "seed": Rule(int, 0, MAX_SEED),
    "order": Rule(int, 1, MAX_ORDER),
    "eps": Rule(float, 0, 1, low_open=True, optional=True),  # an absolute step: 0 measures nothing
    "rtol": Rule(float, 0, 1, optional=True),  # relative: beyond 1 a gradient of the wrong sign would pass
    "atol": Rule(float, 0, math.inf, high_open=True, optional=True),  # finite: an infinite one passes anything
    "timeout": Rule(float, 0, 24 * 3600, low_open=True),
    "memory": Rule(int, 2**20, 2**50),  # bytes: beyond 1 PiB no machine has it (and rlimits overflow)
}


def checked(**values: object) -> list:
    """Each value by the rule of its name, in order (None stays None where the rule is optional: the default)."""
    return [RULES[name].check(value, name) for name, value in values.items()]


def choice(value: object, parameter: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise UsageError(f"{shortened(repr(value))} is not one of {', '.join(choices)}", parameter=parameter)
    return value


def flag(value: object, parameter: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise UsageError(f"{shortened(repr(value))} is not True or False", parameter=parameter)
    return bool(value)


def name(value: object, parameter: str) -> str | None:
    """A node's or leaf's name, or None."""
    if value is not None and not isinstance(value, str):
        raise UsageError(f"{shortened(repr(value))} is not a name (text)", parameter=parameter)
    return value


def names(value: object, parameter: str) -> list[str] | None:
    """Names: None, one name, or an iterable of names (a list, a tuple, a set)."""
    if value is None or isinstance(value, str):
        return None if value is None else [value]
    if isinstance(value, (bytes, dict)) or not isinstance(value, Iterable):
        raise UsageError(f"{shortened(repr(value))} is not a name or a list of names", parameter=parameter)
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise UsageError(f"{shortened(repr(item))} in {parameter} is not a name (text)", parameter=parameter)
    return items


def mapping(value: object, parameter: str) -> dict:
    """{name: value}, as jvp and with_values take."""
    if not isinstance(value, dict):
        raise UsageError(f"{shortened(repr(value))} is not a mapping of leaf names to values", parameter=parameter)
    for key in value:
        if not isinstance(key, str):
            raise UsageError(f"{shortened(repr(key))} in {parameter} is not a leaf name (text)", parameter=parameter)
    return value


# ---------------------------------------------------------------- names of the graph's leaves and nodes

LISTED = 12  # up to this many names are listed after an unknown one; more would not read as one line
PLURALS = {
    "leaf": "leaves",
    "node": "nodes",
    "leaf or node": "leaves and nodes",
    "param": "params",
    "group or expanded node": "groups and expanded nodes",  # render --collapse: a node of several gates
}


def unknown_name(
    name: str,
    what: str,
    known: Iterable[str],
    parameter: str | None,
    listed: Iterable[str] | None = None,
    gates: Iterable[str] = (),
) -> UsageError:
    """The UsageError of a name an argument gives that is not one of the graph's `what` (not_in_graph's words);
    the CLI adds the flag that gave it (exit 2)."""
    return UsageError(not_in_graph(name, what, known, listed, gates), parameter=parameter)


def not_in_graph(
    name: str, what: str, known: Iterable[str], listed: Iterable[str] | None = None, gates: Iterable[str] = ()
) -> str:
    """The one wording of a name that is not one of the graph's `what` ("leaf", "node", "leaf or node", "param"),
    from an option or a graph file's key alike: the nearest of known (difflib), then the names as the file writes
    them (listed; default known) when few. A name among gates, where a leaf is wanted, is said to be a gate."""
    known = list(known)
    listed = known if listed is None else list(listed)
    plural = PLURALS.get(what, f"{what}s")
    if not listed:
        names = " (it has none)"
    elif len(listed) <= LISTED:
        names = f" ({plural}: {', '.join(listed)})"
    else:
        names = f" ({plural}: {', '.join(listed[:LISTED])}, … {len(listed) - LISTED:,} more)"
    quoted = shortened(repr(name))
    if name in set(gates):
        return f"{quoted} is a gate of the graph, not a {what}{names}"
    return f"{quoted} is not a {what} of the graph{suggest(str(name), known)}{names}"
