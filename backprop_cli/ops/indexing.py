"""Indexing and joining: routers and wires that move elements without changing them.

`w[0]`, `X[:, 1]`, `v[1:3]` in an expression are the op `index` with at=[...] (per axis a whole
number or a slice [start, stop, step]): the gradient is scattered back into the picked slots.
"""

from __future__ import annotations

import numpy as np

from . import shapes
from .table import GateKind, Op, register, variadic


def _key(x: np.ndarray, at: list) -> tuple[int | slice, ...]:
    return shapes.index_key(at, np.shape(x))


def _scatter(g: np.ndarray, out: np.ndarray, x: np.ndarray, at: list | None = None) -> np.ndarray:
    """The gradient of x: g in the picked slots, 0 elsewhere (basic indexing picks each slot once)."""
    grad = np.zeros(np.shape(x), np.result_type(g, x))
    grad[_key(x, at)] = g
    return grad


register(
    Op(
        "index",
        GateKind.ROUTER,
        "x[i, j:k:s] (NumPy's basic indexing)",
        forward=lambda x, at=None: np.array(x[_key(x, at)], copy=True),
        vjp=(_scatter,),
        jvp=(lambda t, out, x, at=None: np.broadcast_to(t, np.shape(x))[_key(x, at)],),
        shape=shapes.index,
        local=("1 in the picked slots, 0 elsewhere",),
        attrs={"at": None},
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
