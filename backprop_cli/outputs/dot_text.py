"""Text that goes into DOT: user text escaped into quoted labels, numbers into wire labels.

User text (names, expressions, `about`, group names, attribute values, verdicts) only ever goes
through quoted(). html_rows() makes the HTML-like wire labels (two colours in one label) and is
given only text generated here: numbers and fixed words, escaped all the same.
"""

from __future__ import annotations

import html
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


def html_rows(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f'<TR><TD><FONT COLOR="{colour}">{html.escape(text)}</FONT></TD></TR>' for text, colour in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


# ------------------------------------------------------------ text of numbers
def tensor_lines(value: np.ndarray) -> list[str]:
    """A number; a small tensor in full; a big one as its norm and its range on a second line,
    to 3 digits (its shape is on the box): narrow labels keep a left-to-right diagram short."""
    value = np.asarray(value)
    if value.ndim == 0 or value.size <= 4:
        return [summary(value)]
    norm, low, high = (f"{float(x) + 0.0:.3g}" for x in (np.linalg.norm(value), value.min(), value.max()))  # no -0
    return [f"‖·‖={norm}", f"∈[{low}, {high}]"]


def padded(known: str, marker: str = "?") -> str:
    """A placeholder as wide as the text it stands for (monospace), so frames keep one layout."""
    return marker + "\u00a0" * max(0, len(known) - len(marker))


def wrapped(text: str) -> list[str]:
    return textwrap.wrap(text, style.TITLE_CHARS) or [""]


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
