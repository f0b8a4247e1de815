"""Text that goes into DOT: user text escaped into quoted labels, numbers into wire labels.

User text (names, expressions, `about`, group names, attribute values, verdicts) only ever goes
through quoted(). html_rows() makes the HTML-like wire labels (two colours in one label) and is
given text generated here (numbers, fixed words) and names, all escaped with html.escape: an HTML
label can then hold nothing but text.
"""

from __future__ import annotations

import html
import math
import textwrap

import numpy as np

from ..errors import printable
from ..numbers import summary
from . import diagram_style as style


# ------------------------------------------------------------ escaping
def quoted(lines: list[str], justify: str = "n") -> str:
    """Quoted DOT label text. Backslashes and quotes are escaped, so \\N, \\G or \\l written by a user
    stay literal; the only line breaks are ours (\\n centred, \\l left-justified)."""
    parts = []
    for text in lines:
        for line in str(text).split("\n"):
            line = printable(line)
            parts.append(line.replace("\\", "\\\\").replace('"', '\\"'))
    return '"' + ("\\l".join(parts) + "\\l" if justify == "l" else "\\n".join(parts)) + '"'


def attributes(**attrs: object) -> str:
    """[key=value, ...] for values generated here (numbers, colours, styles), or a quoted() label."""
    return "[" + ", ".join(f"{key}={value}" for key, value in attrs.items() if value is not None) + "]"


def html_rows(rows: list[tuple[str, str]], rule_after: int | None = None, rule: str = "", size: int = 0) -> str:
    """Rows of coloured text; rule_after=k draws a line of colour `rule` under row k (the wire, between
    the value above it and the gradient under it); size: the font size (0: the edge's or node's own)."""
    cells = []
    for i, (text, colour) in enumerate(rows):
        font = f' POINT-SIZE="{size}"' if size else ""
        cells.append(f'<TR><TD><FONT COLOR="{colour}"{font}>{html.escape(text)}</FONT></TD></TR>')
        if i == rule_after and i < len(rows) - 1:
            cells.append("<HR/>")
    colour = f' COLOR="{rule}"' if rule else ""
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"{colour}>{"".join(cells)}</TABLE>>'


def html_sized(rows: list[tuple[str, str, int]]) -> str:
    """Rows of (text, colour, font size): a gate's big symbol over its small name and role."""
    cells = "".join(
        f'<TR><TD><FONT COLOR="{colour}" POINT-SIZE="{size}">{html.escape(text)}</FONT></TD></TR>'
        for text, colour, size in rows
    )
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">{cells}</TABLE>>'


# ------------------------------------------------------------ text of numbers
def small_tensor(value: np.ndarray) -> bool:
    """Few enough numbers to show them all: up to 6 elements, or a matrix up to 3×3."""
    value = np.asarray(value)
    return value.size <= style.SMALL_TENSOR or (value.ndim == 2 and max(value.shape) <= style.ROW_NUMBERS)


def tensor_lines(value: np.ndarray) -> list[str]:
    """A number; a small tensor in full (rows of a matrix on their own lines, a vector 3 numbers a
    line); a big one as its norm and its range on a second line, to 3 digits (its shape is on the box)."""
    value = np.asarray(value)
    if value.ndim == 0 or value.size == 0:
        return [summary(value)]
    if small_tensor(value):
        rows = value.reshape(-1, value.shape[-1]) if value.ndim >= 2 else value.reshape(1, -1)
        texts = [[f"{float(v) + 0.0:.{style.TENSOR_DIGITS}g}" for v in row] for row in rows]  # + 0.0: no -0
        lines = []
        for row in texts:  # a row on one line if it is short, else in lines of equal length
            per = len(row) if len(", ".join(row)) <= style.TENSOR_LINE else math.ceil(len(row) / 2)
            per = min(per, style.ROW_NUMBERS) if len(row) > 4 else per
            lines += [", ".join(row[k : k + per]) for k in range(0, len(row), per)]
        if len(lines) == 1:
            return [f"[{lines[0]}]"]
        return ["[" + lines[0] + ","] + [f" {line}," for line in lines[1:-1]] + [f" {lines[-1]}]"]
    norm, low, high = (f"{float(x) + 0.0:.3g}" for x in (np.linalg.norm(value), value.min(), value.max()))  # no -0
    return [f"‖·‖={norm}", f"∈[{low}, {high}]"]


def padded(known: str, marker: str = "?") -> str:
    """A placeholder as wide as the text it stands for (monospace), so frames keep one layout."""
    return marker + "\u00a0" * max(0, len(known) - len(marker))


_OPERATORS = set("=+-−·×*/÷<>≤≥≈→^@") | {"**", "//", "..."}
_OPEN, _CLOSE = "([{", ")]}"


def wrapped(text: str, width: int = style.TITLE_CHARS) -> list[str]:
    """Lines of at most `width` characters, broken only at a space outside any formula: not inside
    brackets, nor next to an operator (Σ(y_pred - y)² and o = w7·h1 + w8·h2 stay whole)."""
    words = text.split()
    pieces: list[str] = []  # runs of words that must stay on one line
    depth = 0
    for i, word in enumerate(words):
        joined = bool(pieces) and (
            depth > 0 or word in _OPERATORS or word[:1] in _OPERATORS or words[i - 1][-1:] in _OPERATORS
        )
        if joined:
            pieces[-1] += " " + word
        else:
            pieces.append(word)
        depth = max(0, depth + sum(word.count(c) for c in _OPEN) - sum(word.count(c) for c in _CLOSE))
    lines: list[str] = []
    for piece in pieces:
        if lines and len(lines[-1]) + 1 + len(piece) <= width:
            lines[-1] += " " + piece
        else:
            lines += textwrap.wrap(piece, width * 2)  # a formula longer than two lines is cut all the same
    return lines or [""]


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
