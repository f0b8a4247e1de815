"""Arithmetic and smooth elementwise functions."""

from __future__ import annotations

import numpy as np

from . import shapes
from .table import GateKind, Op, register

# ---------------------------------------------------------------- identity

register(
    Op(
        "identity",
        GateKind.WIRE,
        "x",
        forward=lambda x: np.array(x, copy=True),
        vjp=(lambda g, out, x: g,),
        jvp=(lambda t, out, x: t,),
        shape=shapes.same,
        local=("1",),
    )
)

# ---------------------------------------------------------------- arithmetic

register(
    Op(
        "add",
        GateKind.DISTRIBUTOR,
        "a + b",
        forward=lambda a, b, **_: a + b,
        vjp=(lambda g, out, a, b, **_: g, lambda g, out, a, b, **_: g),
        jvp=(lambda t, out, a, b, **_: t, lambda t, out, a, b, **_: t),
        shape=shapes.broadcast,
        local=("1", "1"),
        attrs={"broadcast": False},
    )
)
register(
    Op(
        "sub",
        GateKind.DISTRIBUTOR,
        "a - b",
        forward=lambda a, b, **_: a - b,
        vjp=(lambda g, out, a, b, **_: g, lambda g, out, a, b, **_: -g),
        jvp=(lambda t, out, a, b, **_: t, lambda t, out, a, b, **_: -t),
        shape=shapes.broadcast,
        local=("1", "-1"),
        attrs={"broadcast": False},
    )
)
register(
    Op(
        "mul",
        GateKind.SWITCHER,
        "a · b",
        forward=lambda a, b, **_: a * b,
        vjp=(lambda g, out, a, b, **_: g * b, lambda g, out, a, b, **_: g * a),
        jvp=(lambda t, out, a, b, **_: t * b, lambda t, out, a, b, **_: a * t),
        shape=shapes.broadcast,
        local=("{1}", "{0}"),
        attrs={"broadcast": False},
    )
)
register(
    Op(
        "div",
        GateKind.SCALER,
        "a / b",
        forward=lambda a, b, **_: a / b,
        vjp=(lambda g, out, a, b, **_: g / b, lambda g, out, a, b, **_: -g * out / b),
        jvp=(lambda t, out, a, b, **_: t / b, lambda t, out, a, b, **_: -t * out / b),
        shape=shapes.broadcast,
        local=("1/{1}", "-{0}/{1}²"),
        attrs={"broadcast": False},
        fault="divided by zero",
    )
)
register(
    Op(
        "neg",
        GateKind.SCALER,
        "-a",
        forward=lambda a: -a,
        vjp=(lambda g, out, a: -g,),
        jvp=(lambda t, out, a: -t,),
        shape=shapes.same,
        local=("-1",),
    )
)


def _power(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a ** b, with NumPy's fast paths (x², √x, 1/x) when the exponent is one real number."""
    if np.ndim(b) == 0 and not np.iscomplexobj(b):
        return a ** float(b)
    return a**b


def _power_vjp(g: np.ndarray, out: np.ndarray, a: np.ndarray, b: np.ndarray, **_: object) -> np.ndarray:
    """g · b·a^(b-1). For the square, a loss's usual power, the same numbers without computing a^1."""
    if np.ndim(b) == 0 and not np.iscomplexobj(b) and b == 2:
        return g * 2.0 * a
    return g * b * _power(a, b - 1)


def _log_base(a: np.ndarray) -> np.ndarray:
    return np.log(np.where(a > 0, a, np.nan)) if not np.iscomplexobj(a) else np.log(a)


def _power_words(base: str | float, exponent: str | float) -> str | None:
    """x ** 2 -> 2·x, x ** 3 -> 3·x^2: a constant exponent written out (None: the template says it)."""
    if isinstance(exponent, str):
        return None
    return f"{exponent:g}·{base}" + ("" if exponent == 2 else f"^{exponent - 1:g}")


register(
    Op(
        "pow",
        GateKind.SCALER,
        "a ** b",
        forward=lambda a, b, **_: _power(a, b),
        vjp=(
            _power_vjp,
            lambda g, out, a, b, **_: g * out * _log_base(a),
        ),  # d/db needs a > 0
        jvp=(lambda t, out, a, b, **_: t * b * _power(a, b - 1), lambda t, out, a, b, **_: t * out * _log_base(a)),
        shape=shapes.broadcast,
        local=("{1}·{0}^({1}-1)", "{0}^{1}·ln {0}"),
        local_words=lambda operands, i: _power_words(*operands) if i == 0 else None,
        attrs={"broadcast": False},
        fault="overflowed or took a fractional power of a negative number",
        domain=("positive", "real"),
    )
)

# ---------------------------------------------------------------- smooth unary functions

register(
    Op(
        "exp",
        GateKind.SCALER,
        "e^x",
        forward=np.exp,
        vjp=(lambda g, out, x: g * out,),
        jvp=(lambda t, out, x: t * out,),
        shape=shapes.same,
        local=("e^{0}",),
        fault="overflowed (e^x for x > 709)",
    )
)
register(
    Op(
        "log",
        GateKind.SCALER,
        "ln x",
        forward=np.log,
        vjp=(lambda g, out, x: g / x,),
        jvp=(lambda t, out, x: t / x,),
        shape=shapes.same,
        local=("1/{0}",),
        fault="took the log of a number ≤ 0",
        domain=("positive",),
    )
)
register(
    Op(
        "sqrt",
        GateKind.SCALER,
        "√x",
        forward=np.sqrt,
        vjp=(lambda g, out, x: g / (2 * out),),
        jvp=(lambda t, out, x: t / (2 * out),),
        shape=shapes.same,
        local=("1/(2√{0})",),
        fault="took the square root of a negative number (or its slope at 0)",
        domain=("positive",),
    )
)
register(
    Op(
        "abs",
        GateKind.SCALER,
        "|x|",
        forward=np.abs,
        vjp=(lambda g, out, x: g * np.sign(x),),
        jvp=(lambda t, out, x: t * np.sign(x),),
        shape=shapes.same,
        local=("sign({0})",),
        analytic=False,
        kink=lambda x: np.abs(x),
        branch=lambda x: x > 0,
    )
)
register(
    Op(
        "sin",
        GateKind.SCALER,
        "sin x",
        forward=np.sin,
        vjp=(lambda g, out, x: g * np.cos(x),),
        jvp=(lambda t, out, x: t * np.cos(x),),
        shape=shapes.same,
        local=("cos {0}",),
    )
)
register(
    Op(
        "cos",
        GateKind.SCALER,
        "cos x",
        forward=np.cos,
        vjp=(lambda g, out, x: -g * np.sin(x),),
        jvp=(lambda t, out, x: -t * np.sin(x),),
        shape=shapes.same,
        local=("-sin {0}",),
    )
)

# ---------------------------------------------------------------- two operands: max and min route

register(
    Op(
        "maximum",
        GateKind.ROUTER,
        "max(a, b)",
        forward=lambda a, b, **_: np.maximum(a, b),
        vjp=(
            lambda g, out, a, b, **_: g * (a >= b),  # a tie goes to the first operand
            lambda g, out, a, b, **_: g * (a < b),
        ),
        jvp=(lambda t, out, a, b, **_: t * (a >= b), lambda t, out, a, b, **_: t * (a < b)),
        shape=shapes.broadcast,
        local=("1[{0} ≥ {1}]", "1[{1} > {0}]"),
        attrs={"broadcast": False},
        analytic=False,
        kink=lambda a, b, **_: np.abs(a - b),
        branch=lambda a, b, **_: a >= b,
    )
)
register(
    Op(
        "minimum",
        GateKind.ROUTER,
        "min(a, b)",
        forward=lambda a, b, **_: np.minimum(a, b),
        vjp=(lambda g, out, a, b, **_: g * (a <= b), lambda g, out, a, b, **_: g * (a > b)),
        jvp=(lambda t, out, a, b, **_: t * (a <= b), lambda t, out, a, b, **_: t * (a > b)),
        shape=shapes.broadcast,
        local=("1[{0} ≤ {1}]", "1[{1} < {0}]"),
        attrs={"broadcast": False},
        analytic=False,
        kink=lambda a, b, **_: np.abs(a - b),
        branch=lambda a, b, **_: a <= b,
    )
)
