"""Arithmetic and smooth elementwise functions."""

from __future__ import annotations

import numpy as np

from . import shapes
from .table import GateKind, Kinks, Op, elementwise, register

# ---------------------------------------------------------------- identity and arithmetic
# add, sub, neg and identity hand g on without a multiplication (reverse mode passes g itself along)

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
        symbol="=",
        masks="passes",
    )
)
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
        symbol="+",
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
        symbol="−",
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
        symbol="−x",
    )
)
elementwise(
    "mul",
    GateKind.SWITCHER,
    "a · b",
    lambda a, b, **_: a * b,
    (lambda out, a, b, **_: b, lambda out, a, b, **_: a),
    local=("{1}", "{0}"),
    symbol="×",
)
elementwise(
    "div",
    GateKind.SCALER,
    "a / b",
    lambda a, b, **_: a / b,
    (lambda out, a, b, **_: 1 / b, lambda out, a, b, **_: -out / b),
    local=("1/{1}", "-{0}/{1}²"),
    fault="divided by zero",
    domain=("real", "nonzero"),
    symbol="÷",
)


def _power(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a ** b, with NumPy's fast paths (x², √x, 1/x) when the exponent is one real number."""
    if np.ndim(b) == 0 and not np.iscomplexobj(b):
        return a ** float(b)
    return a**b


def _power_slope(out: np.ndarray, a: np.ndarray, b: np.ndarray, **_: object) -> np.ndarray:
    """b·a^(b-1). For the square, a loss's usual power, 2·a without computing a^1."""
    if np.ndim(b) == 0 and not np.iscomplexobj(b) and b == 2:
        return 2.0 * a
    return b * _power(a, b - 1)


def _log_base(a: np.ndarray) -> np.ndarray:
    return np.log(np.where(a > 0, a, np.nan)) if not np.iscomplexobj(a) else np.log(a)


def _power_words(base: str | float, exponent: str | float) -> str | None:
    """x ** 2 -> 2·x, x ** 3 -> 3·x^2: a constant exponent written out (None: the template says it)."""
    if isinstance(exponent, str):
        return None
    return f"{exponent:g}·{base}" + ("" if exponent == 2 else f"^{exponent - 1:g}")


elementwise(
    "pow",
    GateKind.SCALER,
    "a ** b",
    lambda a, b, **_: _power(a, b),
    (_power_slope, lambda out, a, b, **_: out * _log_base(a)),  # d/db needs a > 0
    local=("{1}·{0}^({1}-1)", "{0}^{1}·ln {0}"),
    local_words=lambda operands, i: _power_words(*operands) if i == 0 else None,
    fault="overflowed or took a fractional power of a negative number",
    domain=("positive", "real"),
    symbol="xⁿ",
)
elementwise("square", GateKind.SCALER, "x²", np.square, (lambda out, x: 2 * x,), local=("2·{0}",), symbol="x²")

# ---------------------------------------------------------------- exponentials and logarithms

LN2, LN10 = np.log(2.0), np.log(10.0)

elementwise(
    "exp", GateKind.SCALER, "e^x", np.exp, (lambda out, x: out,), ("e^{0}",), fault="overflowed (e^x for x > 709)"
)
elementwise("exp2", GateKind.SCALER, "2^x", np.exp2, (lambda out, x: out * LN2,), ("2^{0}·ln 2",), fault="overflowed")
elementwise(
    "expm1",
    GateKind.SCALER,
    "e^x - 1",
    np.expm1,
    (lambda out, x: np.exp(x),),  # not out + 1: where e^x ≪ 1 that sum is all rounding
    ("e^{0}",),
    fault="overflowed (e^x for x > 709)",
)
elementwise(
    "log",
    GateKind.SCALER,
    "ln x",
    np.log,
    (lambda out, x: 1 / x,),
    ("1/{0}",),
    fault="took the log of a number ≤ 0",
    domain=("positive",),
)
elementwise(
    "log2",
    GateKind.SCALER,
    "log₂ x",
    np.log2,
    (lambda out, x: 1 / (x * LN2),),
    ("1/({0}·ln 2)",),
    fault="took the log of a number ≤ 0",
    domain=("positive",),
)
elementwise(
    "log10",
    GateKind.SCALER,
    "log₁₀ x",
    np.log10,
    (lambda out, x: 1 / (x * LN10),),
    ("1/({0}·ln 10)",),
    fault="took the log of a number ≤ 0",
    domain=("positive",),
)
elementwise(
    "log1p",
    GateKind.SCALER,
    "ln(1 + x)",
    np.log1p,
    (lambda out, x: 1 / (1 + x),),
    ("1/(1 + {0})",),
    fault="took ln(1 + x) of a number ≤ -1",
    domain=("above_minus_one",),
)
elementwise(
    "sqrt",
    GateKind.SCALER,
    "√x",
    np.sqrt,
    (lambda out, x: 1 / (2 * out),),
    ("1/(2√{0})",),
    fault="took the square root of a negative number (or its slope at 0)",
    domain=("positive",),
    symbol="√",
)

# ---------------------------------------------------------------- trigonometric and hyperbolic

elementwise("sin", GateKind.SCALER, "sin x", np.sin, (lambda out, x: np.cos(x),), ("cos {0}",))
elementwise("cos", GateKind.SCALER, "cos x", np.cos, (lambda out, x: -np.sin(x),), ("-sin {0}",))
elementwise(
    "tan",
    GateKind.SCALER,
    "tan x",
    np.tan,
    (lambda out, x: 1 + out**2,),
    ("1 + tan²{0}",),
    fault="hit a pole of tan (x = π/2 + kπ)",
    domain=("off_poles",),
)
elementwise(
    "arcsin",
    GateKind.SCALER,
    "arcsin x",
    np.arcsin,
    (lambda out, x: 1 / np.sqrt(1 - x**2),),
    ("1/√(1 - {0}²)",),
    fault="took arcsin of a number outside [-1, 1] (or its slope at ±1)",
    domain=("unit",),
)
elementwise(
    "arccos",
    GateKind.SCALER,
    "arccos x",
    np.arccos,
    (lambda out, x: -1 / np.sqrt(1 - x**2),),
    ("-1/√(1 - {0}²)",),
    fault="took arccos of a number outside [-1, 1] (or its slope at ±1)",
    domain=("unit",),
)
elementwise("arctan", GateKind.SCALER, "arctan x", np.arctan, (lambda out, x: 1 / (1 + x**2),), ("1/(1 + {0}²)",))
elementwise("sinh", GateKind.SCALER, "sinh x", np.sinh, (lambda out, x: np.cosh(x),), ("cosh {0}",), fault="overflowed")
elementwise("cosh", GateKind.SCALER, "cosh x", np.cosh, (lambda out, x: np.sinh(x),), ("sinh {0}",), fault="overflowed")
elementwise(
    "arcsinh", GateKind.SCALER, "arsinh x", np.arcsinh, (lambda out, x: 1 / np.sqrt(x**2 + 1),), ("1/√({0}² + 1)",)
)
elementwise(
    "arccosh",
    GateKind.SCALER,
    "arcosh x",
    np.arccosh,
    (lambda out, x: 1 / np.sqrt(x**2 - 1),),
    ("1/√({0}² - 1)",),
    fault="took arccosh of a number < 1 (or its slope at 1)",
    domain=("above_one",),
)
elementwise(
    "arctanh",
    GateKind.SCALER,
    "artanh x",
    np.arctanh,
    (lambda out, x: 1 / (1 - x**2),),
    ("1/(1 - {0}²)",),
    fault="took arctanh of a number outside (-1, 1)",
    domain=("unit",),
)

# ---------------------------------------------------------------- kinks at 0: abs, sign (and relu's kin)


def _positive(x: np.ndarray, *_: object, **__: object) -> np.ndarray:
    return x > 0


def _distance_to_zero(x: np.ndarray, *_: object, **__: object) -> np.ndarray:
    return np.abs(x)


AT_ZERO = Kinks(piece=_positive, distance=_distance_to_zero)  # the first operand bends at 0


def _real_sign(x: np.ndarray) -> np.ndarray:
    """sign x; of a complex number, its real part's: each piece continued analytically (x or -x), not x/|x|."""
    return np.sign(np.real(x)) if np.iscomplexobj(x) else np.sign(x)


def _abs(x: np.ndarray) -> np.ndarray:
    """|x|; of a complex number, x or -x by its real part's sign (|x| itself, the modulus, is not analytic)."""
    return np.where(np.real(x) >= 0, x, -x) if np.iscomplexobj(x) else np.abs(x)


elementwise(
    "abs",
    GateKind.SCALER,
    "|x|",
    _abs,
    (lambda out, x: _real_sign(x),),
    ("sign({0})",),
    kinks=AT_ZERO,
    symbol="|x|",
)
elementwise(
    "sign",
    GateKind.SCALER,
    "sign x (-1, 0 or 1)",
    _real_sign,
    (lambda out, x: np.zeros_like(x),),
    ("0 (a step at 0)",),
    kinks=AT_ZERO,
)

# ---------------------------------------------------------------- max and min of operands, clip: routers


def _first_wins(a: np.ndarray, b: np.ndarray, **_: object) -> np.ndarray:
    return a >= b  # maximum: a tie goes to the first operand


def _first_lower(a: np.ndarray, b: np.ndarray, **_: object) -> np.ndarray:
    return a <= b


def _gap(a: np.ndarray, b: np.ndarray, **_: object) -> np.ndarray:
    return np.abs(a - b)


elementwise(
    "maximum",
    GateKind.ROUTER,
    "max(a, b)",
    lambda a, b, **_: np.maximum(a, b),
    (lambda out, a, b, **_: _first_wins(a, b), lambda out, a, b, **_: ~_first_wins(a, b)),
    local=("1[{0} ≥ {1}]", "1[{1} > {0}]"),
    kinks=Kinks(piece=_first_wins, distance=_gap),
    symbol="max",
)
elementwise(
    "minimum",
    GateKind.ROUTER,
    "min(a, b)",
    lambda a, b, **_: np.minimum(a, b),
    (lambda out, a, b, **_: _first_lower(a, b), lambda out, a, b, **_: ~_first_lower(a, b)),
    local=("1[{0} ≤ {1}]", "1[{1} < {0}]"),
    kinks=Kinks(piece=_first_lower, distance=_gap),
    symbol="min",
)


def _clip_winner(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, **_: object) -> np.ndarray:
    """Which operand min(max(x, lo), hi) is: 0 for lo, 1 for x, 2 for hi (ties as maximum and minimum break them)."""
    return np.where(np.maximum(x, lo) > hi, 2, np.where(x >= lo, 1, 0))


def _clip_distance(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, **_: object) -> np.ndarray:
    return np.minimum(np.minimum(np.abs(x - lo), np.abs(x - hi)), np.abs(lo - hi))


elementwise(
    "clip",
    GateKind.ROUTER,
    "min(max(x, lo), hi)",
    lambda x, lo, hi, **_: np.minimum(np.maximum(x, lo), hi),
    tuple((lambda out, *xs, k=k, **_: _clip_winner(*xs) == k) for k in (1, 0, 2)),
    local=("1[{1} ≤ {0} ≤ {2}]", "1[{0} < {1} ≤ {2}]", "1[max({0}, {1}) > {2}]"),
    kinks=Kinks(piece=_clip_winner, distance=_clip_distance),
)

# ---------------------------------------------------------------- stop_gradient


def _constant(x: np.ndarray) -> np.ndarray:
    """x itself, as a constant: a complex step does not pass either (its imaginary part is dropped)."""
    return np.array(np.real(x) if np.iscomplexobj(x) else x, copy=True)


register(
    Op(
        "stop_gradient",
        GateKind.STOPPER,
        "x, treated as a constant",
        forward=_constant,
        vjp=(lambda g, out, x: np.zeros(np.shape(x), np.result_type(g, x)),),
        jvp=(lambda t, out, x: np.zeros(np.shape(out), np.result_type(t, out)),),
        shape=shapes.same,
        local=("0 (stopped)",),
        masks="passes",
    )
)
