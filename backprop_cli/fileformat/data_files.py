"""Leaves read from .npy or .csv files next to the graph file:

inputs:
  x: {file: x.npy, data: true}     # read from x.npy next to the graph file
  y: {file: y.csv, data: true}

A .csv holds rows of numbers. The first line that is not blank or a comment (`#`) decides the separator:
semicolons if it has one, else tabs, else commas, else spaces (one column: no separator). A field may be
quoted ("1.5" is the number 1.5). The first row is a header when none of its fields is a number (its
column count must match the rows); any other field that is not a number is an error naming its line. A
decimal comma under semicolons is an error with its fix. Files are read in blocks by numpy's C parser;
a block it refuses is read again line by line, for the line and the reason.
"""

from __future__ import annotations

import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import GraphFileError, shortened
from ..numbers import fits, is_number
from .leaves import check_size
from .yaml_source import Located, wide_encoding

MAX_CSV_BYTES = 256 * 2**20
FILE_KINDS = (".npy", ".csv")
BLOCK = 65_536  # lines handed to numpy's parser at once
CHUNK = 4 * 2**20  # bytes read at once
NOT_FILES = {  # what a path names when it is not a regular file
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
}


def not_a_file(mode: int) -> str | None:
    """What a stat mode names when it is not a regular file ("a directory", "a named pipe (FIFO)", ...)."""
    return None if stat.S_ISREG(mode) else NOT_FILES.get(stat.S_IFMT(mode), "not a regular file")


def read_array_file(item: Located, base: Path, dtype: np.dtype) -> np.ndarray:
    """The array in a .npy or .csv file named relative to base (the graph file's folder).
    The path must stay inside base; errors point at the `file:` value."""
    name, where = item.value, item.where
    if not isinstance(name, str) or not name.strip():
        raise GraphFileError("file must be a path like x.npy or data/y.csv", where)
    if "\x00" in name:
        raise GraphFileError(f"file {shortened(repr(name))}: a file name cannot hold a NUL character (\\0)", where)
    shown = shortened(repr(name))
    root = base.resolve()
    try:
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            raise GraphFileError(f"file {shown} is outside the graph file's folder {root}", where)
        if path.suffix.lower() not in FILE_KINDS:
            raise GraphFileError(f"file {shown}: only .npy and .csv files can be read", where)
        kind = not_a_file(path.stat().st_mode)
    except FileNotFoundError:
        raise GraphFileError(f"no such file {shown} in {root}", where) from None
    except OSError as err:
        raise GraphFileError(f"cannot read {shown}: {err.strerror or err}", where) from None
    if kind is not None:
        raise GraphFileError(f"file {shown} is {kind}, not a file of numbers", where)
    try:
        value = _read_npy(path, where) if path.suffix.lower() == ".npy" else _read_csv(path, name, where)
    except OSError as err:
        raise GraphFileError(f"cannot read {shown}: {err.strerror or err}", where) from None
    if not fits(value, dtype):
        raise GraphFileError(f"{shown} holds numbers beyond the range of {dtype} (±{np.finfo(dtype).max:.3g})", where)
    return value.astype(dtype, copy=False)


def _read_npy(path: Path, where) -> np.ndarray:
    """The header first: a shape too large is refused before numpy computes its size (or maps the file)."""
    from numpy.lib import format as npy

    try:
        with path.open("rb") as stream:
            version = npy.read_magic(stream)
            reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
            shape, _, dtype = reader(stream)
    except (ValueError, EOFError, TypeError, SyntaxError) as err:
        raise GraphFileError(f"{path.name} is not a readable .npy array ({shortened(err, 200)})", where) from None
    if dtype.kind not in "biuf":
        raise GraphFileError(f"{path.name} must hold real numbers, not {dtype}", where)
    check_size(shape, where)
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, EOFError) as err:
        raise GraphFileError(f"{path.name} is not a readable .npy array ({shortened(err, 200)})", where) from None
    return np.array(array)


# ------------------------------------------------------------ CSV
def _read_csv(path: Path, name: str, where) -> np.ndarray:
    if path.stat().st_size > MAX_CSV_BYTES:
        raise GraphFileError(f"{name} is larger than {MAX_CSV_BYTES // 2**20} MiB: save big data as .npy", where)
    blocks: list[np.ndarray] = []
    layout: tuple[str | None, int, str] | None = None  # separator, columns, what set the count
    with path.open("rb") as stream:
        wide = wide_encoding(stream.read(4096))
        if wide is not None:
            raise GraphFileError(f"{name} is {wide} text: save it as UTF-8 (plain CSV)", where)
        stream.seek(0)
        for start, lines in _lines(stream, name, where):
            if layout is None:
                for k, text in enumerate(lines):
                    content = _content(text)
                    if content:
                        layout, row = _first_row(content, start + k, name, where)
                        if row is not None:
                            blocks.append(np.array([row], dtype=np.float64))
                        start, lines = start + k + 1, lines[k + 1 :]
                        break
                else:
                    continue
            for at in range(0, len(lines), BLOCK):
                blocks.append(_block(lines[at : at + BLOCK], start + at, layout, name, where))
    array = np.concatenate(blocks) if blocks else np.empty((0, 0))
    if not array.size:
        raise GraphFileError(f"{name} holds no numbers", where)
    return array[:, 0] if array.shape[1] == 1 else array  # one column: a vector


def _lines(stream, name: str, where) -> Iterator[tuple[int, list[str]]]:
    """(the number of the first line, whole lines of text) a few MiB at a time; bytes that are not UTF-8
    are refused at their line and column."""
    number, rest = 1, b""
    while True:
        data = stream.read(CHUNK)
        data, at_end = rest + data, not data
        if at_end and not data:
            return
        cut = len(data) if at_end else data.rfind(b"\n") + 1
        if cut == 0:  # no line ends in it yet
            rest = data
            continue
        whole, rest = data[:cut], data[cut:]
        if number == 1 and whole.startswith(b"\xef\xbb\xbf"):
            whole = whole[3:]
        try:
            text = whole.decode("utf-8")
        except UnicodeDecodeError as err:
            line = number + whole.count(b"\n", 0, err.start)
            column = err.start - (whole.rfind(b"\n", 0, err.start) + 1) + 1
            raise GraphFileError(
                f"{name} line {line}, column {column}: byte 0x{whole[err.start]:02x} is not UTF-8 text: save the "
                "file as UTF-8 (plain CSV)",
                where,
            ) from None
        lines = text.split("\n")
        yield number, lines
        number += len(lines) - 1
        if at_end:
            return


def _content(text: str) -> str:
    """The line without its comment (a # outside quotes), stripped."""
    if "#" in text:
        inside = False
        for at, char in enumerate(text):
            if char == '"':
                inside = not inside
            elif char == "#" and not inside:
                text = text[:at]
                break
    return text.strip()


def _separator(content: str) -> str | None:
    outside = "".join(part for k, part in enumerate(content.split('"')) if k % 2 == 0)
    for sep in (";", "\t", ","):
        if sep in outside:
            return sep
    return None if len(outside.split()) > 1 else ","


def _fields(content: str, sep: str | None) -> list[str]:
    if '"' not in content:
        return [f.strip() for f in (content.split(sep) if sep else content.split())]
    import csv

    try:
        row = next(csv.reader([content], delimiter=sep or " ", skipinitialspace=True, strict=True))
    except csv.Error as err:
        raise ValueError(str(err)) from None
    return [f.strip() for f in row if sep or f.strip()]


def _first_row(content: str, number: int, name: str, where) -> tuple[tuple[str | None, int, str], list | None]:
    """(separator, columns, what set the count) and the row of numbers, or None for a header of names."""
    sep = _separator(content)
    fields = _parsed(content, sep, number, name, where)
    numbers = [is_number(f) for f in fields]
    if not any(numbers):
        return (sep, len(fields), f"the header (line {number}) has"), None
    if not all(numbers):
        raise GraphFileError(f"{name} line {number}: {_not_number(fields[numbers.index(False)], sep)}", where)
    return (sep, len(fields), "earlier rows have"), [float(f) for f in fields]


def _parsed(content: str, sep: str | None, number: int, name: str, where) -> list[str]:
    try:
        return _fields(content, sep)
    except ValueError as err:
        raise GraphFileError(f"{name} line {number}: {err}", where) from None


def _block(lines: list[str], start: int, layout, name: str, where) -> np.ndarray:
    """Rows of numbers by numpy's parser; a block it refuses (or a wrong column count) line by line."""
    sep, columns, _ = layout
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a block of comments "contained no data"
            array = np.loadtxt(lines, delimiter=sep, comments="#", quotechar='"', ndmin=2, dtype=np.float64)
        if array.size and array.shape[1] != columns:
            raise ValueError("columns")
        return array.reshape(-1, columns)
    except ValueError:
        return _checked(lines, start, layout, name, where)


def _checked(lines: list[str], start: int, layout, name: str, where) -> np.ndarray:
    """Line by line: the first line at fault is named; if none is (numpy is stricter than float()), the rows."""
    sep, columns, counted = layout
    rows = []
    for number, text in enumerate(lines, start):
        content = _content(text)
        if not content:
            continue
        fields = _parsed(content, sep, number, name, where)
        if len(fields) != columns:
            raise GraphFileError(f"{name} line {number}: {len(fields)} columns, {counted} {columns}", where)
        for field in fields:
            if not is_number(field):
                raise GraphFileError(f"{name} line {number}: {_not_number(field, sep)}", where)
        rows.append([float(f) for f in fields])
    return np.array(rows, dtype=np.float64).reshape(-1, columns)


def _not_number(field: str, sep: str | None) -> str:
    if not field:
        return "an empty field is not a number"
    hint = ""
    if sep != "," and "," in field and is_number(field.replace(",", ".", 1)):
        hint = f": a decimal comma? write {field.replace(',', '.', 1)}"
    return f"{shortened(repr(field))} is not a number{hint}"
