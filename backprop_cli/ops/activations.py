"""Activation functions: squashing gates, the gate that kills (relu) and the ones that leak."""

from __future__ import annotations

import numpy as np

from .elementwise import AT_ZERO
from .table import GateKind, Kinks, elementwise


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1/(1 + e^-x): stable as written for real x, since e^-x overflowing to inf gives exactly 0. A complex
    step (x + ih) would overflow to inf·(cos + i·sin) and give NaN at x = -800: there e^x/(1 + e^x) instead."""
    if np.iscomplexobj(x):
        negative = np.real(x) < 0
        e = np.exp(np.where(negative, x, -x))  # |e| <= 1
        return np.where(negative, e, 1) / (1 + e)
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) without overflow: for a complex step too (x + log(1 + e^-x) where x > 0: e^1240 overflowed
    to an infinite reference in jacobian and gradcheck)."""
    if np.iscomplexobj(x):
        positive = np.real(x) > 0
        return np.log1p(np.exp(np.where(positive, -x, x))) + np.where(positive, x, 0)
    return np.logaddexp(0.0, x)


elementwise(
    "sigmoid",
    GateKind.SQUASHER,
    "σ(x) = 1 / (1 + e^-x)",
    sigmoid,
    (lambda out, x: out * (1 - out),),
    ("σ({0})(1 - σ({0}))",),
    slope_from_output=True,
    symbol="σ",
)
elementwise(
    "tanh",
    GateKind.SQUASHER,
    "tanh x",
    np.tanh,
    (lambda out, x: 1 - out**2,),
    ("1 - tanh²{0}",),
    slope_from_output=True,
)
elementwise("softplus", GateKind.SQUASHER, "log(1 + e^x)", softplus, (lambda out, x: sigmoid(x),), ("σ({0})",))
elementwise(
    "relu",
    GateKind.KILLER,
    "max(0, x)",
    lambda x: np.maximum(x, 0),
    (lambda out, x: x > 0,),
    ("1[{0} > 0]",),
    kinks=AT_ZERO,
)
elementwise(
    "leaky_relu",
    GateKind.LEAKY,
    "x if x > 0 else α·x",
    lambda x, alpha=0.01: np.where(x > 0, x, alpha * x),
    (lambda out, x, alpha=0.01: np.where(x > 0, 1.0, alpha),),
    ("1 if {0} > 0 else α",),
    attrs={"alpha": 0.01},
    kinks=AT_ZERO,
)
elementwise(
    "prelu",
    GateKind.LEAKY,
    "x if x > 0 else a·x (a learned)",
    lambda x, a, **_: np.where(x > 0, x, a * x),
    (lambda out, x, a, **_: np.where(x > 0, 1.0, a), lambda out, x, a, **_: np.where(x > 0, 0.0, x)),
    ("1 if {0} > 0 else {1}", "0 if {0} > 0 else {0}"),
    kinks=AT_ZERO,
)


def _elu_piece(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return x > 0 if alpha != 1.0 else np.ones(np.shape(x), bool)  # α = 1: the slopes meet at 0, no kink


def _elu_distance(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.abs(x) if alpha != 1.0 else np.full(np.shape(x), np.inf)


elementwise(
    "elu",
    GateKind.LEAKY,
    "x if x > 0 else α(e^x - 1)",
    lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
    (lambda out, x, alpha=1.0: np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))),),  # out + α would round
    ("1 if {0} > 0 else α·e^{0}",),
    attrs={"alpha": 1.0},
    kinks=Kinks(piece=_elu_piece, distance=_elu_distance),
)
