"""Leaves read from .npy or .csv files next to the graph file:

inputs:
  x: {file: x.npy, data: true}     # read from x.npy next to the graph file
  y: {file: y.csv, data: true}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import GraphFileError
from ..numbers import is_number
from .leaves import check_size
from .yaml_source import Located

MAX_CSV_BYTES = 256 * 2**20
FILE_KINDS = (".npy", ".csv")


def read_array_file(item: Located, base: Path, dtype: np.dtype) -> np.ndarray:
    """The array in a .npy or .csv file named relative to base (the graph file's folder).
    The path must stay inside base; errors point at the `file:` value."""
    name, where = item.value, item.where
    if not isinstance(name, str) or not name.strip():
        raise GraphFileError("file must be a path like x.npy or data/y.csv", where)
    root = base.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root):
        raise GraphFileError(f"file {name!r} is outside the graph file's folder {root}", where)
    if path.suffix.lower() not in FILE_KINDS:
        raise GraphFileError(f"file {name!r}: only .npy and .csv files can be read", where)
    if not path.is_file():
        raise GraphFileError(f"no such file {name!r} in {root}", where)
    try:
        value = _read_npy(path, where) if path.suffix.lower() == ".npy" else _read_csv(path, name, where)
    except OSError as err:
        raise GraphFileError(f"cannot read {name!r}: {err.strerror or err}", where) from None
    return value.astype(dtype, copy=False)


def _read_npy(path: Path, where) -> np.ndarray:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)  # the header first: refuse huge shapes unread
    except (ValueError, EOFError) as err:
        raise GraphFileError(f"{path.name} is not a readable .npy array ({err})", where) from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise GraphFileError(f"{path.name} must hold real numbers, not {getattr(array, 'dtype', 'an archive')}", where)
    check_size(array.shape, where)
    return np.array(array)


def _read_csv(path: Path, name: str, where) -> np.ndarray:
    """Rows of comma-separated numbers; blank lines and # comments skipped; a first row of names is a header."""
    if path.stat().st_size > MAX_CSV_BYTES:
        raise GraphFileError(f"{name} is larger than {MAX_CSV_BYTES // 2**20} MiB", where)
    rows: list[list[float]] = []
    for number, line in enumerate(_text(path.read_bytes(), name, where).splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        fields = [f.strip() for f in text.split(",")]
        try:
            row = [float(f) for f in fields]
        except ValueError:
            if not rows and not any(is_number(f) for f in fields):
                continue  # a header row of column names
            bad = next(f for f in fields if not is_number(f))
            raise GraphFileError(f"{name} line {number}: {bad!r} is not a number", where) from None
        if rows and len(row) != len(rows[0]):
            raise GraphFileError(f"{name} line {number}: {len(row)} columns, earlier rows have {len(rows[0])}", where)
        rows.append(row)
    if not rows:
        raise GraphFileError(f"{name} holds no numbers", where)
    array = np.array(rows)
    return array[:, 0] if array.shape[1] == 1 else array  # one column: a vector


def _text(data: bytes, name: str, where) -> str:
    """UTF-8 text (a byte-order mark allowed); anything else is refused at the first byte that is not."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise GraphFileError(f"{name} is UTF-16 text: save it as UTF-8 (plain CSV)", where)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise GraphFileError(
            f"{name} line {line}, column {column}: byte 0x{data[err.start]:02x} is not UTF-8 text: save the file as "
            "UTF-8 (plain CSV)",
            where,
        ) from None
