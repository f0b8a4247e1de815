"""One JSON document on stdout, written with the C encoder and arrays streamed piece by piece.

A trace of a wide network holds millions of numbers. json.dumps(..., indent=2) on it runs Python's own
encoder (the C one does not indent) over a list of Python floats per array (32 bytes per number, on top of
the array) and builds the whole text before writing it: seconds, and several copies of every array. Here
the document's skeleton goes through the C encoder with a placeholder per large array, and each array is
written in slices of ARRAY_SLICE numbers: what is held at once is the arrays themselves and one slice. Large
arrays' numbers are written with 17 significant digits (exact, like the shortest form json.dumps finds, but
twice as fast to make): 0.1 reads 0.10000000000000001.

Small documents are indented as before (two spaces, for people); large ones are compact (for programs), unless
pretty is asked for either way (then large arrays are still written on one line each).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import numpy as np

from ..numbers import to_json

PRETTY_UP_TO = 100_000  # numbers in a document that is indented by default
INLINE_UP_TO = 1_000  # arrays up to this size are part of the skeleton (and indented with it)
ARRAY_SLICE = 65_536  # numbers encoded at once
NUMBER = "%.17g"  # 17 digits give back every float64 exactly, in half the time of its shortest form (repr)
_MARK = "\x00array{}\x00"  # a NUL cannot occur in a graph's names: json.dumps writes it as \u0000


def emit_json(obj: object, pretty: bool | None = None, write: Callable[[str], object] | None = None) -> None:
    """Write obj as one JSON document and a newline. numpy arrays anywhere in it are encoded as (nested) lists
    of numbers, NaN and inf as the strings "nan", "inf", "-inf" (JSON has no such numbers)."""
    write = write or sys.stdout.write
    arrays: list[np.ndarray] = []
    total = [0]
    skeleton = _skeleton(obj, arrays, total)
    if pretty is None:
        pretty = total[0] <= PRETTY_UP_TO
    text = json.dumps(skeleton, indent=2 if pretty else None, separators=None if pretty else (",", ":"))
    for i, array in enumerate(arrays):
        before, text = text.split(json.dumps(_MARK.format(i)), 1)
        write(before)
        _write_array(array, write)
    write(text + "\n")


def _skeleton(obj: object, arrays: list[np.ndarray], total: list[int]) -> object:
    """obj with small arrays as lists and large ones as placeholders (collected in arrays)."""
    if isinstance(obj, dict):
        return {k: _skeleton(v, arrays, total) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_skeleton(v, arrays, total) for v in obj]
    if isinstance(obj, (np.ndarray, np.generic)):
        total[0] += int(np.size(obj))
        if np.size(obj) <= INLINE_UP_TO or np.ndim(obj) == 0:
            return to_json(obj)
        arrays.append(np.asarray(obj))
        return _MARK.format(len(arrays) - 1)
    return obj


def _write_array(array: np.ndarray, write: Callable[[str], object]) -> None:
    """A nested list, compact, at most ARRAY_SLICE numbers (a block of rows) formatted at a time."""
    if array.ndim == 0 or array.size == 0:
        write(json.dumps(to_json(array), separators=(",", ":")))
        return
    row = array.size // len(array)
    write("[")
    if row > ARRAY_SLICE:  # rows too big for one slice: each row in slices of its own
        for i, sub in enumerate(array):
            write("," if i else "")
            _write_array(sub, write)
    else:
        step = max(1, ARRAY_SLICE // row)
        one = _template(array.shape[1:])
        for start in range(0, len(array), step):
            block = array[start : start + step]
            if np.isfinite(block).all():  # one %-format of the whole block: no Python loop, no list per row
                text = ",".join([one] * len(block)) % tuple(block.astype(float, copy=False).ravel().tolist())
            else:
                text = json.dumps(to_json(block), separators=(",", ":"))[1:-1]
            write(("," if start else "") + text)
    write("]")


def _template(shape: tuple[int, ...]) -> str:
    """The %-format of one sub-array of this shape: nested brackets around NUMBER."""
    return NUMBER if not shape else "[" + ",".join([_template(shape[1:])] * shape[0]) + "]"
