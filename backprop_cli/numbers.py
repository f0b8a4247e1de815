"""How values, gradients and shapes are written for people and for JSON."""

from __future__ import annotations

import numpy as np

from .ops.shapes import fmt

__all__ = ["fmt", "is_number", "number", "numbers_text", "summary", "to_json"]


def is_number(text: str) -> bool:
    """Whether text reads as a number (as float() reads it: 3, -1.5e3, inf, nan)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def number(x: float) -> str:
    """Short, exact-looking numbers: 24, -0.2, 0.731059."""
    x = float(x)
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


def summary(value: np.ndarray, full: bool = False, small: int = 4) -> str:
    """A scalar as a number; a tensor of up to `small` elements (any size with full) as its numbers, nested
    like the tensor, with its shape after it when it is not a vector; a bigger one as its shape and summary."""
    value = np.asarray(value)
    if value.ndim == 0:
        return number(value)
    if value.size == 0:
        return f"{fmt(value.shape)} empty"
    if full or value.size <= small:
        return numbers_text(value) + (f" {fmt(value.shape)}" if value.ndim > 1 else "")
    norm = float(np.linalg.norm(value))
    return f"{fmt(value.shape)} ‖·‖={number(norm)} min={number(value.min())} max={number(value.max())}"


def numbers_text(value: np.ndarray, element=number) -> str:
    """[[1, 2], [3, 4.5]]: every element as number() (or `element`) writes it, nested like the tensor (no recursion)."""
    flat = [element(v) for v in value.ravel()]
    for size in reversed(value.shape):
        flat = ["[" + ", ".join(flat[k : k + size]) + "]" for k in range(0, len(flat), size)] if size else ["[]"]
    return flat[0] if flat else "[]"


def to_json(value: np.ndarray) -> float | list:
    """A number or a nested list; NaN and inf (which JSON lacks) as strings."""
    value = np.asarray(value)
    if not np.all(np.isfinite(value)):
        return np.vectorize(lambda v: float(v) if np.isfinite(v) else str(v), otypes=[object])(value).tolist()
    return float(value) if value.ndim == 0 else value.astype(float).tolist()
