"""LaTeX, for answer keys and write-ups: a fragment to \\input (it needs the booktabs and amsmath packages), the
trace as a table and, with --explain, the chain rule node by node as equations; a Jacobian or Hessian as a
bmatrix. The words of the terminal's explanation (outputs/explain.py) are turned into math, not written anew."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from ...errors import printable
from ...numbers import number
from . import Settings

SPECIAL = {  # text mode: LaTeX's special characters
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
MATH = {  # symbols in math mode (Greek letters: GREEK below)
    "·": r" \cdot ",
    "∂": r"\partial ",
    "ᵀ": r"^{\top}",
    "⇒": r"\Rightarrow ",
    "Σ": r"\sum ",
    "∑": r"\sum ",
    "−": "-",
    "–": "-",
    "—": "-",
    "≤": r"\le ",
    "≥": r"\ge ",
    "≠": r"\ne ",
    "≈": r"\approx ",
    "±": r"\pm ",
    "×": r"\times ",
    "⊙": r"\odot ",
    "∘": r"\circ ",
    "‖": r"\| ",
    "→": r"\to ",
    "←": r"\leftarrow ",
    "…": r"\ldots ",
    "√": r"\sqrt ",
    "∞": r"\infty ",
    "∇": r"\nabla ",
    "∈": r"\in ",
    "′": "'",
    "″": "''",
    "½": r"\frac{1}{2}",
    "¼": r"\frac{1}{4}",
    "¾": r"\frac{3}{4}",
    **{c: f"^{{{d}}}" for c, d in zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ᵏⁿ", "0123456789+-()kn", strict=True)},
    **{c: f"_{{{d}}}" for c, d in zip("₀₁₂₃₄₅₆₇₈₉", "0123456789", strict=True)},
}
TEXT = {"–": "--", "—": "---", "…": r"\ldots{}", "′": "'", "″": "''"}  # better as text than as math
ACCENTS = {"\u0302": "hat", "\u0304": "bar", "\u0303": "tilde", "\u0307": "dot", "\u0301": "acute", "\u0300": "grave"}
TEXT_ACCENTS = {"hat": "^", "bar": "=", "tilde": "~", "dot": ".", "acute": "'", "grave": "`"}


def _symbol(c: str) -> str | None:
    """The math-mode LaTeX of a character that is not ASCII: a symbol, a Greek letter, a letter with an accent
    (ŷ is \\hat{y}); None for a Latin letter inputenc knows (é) or one with no known form."""
    if c in MATH:
        return MATH[c]
    name = unicodedata.name(c, "")
    if name.startswith("GREEK SMALL LETTER ") or name.startswith("GREEK CAPITAL LETTER "):
        letter = name.split(" LETTER ")[1].split()[0].lower()
        letter = {"lamda": "lambda"}.get(letter, letter)
        if name.startswith("GREEK CAPITAL") and letter not in GREEK_CAPITALS:
            return None
        return "\\" + (letter.capitalize() if name.startswith("GREEK CAPITAL") else letter) + " "
    base, *marks = unicodedata.normalize("NFD", c)
    if len(marks) == 1 and marks[0] in ACCENTS and base.isascii():
        return f"\\{ACCENTS[marks[0]]}{{{base}}}"
    return None


GREEK_CAPITALS = {"gamma", "delta", "theta", "lambda", "xi", "pi", "sigma", "upsilon", "phi", "psi", "omega"}


def _in_text(c: str) -> tuple[str, bool]:
    """A character that is not ASCII, in text mode, and whether that is math: a symbol or a Greek letter as math,
    a Latin letter with an accent as LaTeX's accent, and one pdflatex would stop at ("Unicode character not set
    up") as its code point: what was written stays readable and the document compiles."""
    if c in TEXT:
        return TEXT[c], False
    base, *marks = unicodedata.normalize("NFD", c)
    if len(marks) == 1 and marks[0] in ACCENTS and base.isascii() and base.isalpha():
        return f"\\{TEXT_ACCENTS[ACCENTS[marks[0]]]}{{{base}}}", False
    symbol = _symbol(c)
    if symbol is not None:
        return symbol.strip(), True
    return (c if ord(c) < 0x180 and unicodedata.category(c).startswith("L") else f"[U+{ord(c):04X}]"), False


SCRIPTS = re.compile(r"([\^_])\{([^{}]*)\}\s*\1\{([^{}]*)\}")  # x²ᵀ: ^{2}^{\top} is a double superscript


def _joined(formula: str) -> str:
    """Superscripts (subscripts) side by side as one: ^{2}^{\\top} -> ^{2\\top}."""
    while True:
        joined = SCRIPTS.sub(lambda m: f"{m[1]}{{{m[2]}{m[3]}}}", formula)
        if joined == formula:
            return formula
        formula = joined


def text(value: object) -> str:
    """Plain text, escaped for text mode: LaTeX's special characters, and every character that is not ASCII in a
    form pdflatex knows (see _in_text; symbols side by side share one $...$: two would make $$)."""
    out, maths = [], []
    for c in "".join(SPECIAL.get(c, c) for c in printable(value)):
        piece, is_math = (c, False) if c.isascii() else _in_text(c)
        if is_math:
            maths.append(piece)
            continue
        if maths:
            out.append("$" + _joined(" ".join(maths)) + "$")
            maths = []
        out.append(piece)
    if maths:
        out.append("$" + _joined(" ".join(maths)) + "$")
    return "".join(out)


def math(formula: str) -> str:
    """A line of the explanation as math: names as \\mathrm, symbols as macros, d/dx as \\frac."""
    formula = printable(formula)
    formula = re.sub(r"\bd([A-Za-z_][\w.\[\],]*)/d([A-Za-z_][\w.\[\],()]*)", r"\\frac{d\1}{d\2}", formula)
    formula = re.sub(r"∂([A-Za-z_][\w.\[\],]*)/∂([A-Za-z_][\w.\[\],()]*)", r"\\frac{∂\1}{∂\2}", formula)
    formula = formula.replace("_", r"\_").replace("%", r"\%").replace("#", r"\#").replace("&", r"\&")
    return _joined("".join(c if c.isascii() else _symbol(c) or f"\\text{{{_in_text(c)[0]}}}" for c in formula))


FORMULA = re.compile(r"^d\S+/d\S+ = ")  # an explanation's line that is an equation (others are words)


def _formula(line: str) -> str:
    """An equation, with a remark after it ("   (gradients from 2 paths add up)") as text."""
    formula, _, remark = line.partition("   ")
    return math(formula) + (rf" \quad \text{{{text(remark.strip())}}}" if remark.strip() else "")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = [r"\begin{tabular}{" + "l" * len(header) + "}", r"\toprule", " & ".join(map(text, header)) + r" \\"]
    lines.append(r"\midrule")
    lines += [" & ".join(text(c).replace(r"\textbackslash{}n", "; ") for c in row) + r" \\" for row in rows]
    return [*lines, r"\bottomrule", r"\end{tabular}"]


def trace(result, settings: Settings) -> str:
    from ..explain import explain_steps
    from ..tables import cells, columns, title

    rows = [[c.replace("\n", "; ") for c in cells(result, row, settings.full)] for row in result.rows]
    lines = [f"% backprop trace: {text(result.graph.name)}", r"\paragraph{" + text(title(result)) + "}", ""]
    lines += _table(columns(result), rows)
    if settings.options.get("explain"):
        for node, steps in explain_steps(result, settings.full):
            lines += ["", r"\paragraph{" + ("The backward pass" if node is None else text(node)) + "}"]
            body = [s.strip().removeprefix("# ").removeprefix("⇒ ") for s in steps]
            notes = [line for line in body if not FORMULA.match(line)]
            formulas = [line for line in body if FORMULA.match(line)]
            lines += [text(n) + r"\\" for n in notes]
            if formulas:
                lines += [r"\begin{align*}", *(f"  &{_formula(f)} \\\\" for f in formulas), r"\end{align*}"]
    return "\n".join(lines)


def _shown(matrix, full: bool) -> list[list[str]]:
    """The cells shown: all with --full, else the corners the terminal shows, the middles as \\cdots, \\vdots and
    \\ddots (a 1 x 100,000 Jacobian would be a megabyte that TeX chokes on)."""
    from ..matrices import SHOWN_COLUMNS, kept

    matrix = np.atleast_2d(np.asarray(matrix))
    rows, cols = kept(matrix.shape[0], full), kept(matrix.shape[1], full, SHOWN_COLUMNS)

    def cell(i: int | None, j: int | None) -> str:
        if i is None:
            return r"\ddots" if j is None else r"\vdots"
        return r"\cdots" if j is None else number(matrix[i, j])

    return [[cell(i, j) for j in cols] for i in rows]


def _display(head: str, cells: list[list[str]]) -> list[str]:
    """head = a bmatrix of the cells, displayed, with room for its columns (amsmath's matrices stop at 10: "Extra
    alignment tab") set before it."""
    wide = max((len(row) for row in cells), default=0)
    room = [rf"\setcounter{{MaxMatrixCols}}{{{wide}}}"] if wide > 10 else []
    rows = [" & ".join(row) + r" \\" for row in cells]
    return [*room, r"\[", head + " =", r"\begin{bmatrix}", *rows, r"\end{bmatrix}", r"\]"]


def jacobian(result, settings: Settings) -> str:
    from ..matrices import check_line

    head = rf"\frac{{\partial\, \mathrm{{{math(result.of)}}}}}{{\partial\, \mathrm{{{math(result.wrt)}}}}}"
    lines = [f"% backprop jacobian: d{text(result.of)}/d{text(result.wrt)}"]
    lines += _display(head, _shown(result.matrix, settings.full))
    return "\n".join([*lines, text(check_line(result.check, "finite differences"))])


def hessian(result, settings: Settings) -> str:
    from ..matrices import check_line

    output = settings.graph.output
    lines = [f"% backprop hessian of {text(output)}"]
    lines += _display(rf"H_{{\mathrm{{{math(output)}}}}}", _shown(result.matrix, settings.full))
    lines += ["eigenvalues: " + ", ".join(f"${number(v)}$" for v in result.eigenvalues) + r"\\"]
    return "\n".join([*lines, text(check_line(result.check, "Richardson differences of gradients"))])
