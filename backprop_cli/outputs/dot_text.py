"""Text that goes into DOT: user text escaped into quoted labels, numbers into wire labels.

User text (names, expressions, `about`, group names, attribute values, verdicts) goes through quoted()
into quoted labels, or through html_text() into the HTML-like labels of wires, gates, leaves and the
legend (several colours and sizes in one label): escaped as HTML, backslashes doubled, so an HTML label
can hold nothing but text, and a backslash-N or backslash-G stays literal.
"""

from __future__ import annotations

import html
import math
import textwrap

import numpy as np

from ..errors import printable
from ..numbers import TEACHER_DIGITS, rounded
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


def html_text(text: str) -> str:
    """Text for an HTML-like label: escaped as HTML, and its backslashes doubled (dot reads \\N, \\G in
    HTML labels too), shown as written (printable())."""
    shown = "\u00a0".join(printable(part) for part in str(text).split("\u00a0"))  # a blank's spaces stay
    return html.escape(shown).replace("\\", "\\\\")


def html_rows(rows: list[tuple[str, str]], rule_after: int | None = None, rule: str = "", size: int = 0) -> str:
    """Rows of coloured text; rule_after=k draws a line of colour `rule` under row k (the wire, between
    the value above it and the gradient under it); size: the font size (0: the edge's or node's own)."""
    cells = []
    for i, (text, colour) in enumerate(rows):
        font = f' POINT-SIZE="{size}"' if size else ""
        cells.append(f'<TR><TD><FONT COLOR="{colour}"{font}>{html_text(text)}</FONT></TD></TR>')
        if i == rule_after and i < len(rows) - 1:
            cells.append("<HR/>")
    colour = f' COLOR="{rule}"' if rule else ""
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"{colour}>{"".join(cells)}</TABLE>>'


def html_lines(rows: list[tuple[str, str, int]]) -> str:
    """Lines of (text, colour, font size), centred: a gate's big symbol over its name and note."""
    return (
        "<"
        + "<BR/>".join(
            f'<FONT COLOR="{colour}" POINT-SIZE="{size}">{html_text(text)}</FONT>' for text, colour, size in rows
        )
        + ">"
    )


# ------------------------------------------------------------ text of numbers
def small_tensor(value: np.ndarray) -> bool:
    """Few enough numbers to show them all: up to 6 elements, or a matrix up to 3×3."""
    value = np.asarray(value)
    return value.size <= style.SMALL_TENSOR or (value.ndim == 2 and max(value.shape) <= style.ROW_NUMBERS)


def tensor_lines(value: np.ndarray, digits: int = TEACHER_DIGITS, zeros: bool = True) -> list[str]:
    """A number as a teacher writes it (`digits` significant digits); a small tensor in full, a row of a
    matrix (or 3 numbers of a vector) a line; a big one as its range, and how many of its entries are exactly
    0 when some are (zeros=False: not for class labels; its shape is on the box): short lines, so a label never
    makes its wire wide."""
    value = np.asarray(value)
    if value.size == 0:
        return ["empty"]
    if value.ndim == 0:
        return [rounded(value, digits)]
    if small_tensor(value):
        rows = value.reshape(-1, value.shape[-1]) if value.ndim >= 2 and value.shape[-1] > 1 else value.reshape(1, -1)
        lines = []
        for row in rows:  # a row on one line if it is short, else in lines of equal length
            texts = [rounded(v, digits) for v in row]
            per = len(texts) if len(texts) <= style.ROW_NUMBERS + 1 else style.ROW_NUMBERS
            while (
                per > 1
                and max(len(", ".join(texts[k : k + per])) for k in range(0, len(texts), per)) > style.TENSOR_LINE
            ):
                per = math.ceil(len(texts) / (math.ceil(len(texts) / per) + 1))
            lines += [", ".join(texts[k : k + per]) for k in range(0, len(texts), per)]
        if len(lines) == 1:
            return [f"[{lines[0]}]"]
        return ["[" + lines[0] + ","] + [f" {line}," for line in lines[1:-1]] + [f" {lines[-1]}]"]
    finite = value[np.isfinite(value)] if np.issubdtype(value.dtype, np.floating) else value
    if finite.size == 0:
        return ["not finite"]
    low, high = (rounded(x, digits) for x in (finite.min(), finite.max()))
    lines = [f"{low}…{high}" if low != high else f"all {low}"]
    count = int(np.count_nonzero(value == 0))
    if zeros and 0 < count < value.size and low != high:
        lines.append(f"{_share(count / value.size)} zero")
    return lines


def _share(fraction: float) -> str:
    return "<1%" if fraction < 0.005 else ">99%" if fraction > 0.995 else f"{fraction:.0%}"


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
