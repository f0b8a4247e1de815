"""LaTeX, for answer keys and write-ups: a fragment to \\input (it needs the booktabs and amsmath packages), the
trace as a table and, with --explain, the chain rule node by node as equations; a Jacobian or Hessian as a
bmatrix. The words of the terminal's explanation (outputs/explain.py) are turned into math, not written anew."""

from __future__ import annotations

import re

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
MATH = {  # the explanation's symbols in math mode
    "·": r" \cdot ",
    "∂": r"\partial ",
    "ᵀ": r"^{\top}",
    "⇒": r"\Rightarrow ",
    "σ": r"\sigma ",
    "Σ": r"\sum ",
    "−": "-",
    "≤": r"\le ",
    "≥": r"\ge ",
    "×": r"\times ",
    "→": r"\to ",
    "…": r"\ldots ",
    "√": r"\sqrt ",
    "∞": r"\infty ",
}


def text(value: object) -> str:
    """Plain text, escaped for text mode (other Unicode is left to the document's inputenc/fontspec)."""
    out = "".join(SPECIAL.get(c, c) for c in printable(value))
    return "".join(f"${MATH[c].strip()}$" if c in MATH else c for c in out)


def math(formula: str) -> str:
    """A line of the explanation as math: names as \\mathrm, symbols as macros, d/dx as \\frac."""
    formula = printable(formula)
    formula = re.sub(r"\bd([A-Za-z_][\w.\[\],]*)/d([A-Za-z_][\w.\[\],()]*)", r"\\frac{d\1}{d\2}", formula)
    formula = re.sub(r"∂([A-Za-z_][\w.\[\],]*)/∂([A-Za-z_][\w.\[\],()]*)", r"\\frac{∂\1}{∂\2}", formula)
    formula = formula.replace("_", r"\_").replace("%", r"\%").replace("#", r"\#").replace("&", r"\&")
    return "".join(MATH.get(c, c) for c in formula)


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


def _bmatrix(matrix) -> list[str]:
    rows = [" & ".join(number(v) for v in row) + r" \\" for row in matrix]
    return [r"\begin{bmatrix}", *rows, r"\end{bmatrix}"]


def jacobian(result, settings: Settings) -> str:
    from ..matrices import check_line

    head = rf"\frac{{\partial\, \mathrm{{{math(result.of)}}}}}{{\partial\, \mathrm{{{math(result.wrt)}}}}}"
    lines = [
        f"% backprop jacobian: d{text(result.of)}/d{text(result.wrt)}",
        r"\[",
        head + " =",
        *_bmatrix(result.matrix),
    ]
    return "\n".join([*lines, r"\]", text(check_line(result.check, "finite differences"))])


def hessian(result, settings: Settings) -> str:
    from ..matrices import check_line

    output = settings.graph.output
    lines = [
        f"% backprop hessian of {text(output)}",
        r"\[",
        rf"H_{{\mathrm{{{math(output)}}}}} =",
        *_bmatrix(result.matrix),
    ]
    lines += [r"\]", "eigenvalues: " + ", ".join(f"${number(v)}$" for v in result.eigenvalues) + r"\\"]
    return "\n".join([*lines, text(check_line(result.check, "Richardson differences of gradients"))])
