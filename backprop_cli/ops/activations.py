"""Activation functions: squashing gates and the gates that kill."""

from __future__ import annotations

import numpy as np

from . import shapes
from .table import GateKind, Op, register


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1/(1 + e^-x): stable as written, since e^-x overflowing to inf gives exactly 0."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) without overflow."""
    if np.iscomplexobj(x):
        return np.log1p(np.exp(x))
    return np.logaddexp(0.0, x)


register(
    Op(
        "sigmoid",
        GateKind.SQUASHER,
        "σ(x) = 1 / (1 + e^-x)",
        forward=sigmoid,
        vjp=(lambda g, out, x: g * out * (1 - out),),
        jvp=(lambda t, out, x: t * out * (1 - out),),
        shape=shapes.same,
        local=("σ({0})(1 - σ({0}))",),
        slope_from_output=True,
    )
)
register(
    Op(
        "tanh",
        GateKind.SQUASHER,
        "tanh x",
        forward=np.tanh,
        vjp=(lambda g, out, x: g * (1 - out**2),),
        jvp=(lambda t, out, x: t * (1 - out**2),),
        shape=shapes.same,
        local=("1 - tanh²{0}",),
        slope_from_output=True,
    )
)
register(
    Op(
        "softplus",
        GateKind.SQUASHER,
        "log(1 + e^x)",
        forward=softplus,
        vjp=(lambda g, out, x: g * sigmoid(x),),
        jvp=(lambda t, out, x: t * sigmoid(x),),
        shape=shapes.same,
        local=("σ({0})",),
    )
)
register(
    Op(
        "relu",
        GateKind.KILLER,
        "max(0, x)",
        forward=lambda x: np.maximum(x, 0),
        vjp=(lambda g, out, x: g * (x > 0),),
        jvp=(lambda t, out, x: t * (x > 0),),
        shape=shapes.same,
        local=("1[{0} > 0]",),
        analytic=False,
        kink=lambda x: np.abs(x),
        branch=lambda x: x > 0,
    )
)
register(
    Op(
        "leaky_relu",
        GateKind.KILLER,
        "x if x > 0 else α·x",
        forward=lambda x, alpha=0.01: np.where(x > 0, x, alpha * x),
        vjp=(lambda g, out, x, alpha=0.01: g * np.where(x > 0, 1.0, alpha),),
        jvp=(lambda t, out, x, alpha=0.01: t * np.where(x > 0, 1.0, alpha),),
        shape=shapes.same,
        local=("1 if {0} > 0 else α",),
        attrs={"alpha": 0.01},
        analytic=False,
        kink=lambda x, alpha=0.01: np.abs(x),
        branch=lambda x, alpha=0.01: x > 0,
    )
)
register(
    Op(
        "prelu",
        GateKind.KILLER,
        "x if x > 0 else a·x (a learned)",
        forward=lambda x, a, **_: np.where(x > 0, x, a * x),
        vjp=(
            lambda g, out, x, a, **_: g * np.where(x > 0, 1.0, a),
            lambda g, out, x, a, **_: g * np.where(x > 0, 0.0, x),
        ),
        jvp=(
            lambda t, out, x, a, **_: t * np.where(x > 0, 1.0, a),
            lambda t, out, x, a, **_: t * np.where(x > 0, 0.0, x),
        ),
        shape=shapes.broadcast,
        local=("1 if {0} > 0 else {1}", "0 if {0} > 0 else {0}"),
        attrs={"broadcast": False},
        analytic=False,
        kink=lambda x, a, **_: np.abs(x),
        branch=lambda x, a, **_: x > 0,
    )
)
register(
    Op(
        "elu",
        GateKind.KILLER,
        "x if x > 0 else α(e^x - 1)",
        forward=lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
        vjp=(lambda g, out, x, alpha=1.0: g * np.where(x > 0, 1.0, out + alpha),),
        jvp=(lambda t, out, x, alpha=1.0: t * np.where(x > 0, 1.0, out + alpha),),
        shape=shapes.same,
        local=("1 if {0} > 0 else α·e^{0}",),
        attrs={"alpha": 1.0},
        analytic=False,
        kink=lambda x, alpha=1.0: np.abs(x) if alpha != 1.0 else np.full(np.shape(x), np.inf),
        branch=lambda x, alpha=1.0: x > 0 if alpha != 1.0 else np.ones(np.shape(x), bool),
    )
)
