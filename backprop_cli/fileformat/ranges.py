"""Leaves drawn instead of given (issue 25): `{int: [-5, 5]}`, `{uniform: [-2, 2], digits: 1}`,
`{choice: [0.5, 1, 2]}`, with `shape:` for a tensor of such entries, or a nested list mixing numbers and
such entries. Each drawn number is rounded to what a worksheet shows (whole numbers; `digits` decimals;
a choice as written), so a key computed from the drawn values is what a student computes from the sheet.
Which version is drawn (a seed from the student and the course secret) is variants.py's business."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import GraphFileError, Position, suggest
from .yaml_source import Located

KINDS = ("int", "uniform", "choice")
RANGE_KEYS = {*KINDS, "digits", "shape"}
DEFAULT_DIGITS = 1  # uniform: one decimal unless the file says otherwise (hand arithmetic stays hand-sized)
MAX_DIGITS = 6
MAX_DRAWN = 4096  # drawn elements per leaf: a worksheet's numbers are read by people


@dataclass(frozen=True)
class Draw:
    """How one number is drawn: whole numbers in [low, high], a uniform number rounded to digits decimals,
    or one of choices; where: the entry's place in the graph file."""

    kind: str
    low: float = 0.0
    high: float = 0.0
    digits: int = 0
    choices: tuple[float, ...] = ()
    where: Position | None = None

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        if self.kind == "int":
            return rng.integers(int(self.low), int(self.high) + 1, size=count).astype(float)
        if self.kind == "uniform":  # rounded onto the grid of digits decimals inside [low, high]
            scale = 10.0**self.digits
            steps = np.round(rng.uniform(self.low, self.high, size=count) * scale)
            steps = np.clip(steps, *_grid(self.low, self.high, self.digits))
            return np.round(steps / scale, self.digits)
        return np.asarray(self.choices, float)[rng.integers(0, len(self.choices), size=count)]

    @property
    def middle(self) -> float:
        """A value of the range that needs no draw: what shapes are worked out with."""
        if self.kind == "choice":
            return self.choices[len(self.choices) // 2]
        middle = (self.low + self.high) / 2
        return float(math.floor(middle)) if self.kind == "int" else round(middle, self.digits)

    @property
    def text(self) -> str:
        if self.kind == "choice":
            return f"choice: {[_number_text(c) for c in self.choices]}".replace("'", "")
        extra = f", digits: {self.digits}" if self.kind == "uniform" else ""
        return f"{self.kind}: [{_number_text(self.low)}, {_number_text(self.high)}]{extra}"


def _number_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass(frozen=True)
class RangeLeaf:
    """A drawn leaf: its shape, its fixed numbers (drawn entries hold their range's middle), and the entries
    drawn: (flat indices, how)."""

    shape: tuple[int, ...]
    fixed: np.ndarray
    entries: tuple[tuple[tuple[int, ...], Draw], ...]
    where: Position

    def draw(self, rng: np.random.Generator, dtype: np.dtype, count: int = 1) -> np.ndarray:
        """count values of the leaf, stacked on a first axis of length count."""
        flat = np.repeat(self.fixed.reshape(1, -1), count, axis=0)
        for indices, how in self.entries:
            flat[:, list(indices)] = how.sample(rng, count * len(indices)).reshape(count, len(indices))
        return flat.reshape((count, *self.shape)).astype(dtype)

    def middle(self, dtype: np.dtype) -> np.ndarray:
        return self.fixed.astype(dtype)

    @property
    def digits(self) -> int:
        """The most decimals a drawn number of this leaf has: what a sheet must show of it."""
        shown = [how.digits if how.kind != "choice" else max(map(_decimals, how.choices)) for _, how in self.entries]
        return max([_decimals(x) for x in self.fixed.reshape(-1)[:MAX_DRAWN]] + shown, default=0)


class DrawnLeaf:
    """How the builder makes a drawn leaf's value before its version is drawn: the range's middle (for shapes);
    spec: the range, for variants.py."""

    def __init__(self, spec: RangeLeaf, dtype: np.dtype) -> None:
        self.spec, self.dtype = spec, dtype

    def __call__(self, rng: object) -> np.ndarray:
        return self.spec.middle(self.dtype)


def _decimals(x: float) -> int:
    text = repr(float(x))
    if "e" in text or text.endswith(".0"):
        return 0 if float(x).is_integer() else MAX_DIGITS
    return len(text.split(".", 1)[1])


def is_range(item: Located) -> bool:
    """Whether a leaf (or an entry of a nested list) is drawn: a mapping with int, uniform or choice, or a
    list holding one somewhere."""
    stack = [item]
    while stack:
        node = stack.pop()
        if isinstance(node.value, dict) and any(k in node.value for k in KINDS):
            return True
        if isinstance(node.value, list):
            stack.extend(node.value)
    return False


def read_range_leaf(item: Located, name: str) -> RangeLeaf:
    """A drawn leaf, checked at its file positions (GraphFileError)."""
    from .leaves import check_size, parse_shape

    if isinstance(item.value, dict) and "shape" in item.value:
        how = read_draw(item, name, allowed=RANGE_KEYS)
        shape = parse_shape(item.value["shape"])
        check_size(shape, item.value["shape"].where, MAX_DRAWN)
        size = math.prod(shape)
        return RangeLeaf(shape, np.full(shape, how.middle), ((tuple(range(size)), how),) if size else (), item.where)
    if isinstance(item.value, dict):
        how = read_draw(item, name, allowed=RANGE_KEYS - {"shape"})
        return RangeLeaf((), np.asarray(how.middle), (((0,), how),), item.where)
    return _nested(item, name)


def _nested(item: Located, name: str) -> RangeLeaf:
    """A nested list of numbers and drawn entries: rectangular, as every nested list."""
    from .leaves import _number

    flat: list[float] = []
    entries: list[tuple[tuple[int, ...], Draw]] = []
    sizes: dict[int, int] = {}
    depths: set[int] = set()

    def walk(node: Located, depth: int) -> None:
        if isinstance(node.value, list):
            if depth >= 32:
                raise GraphFileError(f"leaf {name!r}: lists nested more than 32 deep", node.where)
            if sizes.setdefault(depth, len(node.value)) != len(node.value):
                raise GraphFileError("a nested list must be rectangular (rows of equal length)", node.where)
            for child in node.value:
                walk(child, depth + 1)
            return
        depths.add(depth)
        if len(depths) > 1:
            raise GraphFileError("a nested list must be rectangular (uneven depth)", node.where)
        if isinstance(node.value, dict):
            how = read_draw(node, name, allowed=RANGE_KEYS - {"shape"})
            entries.append(((len(flat),), how))
            flat.append(how.middle)
        else:
            flat.append(_number(node.value, node.where, "a value"))
        if len(flat) > MAX_DRAWN:
            raise GraphFileError(f"leaf {name!r}: more than {MAX_DRAWN} numbers in a drawn leaf", node.where)

    walk(item, 0)
    shape = tuple(sizes[d] for d in range(len(sizes)))
    merged: dict[Draw, list[int]] = {}
    for (index,), how in entries:
        merged.setdefault(how, []).append(index)
    grouped = tuple((tuple(indices), how) for how, indices in merged.items())
    return RangeLeaf(shape, np.asarray(flat, float).reshape(shape), grouped, item.where)


def read_draw(item: Located, name: str, allowed: set[str]) -> Draw:
    """One entry's range: exactly one of int, uniform, choice; digits with uniform only."""
    spec: dict[str, Located] = item.value  # type: ignore[assignment]
    for key in spec:
        if key not in allowed:
            hint = suggest(key, allowed) or f" (a drawn value takes {', '.join(sorted(allowed))})"
            raise GraphFileError(f"leaf {name!r}: unknown key {key!r}{hint}", item.key_where[key])
    kinds = [k for k in KINDS if k in spec]
    if len(kinds) != 1:
        where = item.key_where[kinds[1]] if len(kinds) > 1 else item.where
        raise GraphFileError(f"leaf {name!r}: give one of int, uniform or choice, not {' and '.join(kinds)}", where)
    kind = kinds[0]
    given = spec[kind]
    if "digits" in spec and kind != "uniform":
        raise GraphFileError(
            f"leaf {name!r}: digits goes with uniform ({kind} values are shown as written)", item.key_where["digits"]
        )
    if kind == "choice":
        if not isinstance(given.value, list) or not given.value:
            raise GraphFileError(f"leaf {name!r}: choice is a list of numbers, like [0.5, 1, 2]", given.where)
        choices = tuple(_finite(c, name) for c in given.value)
        return Draw("choice", choices=choices, where=given.where)
    if kind == "int" and isinstance(given.value, str):  # {shape: [3], int: normal}: init, mistyped
        raise GraphFileError(
            f"leaf {name!r}: unknown key 'int'{suggest('int', ['init'])} (int: [low, high] draws whole numbers)",
            item.key_where["int"],
        )
    if not isinstance(given.value, list) or len(given.value) != 2:
        raise GraphFileError(f"leaf {name!r}: {kind} takes [low, high], like [-5, 5]", given.where)
    low, high = (_finite(c, name) for c in given.value)
    if kind == "int":
        for bound in given.value:
            if not float(bound.value).is_integer():
                raise GraphFileError(
                    f"leaf {name!r}: int takes whole numbers, not {bound.raw or bound.value}", bound.where
                )
        if abs(low) > 2**53 or abs(high) > 2**53:
            raise GraphFileError(f"leaf {name!r}: int bounds beyond ±2**53 are not exact", given.where)
    if not low <= high if kind == "int" else not low < high:
        raise GraphFileError(
            f"leaf {name!r}: {kind}'s low bound must be {'at most' if kind == 'int' else 'below'} its high bound "
            f"(write [{_number_text(min(low, high))}, {_number_text(max(low, high))}])",
            given.where,
        )
    digits = DEFAULT_DIGITS if kind == "uniform" else 0
    if "digits" in spec:
        raw = spec["digits"].value
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_DIGITS:
            raise GraphFileError(
                f"leaf {name!r}: digits is a whole number of decimals from 0 to {MAX_DIGITS}", spec["digits"].where
            )
        digits = raw
    if kind == "uniform" and _grid(low, high, digits)[1] < _grid(low, high, digits)[0]:
        raise GraphFileError(
            f"leaf {name!r}: no number with {digits} decimals lies in [{_number_text(low)}, {_number_text(high)}]: "
            "give more digits",
            given.where,
        )
    return Draw(kind, low, high, digits, where=given.where)


def _grid(low: float, high: float, digits: int) -> tuple[int, int]:
    """The first and last multiples of 10**-digits in [low, high], in those units (0.29 · 100 is 29, not
    28.999999999999996)."""
    scale = 10.0**digits
    return math.ceil(round(low * scale, 6)), math.floor(round(high * scale, 6))


def _finite(node: Located, name: str) -> float:
    from .leaves import _number

    number = _number(node.value, node.where, f"leaf {name!r}: a bound")
    if not math.isfinite(number) or abs(number) > 1e15:
        raise GraphFileError(f"leaf {name!r}: a bound must be a finite number of at most 1e15", node.where)
    return number
