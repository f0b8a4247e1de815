"""Indexing and joining: routers and wires that move elements without changing them.

`w[0]`, `X[:, 1]`, `v[1:3]` in an expression are the op `index` with at=[...] (per axis a whole
number or a slice [start, stop, step]); `p[[0, 1], y]`, `p[range(2), y]`, `x[x > 0]` give it index
operands too (NumPy's integer arrays and boolean masks; at= says "array" or "mask" where each goes).
The gradient is scattered back into the picked slots, and adds up where an element is picked twice.
"""

from __future__ import annotations

import numpy as np

from ..errors import EvaluationError
from . import shapes
from .table import VARIADIC, GateKind, Op, register, variadic


def _key(x: np.ndarray, arrays: tuple[np.ndarray, ...], at: list, picks: object) -> tuple | None:
    """NumPy's index for x: index arrays as whole numbers (checked: whole, in bounds), masks as booleans.
    None where a mask picks another number of elements than the graph's shapes were made for."""
    items = shapes.index_key(at, np.shape(x), tuple(np.shape(a) for a in arrays), picks)
    key: list[object] = []
    axis, k = 0, 0
    for item in items:
        if not isinstance(item, tuple):
            key.append(item)
            axis += 1
            continue
        values = np.real(arrays[k])
        k += 1
        if item[0] == shapes.MASK:
            mask = values != 0
            if int(np.count_nonzero(mask)) != item[2]:
                return None
            key.append(mask)
            axis += max(mask.ndim, 1)
            continue
        size = np.shape(x)[axis]
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            bad = values[~(np.isfinite(values) & (values == np.round(values)))].flat[0]
            raise EvaluationError(f"an index array holds {bad:g}, not a whole number")
        outside = (values < -size) | (values >= size)
        if np.any(outside):
            raise EvaluationError(f"index {values[outside].flat[0]:g} is out of bounds for axis {axis} of size {size}")
        key.append(values.astype(np.intp))
        axis += 1
    return tuple(key)


def _pick(x: np.ndarray, *arrays: np.ndarray, at: list | None = None, picks: object = None) -> np.ndarray:
    key = _key(x, arrays, at, picks)
    if key is None:  # NaN: evaluation stops at this gate with the op's fault, a stencil counts it as crossing a kink
        out = shapes.index(np.shape(x), *(np.shape(a) for a in arrays), at=at, picks=picks)
        return np.full(out, np.nan, np.result_type(x, np.float32))
    return np.array(x[key], copy=True)


def _scatter(g: np.ndarray, out: np.ndarray, x: np.ndarray, *arrays: np.ndarray, at=None, picks=None) -> np.ndarray:
    """The gradient of x: g added into the picked slots (twice where picked twice), 0 elsewhere."""
    grad = np.zeros(np.shape(x), np.result_type(g, x))
    key = _key(x, arrays, at, picks)
    if key is None:
        return np.full(np.shape(x), np.nan, grad.dtype)
    if arrays:
        np.add.at(grad, key, g)
    else:
        grad[key] = g  # basic indexing picks each slot once
    return grad


def _tangent(t: np.ndarray, out: np.ndarray, x: np.ndarray, *arrays: np.ndarray, at=None, picks=None) -> np.ndarray:
    key = _key(x, arrays, at, picks)
    t = np.broadcast_to(t, np.shape(x))
    return np.full(np.shape(out), np.nan, t.dtype) if key is None else t[key]


register(
    Op(
        "index",
        GateKind.ROUTER,
        "x[i, j:k:s, array, mask] (NumPy's indexing)",
        forward=_pick,
        vjp=variadic(lambda i: _scatter if i == 0 else None),
        jvp=variadic(lambda i: _tangent if i == 0 else None),
        shape=shapes.index,
        local=variadic(lambda i: "1 in the picked slots, 0 elsewhere" if i == 0 else "0 (indices)"),
        attrs={"at": None},
        min_args=1,
        fault="picked another number of elements than when the graph was loaded (a mask computed from values "
        "must keep its count: shapes are fixed at load; where(mask, x, 0) keeps the shape)",
        domain=("real", *("indices",) * (VARIADIC - 1)),
        masks="passes",
    )
)

# ---------------------------------------------------------------- joining: concat and stack (any number of operands)


def _offsets(xs: tuple[np.ndarray, ...], axis: int) -> list[int]:
    a = shapes.axes_of(axis, np.ndim(xs[0]))[0]
    return [0, *np.cumsum([np.shape(x)[a] for x in xs]).tolist()]


def _concat_vjp(i: int):
    def rule(g: np.ndarray, out: np.ndarray, *xs: np.ndarray, axis: int = 0) -> np.ndarray:
        start, stop = _offsets(xs, axis)[i : i + 2]
        return np.take(g, np.arange(start, stop), axis=axis)

    return rule


def _stack_vjp(i: int):
    return lambda g, out, *xs, axis=0: np.take(g, i, axis=axis)


def _tangent_in_slot(join):
    """Forward rules of a join: operand i's tangent in its place, zeros in the others' (join: concatenate, stack)."""

    def rule_for(i: int):
        def rule(t: np.ndarray, out: np.ndarray, *xs: np.ndarray, axis: int = 0) -> np.ndarray:
            t = np.broadcast_to(t, np.shape(xs[i]))
            return join([t if j == i else np.zeros(np.shape(x), t.dtype) for j, x in enumerate(xs)], axis)

        return rule

    return rule_for


register(
    Op(
        "concat",
        GateKind.WIRE,
        "a, b, ... joined along an axis",
        forward=lambda *xs, axis=0: np.concatenate(xs, axis=axis),
        vjp=variadic(_concat_vjp),
        jvp=variadic(_tangent_in_slot(np.concatenate)),
        shape=shapes.concat,
        local=variadic(lambda i: f"{{{i}}}'s part of the result"),
        attrs={"axis": 0},
        min_args=1,
        independent=shapes.concat_slices,
    )
)
register(
    Op(
        "stack",
        GateKind.WIRE,
        "a, b, ... stacked along a new axis",
        forward=lambda *xs, axis=0: np.stack(xs, axis=axis),
        vjp=variadic(_stack_vjp),
        jvp=variadic(_tangent_in_slot(np.stack)),
        shape=shapes.stack,
        local=variadic(lambda i: f"slice {i} of the result"),
        attrs={"axis": 0},
        min_args=1,
        independent=shapes.stack_slices,
    )
)
