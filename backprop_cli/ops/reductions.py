"""Reductions over axes, and the normalizers softmax and log-softmax."""

from __future__ import annotations

import numpy as np

from . import shapes
from .table import GateKind, Kinks, Op, register


def _expand(g: np.ndarray, x: np.ndarray, axis: object, keepdims: bool) -> np.ndarray:
    """Put the reduced axes back into g so it broadcasts against x."""
    if keepdims or axis is None:
        return g  # all axes reduced: g is a single number
    return np.expand_dims(g, shapes.axes_of(axis, np.ndim(x)))


def _count(x: np.ndarray, axis: object) -> int:
    n = 1
    for a in shapes.axes_of(axis, np.ndim(x)):
        n *= np.shape(x)[a]
    return n


def _ax(axis: object) -> object:
    return tuple(axis) if isinstance(axis, list) else axis


def _winners(out: np.ndarray, x: np.ndarray, axis: object, keepdims: bool) -> np.ndarray:
    """Share of the gradient each element gets: ties split it evenly, so it is conserved."""
    hit = x == _expand(out, x, axis, keepdims)
    return hit / np.sum(hit, axis=_ax(axis), keepdims=True)


REDUCE_ATTRS = {"axis": None, "keepdims": False}

register(
    Op(
        "sum",
        GateKind.DISTRIBUTOR,
        "Σ x",
        forward=lambda x, axis=None, keepdims=False: np.add.reduce(x, axis=_ax(axis), keepdims=keepdims),
        vjp=(lambda g, out, x, axis=None, keepdims=False: np.full(np.shape(x), _expand(g, x, axis, keepdims)),),
        jvp=(lambda t, out, x, axis=None, keepdims=False: np.sum(t, axis=_ax(axis), keepdims=keepdims),),
        shape=shapes.reduction,
        local=("1",),
        attrs=REDUCE_ATTRS,
        independent=shapes.reduction_slices,
        symbol="Σ",
    )
)
register(
    Op(
        "mean",
        GateKind.DISTRIBUTOR,
        "Σ x / n",
        forward=lambda x, axis=None, keepdims=False: np.mean(x, axis=_ax(axis), keepdims=keepdims),
        vjp=(
            lambda g, out, x, axis=None, keepdims=False: np.full(
                np.shape(x), _expand(g, x, axis, keepdims) / _count(x, axis)
            ),
        ),
        jvp=(lambda t, out, x, axis=None, keepdims=False: np.mean(t, axis=_ax(axis), keepdims=keepdims),),
        shape=shapes.reduction,
        local=("1/n",),
        attrs=REDUCE_ATTRS,
        independent=shapes.reduction_slices,
    )
)


def _selection(name: str, pick) -> None:
    """max or min over axes: a router. Ties split the gradient evenly; a tie is a kink."""

    def winners(x: np.ndarray, axis: object = None, keepdims: bool = False) -> np.ndarray:
        return x == pick(x, axis=_ax(axis), keepdims=True)

    def gap(x: np.ndarray, axis: object = None, keepdims: bool = False) -> np.ndarray:
        """Between the winner and the runner-up along the reduced axes (0 at a tie)."""
        axes = shapes.axes_of(axis, np.ndim(x))
        lined = np.moveaxis(x, axes, tuple(range(-len(axes), 0))) if axes else x[..., None]
        lined = np.sort(lined.reshape(*lined.shape[: lined.ndim - max(len(axes), 1)], -1), axis=-1)
        if lined.shape[-1] < 2:
            return np.full(lined.shape[:-1], np.inf)
        return lined[..., -1] - lined[..., -2] if pick is np.max else lined[..., 1] - lined[..., 0]

    register(
        Op(
            name,
            GateKind.ROUTER,
            f"{name} over an axis",
            forward=lambda x, axis=None, keepdims=False: pick(x, axis=_ax(axis), keepdims=keepdims),
            vjp=(
                lambda g, out, x, axis=None, keepdims=False: (
                    _expand(g, x, axis, keepdims) * _winners(out, x, axis, keepdims)
                ),
            ),
            jvp=(
                lambda t, out, x, axis=None, keepdims=False: np.sum(
                    t * _winners(out, x, axis, keepdims), axis=_ax(axis), keepdims=keepdims
                ),
            ),
            shape=shapes.selection,
            local=(f"1[{{0}} is the {name}]",),
            attrs=REDUCE_ATTRS,
            kinks=Kinks(piece=winners, distance=gap),
        )
    )


_selection("max", np.max)
_selection("min", np.min)

# ---------------------------------------------------------------- softmax and log-softmax


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    z = x - np.max(x.real, axis=axis, keepdims=True)  # shift: e^z never overflows
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    z = x - np.max(x.real, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


register(
    Op(
        "softmax",
        GateKind.NORMALIZER,
        "e^x_i / Σ_j e^x_j",
        forward=softmax,
        vjp=(lambda g, out, x, axis=-1: out * (g - np.sum(g * out, axis=axis, keepdims=True)),),
        jvp=(lambda t, out, x, axis=-1: out * (t - np.sum(t * out, axis=axis, keepdims=True)),),
        shape=shapes.along_axis,
        local=("diag(p) - p pᵀ",),
        attrs={"axis": -1},
        independent=shapes.along_axis_slices,
    )
)
register(
    Op(
        "log_softmax",
        GateKind.NORMALIZER,
        "x_i - log Σ_j e^x_j",
        forward=log_softmax,
        vjp=(lambda g, out, x, axis=-1: g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),),
        jvp=(lambda t, out, x, axis=-1: t - np.sum(np.exp(out) * t, axis=axis, keepdims=True),),
        shape=shapes.along_axis,
        local=("I - 1 pᵀ",),
        attrs={"axis": -1},
        independent=shapes.along_axis_slices,
    )
)

# ---------------------------------------------------------------- rearranging: wires


def _inverse(axes: object, ndim: int) -> object:
    return None if axes is None else tuple(np.argsort(axes))


register(
    Op(
        "transpose",
        GateKind.WIRE,
        "xᵀ",
        forward=lambda x, axes=None: np.transpose(x, axes),
        vjp=(lambda g, out, x, axes=None: np.transpose(g, _inverse(axes, np.ndim(x))),),
        jvp=(lambda t, out, x, axes=None: np.transpose(t, axes),),
        shape=shapes.transpose,
        local=("transpose back",),
        masks="passes",
        attrs={"axes": None},
        independent=shapes.transpose_slices,
        symbol="ᵀ",
    )
)
register(
    Op(
        "reshape",
        GateKind.WIRE,
        "x reshaped",
        forward=lambda x, shape=None: np.reshape(x, shape),
        vjp=(lambda g, out, x, shape=None: np.reshape(g, np.shape(x)),),
        jvp=(lambda t, out, x, shape=None: np.reshape(t, np.shape(out)),),
        shape=shapes.reshape,
        local=("reshape back",),
        masks="passes",
        attrs={"shape": None},
    )
)
