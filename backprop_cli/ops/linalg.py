"""Matrix product: a switcher on whole matrices."""

from __future__ import annotations

import numpy as np

from . import shapes
from .table import GateKind, Op, register


def _as_matrices(g: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Promote 1-d operands to matrices the way @ does, and g to match."""
    a2 = a[None, :] if np.ndim(a) == 1 else a
    b2 = b[:, None] if np.ndim(b) == 1 else b
    g2 = g
    if np.ndim(a) == 1:
        g2 = np.expand_dims(g2, -2 if np.ndim(b) > 1 else -1)
    if np.ndim(b) == 1:
        g2 = np.expand_dims(g2, -1)
    return g2, a2, b2


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b. Complex operands (gradcheck's complex step) are multiplied as real parts: NumPy's complex
    matmul on stacks of matrices is many times slower than two or four real BLAS products."""
    if a.dtype.kind != "c" and b.dtype.kind != "c":  # real, the usual case (np.iscomplexobj costs more than a small @)
        return a @ b
    if not np.iscomplexobj(a):
        return a @ b.real + 1j * (a @ b.imag)
    if not np.iscomplexobj(b):
        return a.real @ b + 1j * (a.imag @ b)
    return a.real @ b.real - a.imag @ b.imag + 1j * (a.real @ b.imag + a.imag @ b.real)


def _vjp_a(g: np.ndarray, out: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.ndim(a) == 2 and np.ndim(b) == 2:  # plain matrices, the usual case: nothing to promote
        return g @ b.T
    g2, _, b2 = _as_matrices(g, a, b)
    ga = g2 @ np.swapaxes(b2, -1, -2)
    return ga[..., 0, :] if np.ndim(a) == 1 else ga


def _vjp_b(g: np.ndarray, out: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.ndim(a) == 2 and np.ndim(b) == 2:
        return a.T @ g
    g2, a2, _ = _as_matrices(g, a, b)
    gb = np.swapaxes(a2, -1, -2) @ g2
    return gb[..., :, 0] if np.ndim(b) == 1 else gb


register(
    Op(
        "matmul",
        GateKind.SWITCHER,
        "a @ b",
        forward=_product,
        vjp=(_vjp_a, _vjp_b),
        jvp=(lambda t, out, a, b: t @ b, lambda t, out, a, b: a @ t),
        shape=shapes.matmul,
        local=("{1}ᵀ", "{0}ᵀ"),
        tensor_rule=("{g} · {x1_T}", "{x0_T} · {g}"),
        independent=shapes.matmul_slices,
    )
)
