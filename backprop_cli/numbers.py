"""How values, gradients and shapes are written for people and for JSON."""

from __future__ import annotations

import numpy as np

from .ops.shapes import fmt

__all__ = ["fmt", "number", "summary", "to_json"]


def number(x: float) -> str:
    """Short, exact-looking numbers: 24, -0.2, 0.731059."""
    x = float(x)
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


def summary(value: np.ndarray, full: bool = False) -> str:
    """A scalar as a number; a tensor as its shape and a short summary (or all of it with full)."""
    value = np.asarray(value)
    if value.ndim == 0:
        return number(value)
    if full:
        return np.array2string(value, precision=6, threshold=np.inf, max_line_width=120)
    if value.size == 0:
        return f"{fmt(value.shape)} empty"
    if value.size <= 4:
        return (
            "[" + ", ".join(number(v) for v in value.ravel()) + "]" + (f" {fmt(value.shape)}" if value.ndim > 1 else "")
        )
    norm = float(np.linalg.norm(value))
    return f"{fmt(value.shape)} ‖·‖={number(norm)} min={number(value.min())} max={number(value.max())}"


def to_json(value: np.ndarray) -> float | list:
    """A number or a nested list; NaN and inf (which JSON lacks) as strings."""
    value = np.asarray(value)
    if not np.all(np.isfinite(value)):
        return np.vectorize(lambda v: float(v) if np.isfinite(v) else str(v), otypes=[object])(value).tolist()
    return float(value) if value.ndim == 0 else value.astype(float).tolist()
