"""Losses: the gates where the gradient starts. Each reduces to a scalar mean."""

from __future__ import annotations

import numpy as np

from ..errors import EvaluationError
from . import shapes
from .activations import sigmoid, softplus
from .reductions import log_softmax, softmax
from .table import GateKind, Kinks, Op, register


def _labels(labels: np.ndarray, classes: int) -> np.ndarray:
    idx = np.asarray(labels).real
    if not np.all(np.isfinite(idx)) or np.any(idx != np.round(idx)) or np.any((idx < 0) | (idx >= classes)):
        raise EvaluationError(f"labels must be whole numbers from 0 to {classes - 1}")
    return idx.astype(np.intp)


def _picked(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """x[i, label_i] for every row i (or x[label] for one row)."""
    idx = _labels(labels, np.shape(x)[-1])
    return np.take_along_axis(x, idx[..., None], axis=-1)[..., 0]


def _onehot(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    idx = _labels(labels, np.shape(x)[-1])
    out = np.zeros(np.shape(x))
    np.put_along_axis(out, idx[..., None], 1.0, axis=-1)
    return out


def _rows(x: np.ndarray) -> int:
    return np.shape(x)[0] if np.ndim(x) == 2 else 1


def _ce_grad(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return (softmax(logits) - _onehot(logits, labels)) / _rows(logits)


def _svm_margins(s: np.ndarray, labels: np.ndarray, margin: float) -> np.ndarray:
    m = s - _picked(s, labels)[..., None] + margin
    return np.where(_onehot(s, labels) > 0, 0.0, m)


def _svm_grad(s: np.ndarray, labels: np.ndarray, margin: float) -> np.ndarray:
    active = (_svm_margins(s, labels, margin) > 0).astype(float)
    return (active - _onehot(s, labels) * np.sum(active, axis=-1, keepdims=True)) / _rows(s)


def _hinge_active(s: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (1 - y * s) > 0


def _log_loss(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log(1 + e^z) - y·z without its cancellation: at z = 10, y = 1 it is 4.5e-5 from terms of size 10, whose
    rounding (1e-15) the numerical reference would then read as the function's (a false FAIL at 1e-6). For z > 0
    it is log(1 + e^-z) + (1 - y)·z; the softplus argument is never positive (no overflow, complex steps too)."""
    positive = np.real(z) > 0
    return softplus(np.where(positive, -z, z)) + np.where(positive, (1 - y) * z, -y * z)


def _size(x: np.ndarray) -> int:
    return max(np.size(x), 1)


register(
    Op(
        "mse",
        GateKind.LOSS,
        "mean((p - t)²)",
        forward=lambda p, t: np.mean((p - t) ** 2),
        vjp=(lambda g, out, p, t: g * 2 * (p - t) / _size(p), lambda g, out, p, t: -g * 2 * (p - t) / _size(p)),
        jvp=(
            lambda tp, out, p, t: np.sum(2 * (p - t) * tp) / _size(p),
            lambda tt, out, p, t: -np.sum(2 * (p - t) * tt) / _size(p),
        ),
        shape=shapes.equal_shapes,
        local=("2({0} - {1})/n", "-2({0} - {1})/n"),
    )
)
register(
    Op(
        "cross_entropy",
        GateKind.LOSS,
        "mean(-log softmax(z)[label])",
        forward=lambda z, labels: -np.mean(_picked(log_softmax(z), labels)),
        vjp=(lambda g, out, z, labels: g * _ce_grad(z, labels), None),
        jvp=(lambda t, out, z, labels: np.sum(_ce_grad(z, labels) * t), None),
        shape=shapes.class_scores,
        local=("(softmax({0}) - onehot({1}))/N", "none (class labels are not differentiated)"),
        domain=("real", "labels"),
    )
)
register(
    Op(
        "multiclass_hinge",
        GateKind.LOSS,
        "mean(Σ_{j≠y} max(0, s_j - s_y + Δ))",
        forward=lambda s, labels, margin=1.0: np.sum(np.maximum(_svm_margins(s, labels, margin), 0)) / _rows(s),
        vjp=(lambda g, out, s, labels, margin=1.0: g * _svm_grad(s, labels, margin), None),
        jvp=(lambda t, out, s, labels, margin=1.0: np.sum(_svm_grad(s, labels, margin) * t), None),
        shape=shapes.class_scores,
        local=("1[margin > 0] - count·onehot({1}), over N", "none (class labels are not differentiated)"),
        attrs={"margin": 1.0},
        kinks=Kinks(
            piece=lambda s, labels, margin=1.0: _svm_margins(s, labels, margin) > 0,
            distance=lambda s, labels, margin=1.0: np.abs(
                np.where(_onehot(s, labels) > 0, np.inf, s - _picked(s, labels)[..., None] + margin)
            ),
        ),
        domain=("real", "labels"),
    )
)
register(
    Op(
        "hinge",
        GateKind.LOSS,
        "mean(max(0, 1 - y·s)), y = ±1",
        forward=lambda s, y: np.mean(np.maximum(0, 1 - y * s)),
        vjp=(
            lambda g, out, s, y: -g * y * _hinge_active(s, y) / _size(s),
            lambda g, out, s, y: -g * s * _hinge_active(s, y) / _size(s),
        ),
        jvp=(
            lambda t, out, s, y: -np.sum(t * y * _hinge_active(s, y)) / _size(s),
            lambda t, out, s, y: -np.sum(t * s * _hinge_active(s, y)) / _size(s),
        ),
        shape=shapes.equal_shapes,
        local=("-{1}·1[{1}{0} < 1]/n", "-{0}·1[{1}{0} < 1]/n"),
        kinks=Kinks(piece=_hinge_active, distance=lambda s, y: np.abs(1 - y * s)),
        domain=("real", "sign"),
    )
)
register(
    Op(
        "log_loss",
        GateKind.LOSS,
        "mean(log(1 + e^z) - y·z), y ∈ {0, 1}",
        forward=lambda z, y: np.mean(_log_loss(z, y)),
        vjp=(lambda g, out, z, y: g * (sigmoid(z) - y) / _size(z), lambda g, out, z, y: -g * z / _size(z)),
        jvp=(
            lambda t, out, z, y: np.sum((sigmoid(z) - y) * t) / _size(z),
            lambda t, out, z, y: -np.sum(z * t) / _size(z),
        ),
        shape=shapes.equal_shapes,
        local=("(σ({0}) - {1})/n", "-{0}/n"),
        domain=("real", "binary"),
    )
)
