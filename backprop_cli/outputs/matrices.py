"""What `backprop jacobian` and `backprop hessian` show: a matrix with index labels (their JSON: formats/json.py;
the heat map: heatmaps.py)."""

from __future__ import annotations

import numpy as np

from ..numbers import number
from ..verify.hessian import Hessian
from ..verify.jacobian import Jacobian
from .heatmaps import HEATMAPS, heatmap, heatmap_png, heatmap_svg  # noqa: F401  (where the commands find them)

SHOWN = 24  # rows printed before the middle is elided (--full prints all)
SHOWN_COLUMNS = 12  # and columns, which take more width


def labels(name: str, shape: tuple[int, ...]) -> list[str]:
    """x, or x[0], x[1], ... (row-major), one per element."""
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, i))}]" for i in np.ndindex(*shape)]


def kept(count: int, full: bool, shown: int = SHOWN) -> list[int | None]:
    """Indices shown (None: the elided middle)."""
    if full or count <= shown:
        return list(range(count))
    half = shown // 2
    return [*range(half), None, *range(count - half, count)]


def matrix_lines(
    matrix: np.ndarray, rows: list[str], cols: list[str], full: bool = False, width: int | None = None
) -> list[str]:
    """The matrix as aligned text, rows and columns labelled; zeros as '.', so sparsity shows at a glance.

    width: a terminal's columns; fewer corner columns are shown until the lines fit (never fewer than one on each
    side of the elided middle), so a terminal does not wrap the matrix. Numbers are never cut."""
    shown = SHOWN_COLUMNS
    lines = _matrix_text(matrix, rows, cols, full, shown)
    while width and not full and shown > 2 and max(map(len, lines)) > width:
        shown -= 2
        lines = _matrix_text(matrix, rows, cols, full, shown)
    return lines


def _matrix_text(matrix: np.ndarray, rows: list[str], cols: list[str], full: bool, columns: int) -> list[str]:
    shown_rows, shown_cols = kept(len(rows), full), kept(len(cols), full, columns)

    def cell(i: int | None, j: int | None) -> str:
        if i is None or j is None:
            return "…"
        value = matrix[i, j]
        return "." if value == 0 else number(value)

    table = [["", *(cols[j] if j is not None else "…" for j in shown_cols)]]
    for i in shown_rows:
        table.append([rows[i] if i is not None else "…", *(cell(i, j) for j in shown_cols)])
    widths = [max(len(r[c]) for r in table) for c in range(len(table[0]))]
    return [
        "  ".join(
            text.rjust(w) if c else text.ljust(w) for c, (text, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in table
    ]


def jacobian_lines(result: Jacobian, full: bool = False, width: int | None = None) -> list[str]:
    size = f"{result.matrix.shape[0]}×{result.matrix.shape[1]}"
    lines = [
        f"d{result.of}/d{result.wrt}: {size} (rows: {result.of}'s elements, columns: {result.wrt}'s), "
        f"{result.nonzeros} nonzero; {result.mode} mode, {result.passes} pass{'es' * (result.passes != 1)}"
    ]
    lines += matrix_lines(
        result.matrix, labels(result.of, result.of_shape), labels(result.wrt, result.wrt_shape), full, width
    )
    lines += [f"note: {n}" for n in result.notes]
    lines.append(check_line(result.check, "finite differences"))
    return lines


def hessian_lines(result: Hessian, full: bool = False, width: int | None = None) -> list[str]:
    names = [label for name, shape in zip(result.wrt, result.shapes, strict=True) for label in labels(name, shape)]
    n = len(names)
    how = (
        "complex step on reverse mode, exact to rounding" if result.method == "complex" else "differences of gradients"
    )
    lines = [f"Hessian of the output w.r.t. {', '.join(result.wrt)}: {n}×{n} ({how})"]
    lines += matrix_lines(result.matrix, names, names, full, width)
    eigen = result.eigenvalues
    shown = eigen if full or len(eigen) <= SHOWN else np.concatenate([eigen[: SHOWN // 2], eigen[-SHOWN // 2 :]])
    elided = "" if len(shown) == len(eigen) else f" (the {SHOWN // 2} smallest and largest of {len(eigen)})"
    lines.append(f"eigenvalues{elided}: " + ", ".join(number(v) for v in shown))
    cond = result.condition_number
    lines.append(
        "condition number: "
        + ("∞ (singular)" if cond is None else f"{cond:.4g} (largest |eigenvalue| / smallest)")
        + _definiteness(eigen, result.rounding)
    )
    lines += [f"note: {note}" for note in result.notes]
    lines.append(check_line(result.check, "Richardson differences of gradients"))
    return lines


def _definiteness(eigen: np.ndarray, rounding: float = 0.0) -> str:
    """rounding: eigenvalues no larger are 0 (Hessian.rounding)."""
    if eigen.size == 0:
        return ""
    tiny = max(len(eigen) * 1e-12 * float(np.max(np.abs(eigen))), rounding)
    if np.all(eigen > tiny):
        return "; positive definite: a minimum"
    if np.all(eigen < -tiny):
        return "; negative definite: a maximum"
    if np.any(eigen > tiny) and np.any(eigen < -tiny):
        return "; indefinite: a saddle"
    return "; semidefinite"


def check_line(check, against: str) -> str:
    if check is None:
        return "not checked"
    word = {"pass": "PASS", "fail": "FAIL", "kink": "KINK"}[check.status]
    where = ""
    if check.worst_index is not None and check.worst_reverse is not None:
        where = f" at {list(check.worst_index)} ({number(check.worst_reverse)} vs {number(check.worst_numeric)})"
    counts = "".join(f", {c} {w}" for c, w in ((check.failures, "failed"), (check.kinks, "on kinks")) if c)
    return f"{word}: {check.elements} entries against {against} ({check.method}); max rel error {check.max_rel_error:.1e}{where}{counts}"


# ------------------------------------------------------------ the heat map (outputs/heatmaps.py)
__all__ = ["HEATMAPS", "heatmap", "heatmap_png", "heatmap_svg"]
