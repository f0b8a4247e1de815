"""How values, gradients and shapes are written for people and for JSON."""

from __future__ import annotations

import re

import numpy as np

from .ops.shapes import fmt

__all__ = ["base_60", "fits", "fmt", "is_number", "number", "numbers_text", "rounded", "summary", "to_json"]

# YAML 1.1 reads 1:30 as 90 (base 60, for times); nobody writing a graph means that
BASE_60 = re.compile(r"(?<![\w.:])[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?(?![\w.:])")


def base_60(text: str) -> str | None:
    """The message for a YAML 1.1 base-60 number in text (`1:30`, which YAML 1.1 reads as 90), else None."""
    found = BASE_60.search(text)
    if found is None:
        return None
    written = found.group()
    sign = -1 if written.startswith("-") else 1
    value = 0.0
    for part in written.lstrip("+-").replace("_", "").split(":"):
        value = value * 60 + float(part)
    return (
        f"{written} is a YAML 1.1 base-60 number (it would read as {number(sign * value)}): write the number you "
        "mean, or quote it if it is text"
    )


TEACHER_DIGITS = 2  # significant digits a lecture writes on a figure: 0.20, -0.39, 0.73


def is_number(text: str) -> bool:
    """Whether text reads as a number (as float() reads it: 3, -1.5e3, inf, nan)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def fits(value: np.ndarray, dtype: np.dtype) -> bool:
    """Whether value's finite numbers stay finite in dtype (float32 ends at ±3.4e38)."""
    if np.dtype(dtype).itemsize >= 8 or value.dtype.kind != "f" or value.dtype.itemsize <= np.dtype(dtype).itemsize:
        return True
    with np.errstate(invalid="ignore"):
        return not np.any(np.isfinite(value) & (np.abs(value) > np.finfo(dtype).max))


def number(x: float) -> str:
    """Short, exact-looking numbers: 24, -0.2, 0.731059."""
    x = float(x)
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


def rounded(x: float, digits: int = TEACHER_DIGITS) -> str:
    """A number as a teacher writes it on a figure: `digits` significant digits, with the zeros that say it
    was rounded (0.20, -0.39, 1.4, 0.0042) and without the ones that say nothing (0.5, 0.25: exact); an
    exact integer stays an integer (2, -12, 30074), and a number that is not one never looks like one
    (0.999 is 1.00, 9.96 is 10.0, 1.37 to 1 digit is 1.4) until it has `digits` digits before the point
    (146.2 is 146). Below 0.001 and from 100,000 on (integers from 1,000,000 on) in scientific notation:
    4.5e-5, 3.0e5."""
    x = float(x)
    if x == 0 or not np.isfinite(x):
        return "0" if x == 0 else str(x)
    if x.is_integer() and abs(x) < 1e6:
        return str(int(x))
    exponent = int(np.floor(np.log10(abs(x))))
    if -3 <= exponent < 5:
        decimals = max(0, digits - 1 - exponent, 1 if exponent < digits else 0)  # 1.37 is never written 1
        text = f"{x:.{decimals}f}"
    else:
        mantissa, power = f"{x:.{max(0, digits - 1)}e}".split("e")
        text = f"{mantissa}e{int(power)}"
    mantissa, _, power = text.partition("e")
    if "." in mantissa:  # exact in fewer digits (0.5, 0.25, 1e7): the zeros after it say nothing
        trimmed = mantissa.rstrip("0").rstrip(".") + (f"e{power}" if power else "")
        return trimmed if float(trimmed) == x else text
    return text


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
