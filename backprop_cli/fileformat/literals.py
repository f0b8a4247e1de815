"""Tensor literals ([1, 2, 3], [[1, 0], [0, 1]], [true, false]) and range(...) in expressions: data, read
token by token and never evaluated, checked where they are written (ragged rows, what is not a number,
nan and inf, size)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..ops.shapes import MAX_DIMS

MAX_ELEMENTS = 4096  # written inline; bigger tensors belong in inputs: (or a data file)
MAX_RANGE = 2**20  # range(n) in an index: held as a constant of n numbers
BOOLEANS = {"true": 1.0, "false": 0.0, "True": 1.0, "False": 0.0}


@dataclass(frozen=True)
class Lit:
    """A tensor literal: nested tuples of floats, rectangular; a mask when written with true/false."""

    value: tuple
    mask: bool
    at: int


@dataclass(frozen=True)
class Range:
    """range(start, stop, step) inside an index: each bound a whole number, or a name (its len())."""

    bounds: tuple[int | str, int | str, int | str]
    at: int


@dataclass
class _Row:
    items: list
    at: int


def numbers_only(value: object) -> bool:
    """Nested lists of numbers (or true/false): what a node written as a YAML list must hold to be a literal."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif not isinstance(item, (int, float)):
            return False
    return True


def read_literal(tokens: list[tuple[str, str, int]], i: int) -> tuple[Lit, int]:
    """The literal starting at tokens[i] ('['), and the index after its ']'. Raises ValueError(message, offset)."""
    opened = tokens[i][2]
    root = _Row([], opened)
    stack = [root]
    i += 1
    want_item = True  # an element or '[' (or ']' of an empty row) next; else ',' or ']'
    while True:
        kind, value, at = tokens[i]
        if kind == "end":
            raise ValueError("this '[' is never closed: add ']'", stack[-1].at)
        if value == "]" and kind == "op":  # after ',' too: a trailing comma, as Python allows
            row = stack.pop()
            i += 1
            if not stack:
                break
            stack[-1].items.append(row)
            want_item = False
            continue
        if not want_item:
            if value != ",":
                raise ValueError(_between(value), at)
            want_item = True
            i += 1
            continue
        if value == "[" and kind == "op":
            if len(stack) >= MAX_DIMS:
                raise ValueError(f"a tensor literal has at most {MAX_DIMS} dimensions", at)
            stack.append(_Row([], at))
            i += 1
            continue
        number, i = _element(tokens, i)
        stack[-1].items.append((number, at))
        want_item = False
    return _tensor(root), i


def _between(value: str) -> str:
    if value in ("+", "-", "*", "/", "**", "@", "(", ")"):
        return (
            "a tensor literal holds numbers written out, not expressions: compute with the whole tensor "
            "instead, as in 2 * [1, 2]"
        )
    return f"expected ',' or ']' in the tensor literal but found {value or 'the end'!r}"


def _element(tokens: list[tuple[str, str, int]], i: int) -> tuple[float | bool, int]:
    kind, value, at = tokens[i]
    sign = 1.0
    if kind == "op" and value == "-":
        sign, (kind, value, at) = -1.0, tokens[i + 1]
        i += 1
    if kind == "num":
        number = sign * float(value)
        if not math.isfinite(number):
            raise ValueError(f"{value} is too large for a number", at)
        return number, i + 1
    if kind == "name" and value in BOOLEANS and sign > 0:
        return value.lower() == "true", i + 1
    if kind == "name" and value.lower() in ("nan", "inf", "infinity"):
        raise ValueError("a tensor literal holds finite numbers: nan and inf are not allowed", at)
    if kind == "name":
        raise ValueError(
            f"a tensor literal holds numbers (or true/false for a mask), not {value!r}: to make a tensor of "
            "nodes write stack(a, b)",
            at,
        )
    raise ValueError(f"expected a number in the tensor literal but found {value or 'the end'!r}", at)


def _tensor(root: _Row) -> Lit:
    """The nested tuples of a rectangular literal; ragged rows, mixed kinds and size are refused where written."""
    shape: list[int] = []
    level = [root]
    while True:
        size = len(level[0].items)
        for row in level:
            if len(row.items) != size:
                raise ValueError(
                    f"a tensor literal must be rectangular: this row has {_entries(len(row.items))}, the first "
                    f"row at its depth has {size}",
                    row.at,
                )
        shape.append(size)
        children = [item for row in level for item in row.items]
        rows = [isinstance(item, _Row) for item in children]
        if any(rows) and not all(rows):
            _, at = children[rows.index(False)]
            raise ValueError("a tensor literal must be rectangular: a number where the others are rows", at)
        if not any(rows) or math.prod(shape) > MAX_ELEMENTS:
            break
        level = children
    if math.prod(shape) > MAX_ELEMENTS:
        raise ValueError(
            f"a tensor literal holds at most {MAX_ELEMENTS:,} elements: put a bigger tensor in inputs: "
            "(or a data file)",
            root.at,
        )
    kinds = {isinstance(value, bool) for value, _ in children}
    if len(kinds) > 1:
        at = next(at for value, at in children if isinstance(value, bool))
        raise ValueError("a tensor literal holds numbers or true/false (a mask), not both", at)
    return Lit(_nested(root), kinds == {True}, root.at)


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def _nested(root: _Row) -> tuple:
    """Rows to nested tuples of floats, without recursion."""
    done: dict[int, tuple] = {}
    stack: list[tuple[_Row, bool]] = [(root, False)]
    while stack:
        row, ready = stack.pop()
        if not ready:
            stack.append((row, True))
            stack.extend((item, False) for item in row.items if isinstance(item, _Row))
            continue
        done[id(row)] = tuple(done.pop(id(item)) if isinstance(item, _Row) else float(item[0]) for item in row.items)
    return done[id(root)]


# ---------------------------------------------------------------- keyword values: sum(x, axis=[0, 1])


def whole_number(text: str) -> int | float:
    """A number token: an int where it is written as one (2, not 2.0 or 2e0)."""
    number = float(text)
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def read_value(tokens: list[tuple[str, str, int]], i: int) -> tuple[object, int]:
    """A keyword argument's value at tokens[i]: a number, true/false, none or a list of them (nested).
    Raises ValueError(message, offset)."""
    kind, value, at = tokens[i]
    i += 1
    if value == "-" and tokens[i][0] == "num":
        return -whole_number(tokens[i][1]), i + 1
    if kind == "num":
        return whole_number(value), i
    if kind == "name" and value.lower() in ("true", "false", "none"):
        return {"true": True, "false": False, "none": None}[value.lower()], i
    if value == "[":
        items = []
        while tokens[i][1] != "]":
            item, i = read_value(tokens, i)
            items.append(item)
            if tokens[i][1] != ",":
                break
            i += 1
        if tokens[i][1] != "]":
            kind, got, where = tokens[i]
            if kind == "end":
                raise ValueError("this '[' is never closed: add ']'", at)
            raise ValueError(f"expected ']' but found {got!r}", where)
        return items, i + 1
    raise ValueError(
        f"a keyword argument takes a number, true/false, none or a list of numbers, not {value or 'nothing'!r}", at
    )


# ---------------------------------------------------------------- range(...) inside an index


def read_range(tokens: list[tuple[str, str, int]], i: int) -> tuple[Range, int]:
    """range(stop), range(start, stop) or range(start, stop, step) at tokens[i] (or NumPy's arange); a bound is
    a whole number or len(name). Raises ValueError(message, offset)."""
    at = tokens[i][2]
    i += 2  # 'range' '('
    bounds: list[int | str] = []
    while True:
        kind, value, where = tokens[i]
        if kind == "name" and value == "len" and tokens[i + 1][1] == "(":
            kind2, name, name_at = tokens[i + 2]
            if kind2 != "name" or tokens[i + 3][1] != ")":
                raise ValueError("len() inside range() takes the name of a node or leaf, as in len(y)", where)
            bounds.append(name)
            i += 4
        else:
            sign = 1
            if value == "-" and kind == "op":
                sign, (kind, value, where) = -1, tokens[i + 1]
                i += 1
            number = float(value) if kind == "num" else None
            if number is None or not number.is_integer() or "." in value or "e" in value.lower():
                raise ValueError(
                    f"range() takes whole numbers written out (or len(name)), not {value or 'nothing'!r}", where
                )
            bounds.append(sign * int(number))
            i += 1
        kind, value, where = tokens[i]
        if value == ")":
            i += 1
            break
        if value != "," or len(bounds) == 3:
            raise ValueError("range() takes one to three whole numbers: stop, or start, stop[, step]", where)
        i += 1
    if len(bounds) == 1:
        bounds = [0, bounds[0], 1]
    elif len(bounds) == 2:
        bounds.append(1)
    if bounds[2] == 0:
        raise ValueError("range() step cannot be zero", at)
    if all(isinstance(b, int) for b in bounds):
        check_range(bounds, at)
    return Range(tuple(bounds), at), i


def check_range(bounds: tuple, at: object) -> None:
    """Raises ValueError(message, at) for a range longer than an index array may be."""
    if len(range(*bounds)) > MAX_RANGE:
        raise ValueError(f"range() in an index gives at most {MAX_RANGE:,} numbers, not {len(range(*bounds)):,}", at)


def range_values(bounds: tuple[int, int, int]) -> tuple[float, ...]:
    return tuple(float(v) for v in range(*bounds))
