"""Convolution and max pooling on (N, C, H, W) or (C, H, W) images.

Both work on a strided view of every window (no copies going forward); going back,
the gradient of each window position is added into place, one kernel offset at a time.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import shapes
from .table import GateKind, Kinks, Op, register


def _batched(x: np.ndarray) -> np.ndarray:
    return x[None] if np.ndim(x) == 3 else x


def _unbatched_like(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return y[0] if np.ndim(x) == 3 else y


def _windows(x: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> np.ndarray:
    """(N, C, OH, OW, KH, KW) view of every window."""
    xb = _batched(x)
    if padding:
        xb = np.pad(xb, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return sliding_window_view(xb, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


def _scatter(cols: np.ndarray, x: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """Adjoint of _windows: add (N, C, OH, OW, KH, KW) window values back into x's shape."""
    n, c, oh, ow, kh, kw = cols.shape
    h, w = np.shape(x)[-2:]
    out = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride] += cols[..., i, j]
    out = out[:, :, padding : padding + h, padding : padding + w]
    return _unbatched_like(out, x)


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: int = 1, padding: int = 0) -> np.ndarray:
    if np.iscomplexobj(x) or np.iscomplexobj(w):  # gradcheck's complex step: real BLAS products, not complex einsum
        real = conv2d(x.real, w.real, None if b is None else b.real, stride, padding)
        imag = conv2d(x.imag, w.real, None if b is None else b.imag, stride, padding)
        if np.iscomplexobj(w):
            real = real - conv2d(x.imag, w.imag, None, stride, padding)
            imag = imag + conv2d(x.real, w.imag, None, stride, padding)
        return real + 1j * imag
    cols = _windows(x, w.shape[2], w.shape[3], stride, padding)
    out = np.moveaxis(np.tensordot(cols, w, axes=([1, 4, 5], [1, 2, 3])), -1, 1)  # tensordot: no einsum planning
    if b is not None:
        out = out + b[:, None, None]
    return _unbatched_like(out, x)


def _conv_vjp_x(g, out, x, w, b=None, stride=1, padding=0):
    cols = np.moveaxis(np.tensordot(_batched(g), w, axes=([1], [0])), 3, 1)  # (n, c, h, w, i, j)
    return _scatter(cols, x, stride, padding)


def _conv_vjp_w(g, out, x, w, b=None, stride=1, padding=0):
    cols = _windows(x, w.shape[2], w.shape[3], stride, padding)
    return np.tensordot(_batched(g), cols, axes=([0, 2, 3], [0, 2, 3]))


def _conv_vjp_b(g, out, x, w, b=None, stride=1, padding=0):
    return np.sum(_batched(g), axis=(0, 2, 3))


register(
    Op(
        "conv2d",
        GateKind.SWITCHER,
        "Σ_c,i,j w[f,c,i,j] · x[c, s·h+i, s·w+j] + b[f]",
        forward=conv2d,
        vjp=(_conv_vjp_x, _conv_vjp_w, _conv_vjp_b),
        jvp=(
            lambda t, out, x, w, b=None, stride=1, padding=0: conv2d(t, w, None, stride, padding),
            lambda t, out, x, w, b=None, stride=1, padding=0: conv2d(x, t, None, stride, padding),
            lambda t, out, x, w, b=None, stride=1, padding=0: np.broadcast_to(t[:, None, None], np.shape(out)),
        ),
        shape=shapes.conv2d,
        local=("{1} slid over the image (weights shared)", "{0} windows", "1 per position"),
        attrs={"stride": 1, "padding": 0},
        min_args=2,
        independent=shapes.conv2d_slices,
    )
)

# ---------------------------------------------------------------- max pooling routes


def _flat_windows(cols: np.ndarray) -> np.ndarray:
    """(N, C, OH, OW, KH·KW): sizes written out, as -1 cannot be worked out for an empty batch."""
    return cols.reshape(*cols.shape[:4], cols.shape[4] * cols.shape[5])


def _pool_windows(x: np.ndarray, size: int, stride: int | None) -> np.ndarray:
    return _windows(x, size, size, size if stride is None else stride, 0)


def _pool_mask(x: np.ndarray, size: int, stride: int | None) -> np.ndarray:
    """One-hot of the first maximum of each window: the winner takes the whole gradient."""
    cols = _pool_windows(x, size, stride)
    flat = _flat_windows(cols)
    mask = np.zeros(flat.shape)
    np.put_along_axis(mask, np.argmax(flat, axis=-1)[..., None], 1.0, axis=-1)
    return mask.reshape(cols.shape)


def max_pool2d(x: np.ndarray, size: int = 2, stride: int | None = None) -> np.ndarray:
    return _unbatched_like(np.max(_pool_windows(x, size, stride), axis=(4, 5)), x)


def _pool_vjp(g, out, x, size=2, stride=None):
    cols = _pool_mask(x, size, stride) * _batched(g)[..., None, None]
    return _scatter(cols, x, size if stride is None else stride, 0)


def _pool_jvp(t, out, x, size=2, stride=None):
    picked = _pool_mask(x, size, stride) * _pool_windows(t, size, stride)
    return _unbatched_like(np.sum(picked, axis=(4, 5)), x)


def _pool_kink(x, size=2, stride=None):
    """Gap between each window's best and second best: a tie is a kink."""
    cols = _pool_windows(x, size, stride)
    flat = np.sort(_flat_windows(cols), axis=-1)
    gap = flat[..., -1] - flat[..., -2] if flat.shape[-1] > 1 else np.full(flat.shape[:-1], np.inf)
    return gap


register(
    Op(
        "max_pool2d",
        GateKind.ROUTER,
        "max over each size×size window",
        forward=max_pool2d,
        vjp=(_pool_vjp,),
        jvp=(_pool_jvp,),
        shape=shapes.pool2d,
        local=("1[x is its window's max]",),
        attrs={"size": 2, "stride": None},
        kinks=Kinks(piece=_pool_mask, distance=_pool_kink),
    )
)
