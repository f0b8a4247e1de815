"""Comparisons, masks and where: NumPy's x > 0, (x > 0) & (y < 1), ~m and where(m, a, b).

A comparison gives a mask of 0s and 1s (in the graph's dtype): flat in its operands except where they tie,
so no gradient flows back through it (its operands are read as labels are) and its ties are kinks. where
routes the whole gradient to the branch the mask chose and 0 to the other: a router, like max. Complex
numbers (the complex step) are compared by their real parts, so every piece stays analytic.
"""

from __future__ import annotations

import numpy as np

from . import shapes
from .table import GateKind, Kinks, Op, register


def _mask(holds: np.ndarray, *xs: np.ndarray) -> np.ndarray:
    """1.0 where it holds, else 0.0, in the operands' real floating dtype."""
    dtype = np.result_type(*(np.real(x) for x in xs))
    return np.asarray(holds, dtype if np.issubdtype(dtype, np.floating) else np.float64)


def chosen(m: np.ndarray) -> np.ndarray:
    """Where a mask (or any number, as NumPy reads it) holds: not 0."""
    return np.real(m) != 0


def _gap(a: np.ndarray, b: np.ndarray, **_: object) -> np.ndarray:
    return np.abs(np.real(a) - np.real(b))


# ---------------------------------------------------------------- comparisons: comparators, kinks at ties

COMPARISONS = {  # name: (symbol as written, as a diagram marks it, test)
    "greater": (">", ">", np.greater),
    "less": ("<", "<", np.less),
    "greater_equal": (">=", "≥", np.greater_equal),
    "less_equal": ("<=", "≤", np.less_equal),
    "equal": ("==", "==", np.equal),
    "not_equal": ("!=", "≠", np.not_equal),
}


def _comparison(name: str, symbol: str, mark: str, test) -> None:
    def holds(a: np.ndarray, b: np.ndarray, **_: object) -> np.ndarray:
        return test(np.real(a), np.real(b))

    register(
        Op(
            name,
            GateKind.COMPARATOR,
            f"a {symbol} b: 1 where it holds, else 0",
            forward=lambda a, b, broadcast=True: _mask(holds(a, b), a, b),
            vjp=(None, None),  # flat: the mask does not change as a and b move (off the ties)
            jvp=(None, None),
            shape=shapes.broadcast,
            local=("0 (a mask is flat)", "0 (a mask is flat)"),
            attrs={"broadcast": True},  # a row against a column is how masks are made: range(n) < lengths
            kinks=Kinks(piece=holds, distance=_gap),
            masks="always",
            symbol=mark,
        )
    )


for _name, (_symbol, _mark, _test) in COMPARISONS.items():
    _comparison(_name, _symbol, _mark, _test)

# ---------------------------------------------------------------- masks combined: &, | and ~

LOGICAL = {
    "logical_and": ("m & n: 1 where both hold", "&", np.logical_and),
    "logical_or": ("m | n", "|", np.logical_or),
}

for _name, (_formula, _mark, _test) in LOGICAL.items():
    register(
        Op(
            _name,
            GateKind.COMPARATOR,
            _formula,
            forward=lambda a, b, broadcast=False, test=_test: _mask(test(chosen(a), chosen(b)), a, b),
            vjp=(None, None),
            jvp=(None, None),
            shape=shapes.broadcast,
            local=("0 (a mask is flat)", "0 (a mask is flat)"),
            attrs={"broadcast": False},
            domain=("mask", "mask"),
            masks="always",
            symbol=_mark,
        )
    )
register(
    Op(
        "logical_not",
        GateKind.COMPARATOR,
        "~m: 1 where m is 0",
        forward=lambda m: _mask(~chosen(m), m),
        vjp=(None,),
        jvp=(None,),
        shape=shapes.same,
        local=("0 (a mask is flat)",),
        domain=("mask",),
        masks="always",
        symbol="~",
    )
)

# ---------------------------------------------------------------- where: a router between two branches


register(
    Op(
        "where",
        GateKind.ROUTER,
        "a where m holds, else b (a if m else b)",
        forward=lambda m, a, b, broadcast=False: np.where(chosen(m), a, b),
        vjp=(
            None,
            lambda g, out, m, a, b, **_: g * chosen(m),
            lambda g, out, m, a, b, **_: g * ~chosen(m),
        ),
        jvp=(
            None,
            lambda t, out, m, a, b, **_: t * chosen(m),
            lambda t, out, m, a, b, **_: t * ~chosen(m),
        ),
        shape=shapes.broadcast,
        local=("0 (the mask chooses)", "1[{0}]", "1[not {0}]"),
        attrs={"broadcast": False},
        domain=("mask",),
    )
)
