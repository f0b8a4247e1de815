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
    """a @ b. Plain matrices go straight to BLAS. Stacks of matrices (gradcheck's batched evaluations) and
    complex operands (its complex step) go through _batched_product: NumPy's complex matmul on stacks is
    many times slower than real BLAS products, and a batch of perturbed copies is mostly the same matrix."""
    if a.dtype.kind != "c" and b.dtype.kind != "c" and (np.ndim(a) < 3 and np.ndim(b) < 3):
        return a @ b  # the usual case (np.iscomplexobj costs more than a small @)
    return _batched_product(a, b)


SPARSE = 1 / 256  # a batched operand with at most this share of nonzeros is multiplied element by element


def _batched_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b as real products. Per real or imaginary part of the batched operand (the one with a leading batch
    axis): a part whose batch items are all the same matrix (the complex step's real parts) is multiplied
    once; a part that is almost all zeros (one-hot perturbations and tangents) is multiplied by its nonzeros."""
    a, b = np.asarray(a), np.asarray(b)
    if np.ndim(a) == 2 and np.ndim(b) >= 3 and not np.iscomplexobj(a):  # a real matrix times each part
        parts = [_stack_times(a, part, left=True) for part in _parts(b)]
    elif np.ndim(b) == 2 and np.ndim(a) >= 3 and not np.iscomplexobj(b):
        parts = [_stack_times(b, part, left=False) for part in _parts(a)]
    elif not np.iscomplexobj(a):
        parts = [a @ part for part in _parts(b)]
    elif not np.iscomplexobj(b):
        parts = [part @ b for part in _parts(a)]
    else:
        return a.real @ b.real - a.imag @ b.imag + 1j * (a.real @ b.imag + a.imag @ b.real)
    if len(parts) == 1:
        return parts[0]
    out = np.empty(np.broadcast_shapes(parts[0].shape, parts[1].shape), np.result_type(a, b))
    out.real, out.imag = parts
    return out


def _parts(x: np.ndarray) -> list[np.ndarray]:
    return [x.real, x.imag] if np.iscomplexobj(x) else [x]


def _stack_times(m: np.ndarray, stack: np.ndarray, left: bool) -> np.ndarray:
    """m @ stack[k] (left) or stack[k] @ m for every batch item k of a real stack of matrices (batch axes first)."""
    batch = stack.shape[:-2]
    if stack.shape[0] > 1 and (stack == stack[:1]).all():  # the same matrix in every item: one product
        one = m @ stack[0] if left else stack[0] @ m
        return np.broadcast_to(one, (*batch, *one.shape[-2:]))
    mask = stack != 0  # contiguous, unlike a complex array's imaginary part: counted and searched fast
    if np.count_nonzero(mask) > SPARSE * stack.size:
        return m @ stack if left else stack @ m
    flat = np.flatnonzero(mask)
    index = np.unravel_index(flat, stack.shape)
    items, i, j = np.ravel_multi_index(index[:-2], batch), index[-2], index[-1]
    values = stack[index]
    if left:  # out[k, :, j] += m[:, i] * value
        out = np.zeros((int(np.prod(batch)), stack.shape[-1], m.shape[0]), np.result_type(m, stack))
        np.add.at(out, (items, j), values[:, None] * m[:, i].T)
        return np.swapaxes(out, -1, -2).reshape(*batch, m.shape[0], stack.shape[-1])
    # out[k, i, :] += value · m[j, :]
    out = np.zeros((int(np.prod(batch)), stack.shape[-2], m.shape[1]), np.result_type(m, stack))
    np.add.at(out, (items, i), values[:, None] * m[j])
    return out.reshape(*batch, stack.shape[-2], m.shape[1])


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
        jvp=(lambda t, out, a, b: _product(t, b), lambda t, out, a, b: _product(a, t)),
        shape=shapes.matmul,
        local=("{1}ᵀ", "{0}ᵀ"),
        tensor_rule=("{g} · {x1_T}", "{x0_T} · {g}"),
        independent=shapes.matmul_slices,
        symbol="@",
    )
)
