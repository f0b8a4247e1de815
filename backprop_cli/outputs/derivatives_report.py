"""What `backprop derivatives` shows: f, f′, …, f⁽ᴺ⁾ at the point, each in words, the Taylor expansion they
make, how they were taken and how they were checked (its JSON: formats/json.py)."""

from __future__ import annotations

import numpy as np

from ..numbers import number, summary
from ..verify.derivatives import Derivatives

SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
WORDS = {"pass": "PASS", "fail": "FAIL", "kink": "KINK"}


def _along(result: Derivatives) -> str:
    """`x`, `x[1]` (one element moved) or `x along v = [...]`."""
    v, shape = result.direction, result.direction.shape
    if np.all(v == 1):
        return result.wrt
    ones = np.flatnonzero(v)
    if len(ones) == 1 and v.flat[ones[0]] == 1 and shape:
        return f"{result.wrt}[{','.join(map(str, np.unravel_index(ones[0], shape)))}]"
    return f"{result.wrt} along v = {summary(v)}"


def _name(k: int, f: str = "f") -> str:
    return f + ("", "′", "″", "‴")[k] if k <= 3 else f"{f}⁽{str(k).translate(SUPERSCRIPTS)}⁾"


def words(k: int) -> str:
    """What the k-th derivative is, in words."""
    if k < 3:
        return ("the value", "the slope", "the curvature")[k]
    return "change of curvature" if k == 3 else f"change of {_name(k - 1)}"


def _digits(value: float, error: float | None) -> str:
    """value with the digits its error estimate vouches for (15 at most): -155, not -154.999999999999."""
    if not error or not value:
        return f"{value:.15g}"
    return f"{value:.{min(15, max(1, int(np.log10(abs(value) / error))))}g}"


def taylor_text(result: Derivatives, terms: int = 6) -> str:
    """g(t) ≈ c0 + c1·t + c2·t² + … with the coefficients g⁽ᵏ⁾(0)/k!; a term 0 within its error is left out."""
    parts = []
    for k, c in enumerate(result.taylor[:terms]):
        if c is None:
            break
        if (c == 0 or result.zero(k)) and (k or len(result.taylor) > 1):
            continue
        power = "" if k == 0 else "t" if k == 1 else "t" + str(k).translate(SUPERSCRIPTS)
        term = number(abs(c)) + (f"·{power}" if power else "")
        parts.append((("−" if c < 0 else "") if not parts else ("− " if c < 0 else "+ ")) + term)
    cut = range(terms, len(result.taylor))  # computed, not shown: said by "…" unless each is 0
    more = " + …" if any(result.taylor[k] and not result.zero(k) for k in cut) else ""
    return (" ".join(parts) or "0") + more


def derivatives_lines(result: Derivatives, source: str, width: int | None = None) -> list[str]:
    """The table of derivatives, then the Taylor expansion, the method, notes and the check, in words (the prose
    wrapped to width, when the output is a terminal)."""
    where = _along(result)
    moved = (
        f"{result.wrt} + t·v"
        if " along " in where or np.size(result.point) > 1 and where == result.wrt
        else f"{where} + t"
    )
    named = "f" if result.output == "f" else f"f = {result.output}"
    lines = [f"derivatives of {named} along {where}, at {result.wrt} = {summary(result.point)} ({source})"]
    rows = [("k", "f⁽ᵏ⁾", "± error", "reference", "what it is")]
    for k in range(result.order + 1):
        value, error = result.values[k], result.errors[k]
        reference = result.reference[k] if 0 < k < len(result.reference) else None
        rows.append(
            (
                str(k),
                "-" if value is None else "0" if result.zero(k) else _digits(value, error),
                "" if not error or value is None else f"{error:.0e}",
                "" if reference is None else "0" if result.reference_zero(k) else f"{reference:.10g}",
                words(k),
            )
        )
    widths = [max(len(row[c]) for row in rows) for c in range(4)]
    for row in rows:
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
    prose = []
    if result.kink is None and result.order:
        prose.append(f"Taylor: f({moved}) ≈ {taylor_text(result)}")
        prose.append(
            "f′ is the slope, f″ the curvature (how fast the slope changes), f‴ how fast the curvature changes; "
            "f⁽ᵏ⁾/k! are the Taylor coefficients, which hold for |t| below the distance to the nearest kink or "
            "singularity"
        )
    if result.method == "contour":
        how = (
            f"Cauchy's integral formula on the reverse-mode gradient ({result.points} points on a circle of radius "
            f"{number(result.radius)} around the point, an FFT): exact to rounding"
        )
    else:
        how = "Richardson-extrapolated differences of the reverse-mode gradient"
    prose.append(f"method: {how}")
    prose += [f"note: {note}" for note in result.notes]
    prose.append(check_text(result))
    if width:
        import textwrap

        prose = [line for text in prose for line in textwrap.wrap(text, width - 1, subsequent_indent="  ")]
    return lines + prose


def check_text(result: Derivatives) -> str:
    check = result.check
    if result.kink is not None:
        return f"KINK: the point sits on a kink of gate {result.kink}"
    if check is None:
        return "not checked" if result.order else "nothing to check at order 0"
    text = (
        f"{WORDS[check.status]}: {check.elements} order{'s' * (check.elements != 1)} against central differences of "
        f"{result.output} of the same order (Richardson-extrapolated), max rel error {check.max_rel_error:.1e}"
    )
    for finding in check.findings:
        text += f"; {finding.note}: {finding.reverse:.10g} vs {finding.numeric:.10g}"
    return text
