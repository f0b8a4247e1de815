"""Leaf values: a number, a nested list, or {shape, init, scale}."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import GraphFileError, Position, ShapeError, suggest
from ..ops.shapes import MAX_DIMS, check_extent
from .yaml_source import Located

MAX_ELEMENTS = 2**28  # 2 GiB of float64 per leaf; refused before allocation
INITS = ("normal", "uniform", "zeros", "ones", "xavier", "he")
LEAF_KEYS = {"shape", "init", "scale", "value", "file", "data"}


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """fan_in, fan_out: (in, out) for a matrix used as x @ w; (F, C, KH, KW) for filters."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _number(value: object, where: Position, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise GraphFileError(f"{what} must be a number, not {_kind(value)}", where)
    try:
        return float(value)  # YAML 1.1 reads 1e-3 as the string "1e-3"
    except ValueError:
        raise GraphFileError(f"{what} must be a number, not {value!r}", where) from None


def _kind(value: object) -> str:
    return {bool: "true/false", type(None): "empty", dict: "a mapping", list: "a list", str: "text"}.get(
        type(value), type(value).__name__
    )


def parse_shape(item: Located, what: str = "shape") -> tuple[int, ...]:
    if not isinstance(item.value, list):
        raise GraphFileError(f"{what} must be a list of sizes like [64, 1000]", item.where)
    dims = []
    for d in item.value:
        if isinstance(d.value, bool) or not isinstance(d.value, int) or d.value < 0:
            raise GraphFileError(f"{what} sizes must be whole numbers ≥ 0, not {d.raw or d.value!r}", d.where)
        dims.append(d.value)
    if len(dims) > MAX_DIMS:
        raise GraphFileError(f"{what} has {len(dims)} dimensions, more than the {MAX_DIMS} allowed", item.where)
    try:
        check_extent(dims, what)
    except ShapeError as err:
        raise GraphFileError(err.message, item.where) from None
    return tuple(dims)


def check_size(shape: tuple[int, ...], where: Position, limit: int = MAX_ELEMENTS) -> None:
    if len(shape) > MAX_DIMS:
        raise GraphFileError(f"the value has {len(shape)} dimensions, more than the {MAX_DIMS} allowed", where)
    if math.prod(shape) > limit:
        size = math.prod(shape) * 8 / 2**30
        raise GraphFileError(
            f"shape {list(shape)} needs {size:,.1f} GiB, more than the {limit * 8 / 2**30:.0f} GiB allowed per tensor",
            where,
        )


def _plain_numbers(values: list, largest: float) -> bool:
    """Whether every value is an int or float (not true/false, not text) that dtype can hold."""
    return all(type(v) is float or type(v) is int for v in values) and all(
        -largest <= v <= largest or not math.isfinite(v) for v in values
    )


def _value(node: Located, largest: float, dtype: np.dtype) -> float:
    number = _number(node.value, node.where, "a value")
    if abs(number) > largest and math.isfinite(number):  # float32: would become inf
        raise GraphFileError(
            f"{node.raw or number} is beyond the range of {np.dtype(dtype)} (±{largest:.3g}): write a smaller "
            "number, or use dtype: float64",
            node.where,
        )
    return number


def _literal(item: Located, dtype: np.dtype) -> np.ndarray:
    """A number or a nested list of numbers; iterative so depth costs no recursion. Rectangular: the lists
    of one level are equally long, and every number is at the same depth."""
    flat: list[float] = []
    rows = [(item, 0)]
    level_sizes: dict[int, int] = {}
    depth_of_numbers: int | None = None
    largest = float(np.finfo(dtype).max)
    mask = _mask_list(item)  # [true, false]: a mask, 1 and 0; a lone true (YAML 1.1's yes) is refused

    def uneven(depth: int, where: Position) -> None:
        nonlocal depth_of_numbers
        if depth_of_numbers is None:
            depth_of_numbers = depth
        elif depth != depth_of_numbers:
            raise GraphFileError("a nested list must be rectangular (uneven depth)", where)

    while rows:
        node, depth = rows.pop()
        if isinstance(node.value, list):
            if depth >= MAX_DIMS:
                raise GraphFileError(
                    f"lists nested more than {MAX_DIMS} deep: a value has at most {MAX_DIMS} dimensions", node.where
                )
            if depth_of_numbers is not None and depth >= depth_of_numbers:
                raise GraphFileError("a nested list must be rectangular (uneven depth)", node.where)
            if depth in level_sizes and level_sizes[depth] != len(node.value):
                raise GraphFileError("a nested list must be rectangular (rows of equal length)", node.where)
            level_sizes[depth] = len(node.value)
            lists = [isinstance(c.value, list) for c in node.value]
            if any(lists) and not all(lists):
                raise GraphFileError("a nested list must be rectangular (mixes numbers and lists)", node.where)
            if node.value and not lists[0]:  # a row of numbers (and a long list): read here, not one by one
                uneven(depth + 1, node.where)
                numbers = [c.value for c in node.value]
                if mask:
                    flat.extend(float(v) for v in numbers)
                elif _plain_numbers(numbers, largest):
                    flat.extend(numbers)
                else:
                    flat.extend(_value(c, largest, dtype) for c in node.value)
                continue
            rows.extend((c, depth + 1) for c in reversed(node.value))
        else:
            uneven(depth, node.where)
            flat.append(float(node.value) if mask else _value(node, largest, dtype))
    if depth_of_numbers is not None and depth_of_numbers != len(level_sizes):
        raise GraphFileError("a nested list must be rectangular (uneven depth)", item.where)
    shape = [level_sizes[d] for d in range(len(level_sizes))]
    return np.array(flat, dtype=dtype).reshape(shape)


def _mask_list(item: Located) -> bool:
    """A list whose elements are all true/false: a mask leaf (indexing reads it as NumPy reads a bool array).
    One that mixes them with numbers is refused."""
    if not isinstance(item.value, list):
        return False
    kinds, stack = set(), [item]
    while stack:
        node = stack.pop()
        if isinstance(node.value, list):
            stack.extend(node.value)
        else:
            kinds.add(isinstance(node.value, bool))
    if kinds == {True, False}:
        raise GraphFileError("a list holds numbers or true/false (a mask), not both", item.where)
    return kinds == {True}


def leaf_marks(item: Located, name: str, kind: str) -> dict[str, object]:
    """What a leaf says besides its value: `data: true` (an input sampled in minibatches along its first axis
    by `backprop train`), `file:` (where the value was read from), and a mask (written [true, false, ...])."""
    if not isinstance(item.value, dict):
        return {"mask": True} if _mask_list(item) else {}
    marks: dict[str, object] = {}
    if "data" in item.value:
        data = item.value["data"]
        if not isinstance(data.value, bool):
            raise GraphFileError(f"leaf {name!r}: data must be true or false", data.where)
        if data.value and kind != "input":
            raise GraphFileError(f"leaf {name!r}: only inputs can be data (params are trained)", data.where)
        if data.value:
            marks["data"] = True
    if "file" in item.value:
        marks["file"] = item.value["file"].value
    if "value" in item.value and _mask_list(item.value["value"]):
        marks["mask"] = True
    return marks


def read_leaf(
    item: Located, name: str, dtype: np.dtype, base: Path | None = None
) -> tuple[tuple[int, ...], Callable[[np.random.Generator], np.ndarray]]:
    """One leaf's shape, and how to make its value. Numbers written in the graph file and `file:` arrays are
    read now (their size is the file's); a `{shape, init}` value is only drawn when the returned function
    is called, so the builder can check every shape and the graph's size first. Raises GraphFileError
    naming the file position."""
    if not isinstance(item.value, dict):
        value = _literal(item, dtype)
        return value.shape, lambda rng: value
    spec = item.value
    unknown = set(spec) - LEAF_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise GraphFileError(
            f"leaf {name!r}: unknown key {key!r}{suggest(key, LEAF_KEYS)} (a leaf mapping takes shape, init, scale, value,"
            " file or data)",
            item.key_where[key],
        )
    if "file" in spec:
        from .data_files import read_array_file

        extra = sorted(set(spec) - {"file", "data"})
        if extra:
            raise GraphFileError(f"leaf {name!r}: {extra[0]!r} does not go with file", item.key_where[extra[0]])
        value = read_array_file(spec["file"], base or Path.cwd(), dtype)
        return value.shape, lambda rng: value
    if "value" in spec:
        value = _literal(spec["value"], dtype)
        return value.shape, lambda rng: value
    if "shape" not in spec:
        raise GraphFileError(f"leaf {name!r} needs a shape (or a value or a file)", item.where)
    shape = parse_shape(spec["shape"])
    check_size(shape, spec["shape"].where)
    init = spec["init"].value if "init" in spec else "zeros"
    if init not in INITS:
        where = spec["init"].where
        raise GraphFileError(
            f"leaf {name!r}: init must be one of {', '.join(INITS)}, not {init!r}{suggest(str(init), INITS)}", where
        )
    scale = _number(spec["scale"].value, spec["scale"].where, "scale") if "scale" in spec else 1.0
    return shape, lambda rng: _initial(shape, init, scale, rng, dtype)


def _initial(shape: tuple[int, ...], init: str, scale: float, rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    fan_in, fan_out = fans(shape)
    if init == "zeros":
        value = np.zeros(shape)
    elif init == "ones":
        value = np.ones(shape)
    elif init == "normal":
        value = rng.standard_normal(shape)
    elif init == "uniform":
        value = rng.uniform(-1.0, 1.0, shape)
    elif init == "xavier":  # Uniform(±√6/√(fan_in + fan_out))
        value = rng.uniform(-1.0, 1.0, shape) * math.sqrt(6.0 / max(fan_in + fan_out, 1))
    else:  # he: N(0, 1)·√(2/fan_in)
        value = rng.standard_normal(shape) * math.sqrt(2.0 / max(fan_in, 1))
    return (value * scale).astype(dtype, copy=False)
