"""What `backprop jacobian` and `backprop hessian` show: a matrix with index labels, a JSON object
(schemas backprop.jacobian and backprop.hessian, version 1), and a heat map of the matrix's structure."""

from __future__ import annotations

import base64
import struct
import zlib
from html import escape

import numpy as np

from ..errors import UsageError
from ..numbers import number
from ..verify.hessian import Hessian
from ..verify.jacobian import Jacobian

JACOBIAN_SCHEMA = {"schema": "backprop.jacobian", "version": 1}
HESSIAN_SCHEMA = {"schema": "backprop.hessian", "version": 1}
SHOWN = 24  # rows printed before the middle is elided (--full prints all)
SHOWN_COLUMNS = 12  # and columns, which take more width


def labels(name: str, shape: tuple[int, ...]) -> list[str]:
    """x, or x[0], x[1], ... (row-major), one per element."""
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, i))}]" for i in np.ndindex(*shape)]


def _kept(count: int, full: bool, shown: int = SHOWN) -> list[int | None]:
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
    shown_rows, shown_cols = _kept(len(rows), full), _kept(len(cols), full, columns)

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
        + _definiteness(eigen)
    )
    lines += [f"note: {note}" for note in result.notes]
    lines.append(check_line(result.check, "Richardson differences of gradients"))
    return lines


def _definiteness(eigen: np.ndarray) -> str:
    if eigen.size == 0:
        return ""
    tiny = len(eigen) * 1e-12 * float(np.max(np.abs(eigen)))
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


def _check_json(check) -> dict:
    if check is None:
        return {"checked": False}
    return {
        "checked": True,
        "status": check.status,
        "passed": check.status != "fail",
        "method": check.method,
        "entries": check.elements,
        "failures": check.failures,
        "kinks": check.kinks,
        "max_abs_error": _finite(check.max_abs_error),
        "max_rel_error": _finite(check.max_rel_error),
        "worst_index": None if check.worst_index is None else list(check.worst_index),
    }


def _finite(x: float) -> float | str:
    return float(x) if np.isfinite(x) else str(x)


def jacobian_json(result: Jacobian, graph) -> dict:
    return {
        **JACOBIAN_SCHEMA,
        "graph": graph.name,
        "file": graph.source,
        "of": result.of,
        "wrt": result.wrt,
        "shape": list(result.shape),
        "jacobian": result.array,  # streamed as nested lists by emit_json
        "nonzeros": result.nonzeros,
        "mode": result.mode,
        "passes": result.passes,
        "check": _check_json(result.check),
        "notes": result.notes,
    }


def hessian_json(result: Hessian, graph) -> dict:
    cond = result.condition_number
    return {
        **HESSIAN_SCHEMA,
        "graph": graph.name,
        "file": graph.source,
        "output": graph.output,
        "wrt": result.wrt,
        "shapes": [list(s) for s in result.shapes],
        "hessian": result.matrix,
        "eigenvalues": result.eigenvalues,
        "condition_number": cond,
        "method": result.method,
        "check": _check_json(result.check),
        "notes": result.notes,
    }


# ------------------------------------------------------------ the heat map

CELL = 14  # px per entry, shrunk for big matrices
RASTER_ENTRIES = 40_000  # beyond, the SVG embeds the matrix as an image, a pixel per entry
MAX_SIDE = 720


HEATMAPS = (".svg", ".png")  # the files a heat map is written as


def heatmap(path: str, matrix: np.ndarray, rows: list[str], cols: list[str], title: str) -> bytes:
    """The heat map for a file named path: PNG for .png, else SVG."""
    draw = heatmap_png if path.lower().endswith(".png") else heatmap_svg
    return draw(matrix, rows, cols, title)


def heatmap_svg(matrix: np.ndarray, rows: list[str], cols: list[str], title: str) -> bytes:
    """Each entry a square, blue negative, red positive, white zero (so a diagonal or blocks show), written
    directly: no plotting library needed. Big matrices are drawn with smaller cells."""
    m, n = matrix.shape
    cell = max(1.0, min(CELL, MAX_SIDE / max(m, n, 1)))
    labelled = cell >= 10
    left = 8 + (7 * max((len(r) for r in rows), default=0) if labelled else 0)
    top = 30 + (7 * max((len(c) for c in cols), default=0) if labelled else 0)
    width, height = left + n * cell + 20, top + m * cell + 40
    scale = float(np.max(np.abs(matrix), initial=0.0)) or 1.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="10">',
        f'<rect width="100%" height="100%" fill="white"/><text x="8" y="16" font-size="13">{escape(title)}</text>',
    ]
    if m * n > RASTER_ENTRIES:  # one pixel per entry, embedded: a square each would make a file of megabytes
        picture = base64.b64encode(_png(_colours(matrix / scale))).decode()
        out.append(
            f'<image x="{left}" y="{top}" width="{n * cell:.2f}" height="{m * cell:.2f}" preserveAspectRatio="none" '
            f'style="image-rendering:pixelated" href="data:image/png;base64,{picture}"/>'
        )
    else:
        for i, j in zip(*np.nonzero(matrix), strict=True):
            out.append(
                f'<rect x="{left + j * cell:.2f}" y="{top + i * cell:.2f}" width="{cell:.2f}" height="{cell:.2f}" '
                f'fill="{_colour(matrix[i, j] / scale)}"><title>{escape(rows[i])}, {escape(cols[j])}: '
                f"{number(matrix[i, j])}</title></rect>"
            )
    out.append(f'<rect x="{left}" y="{top}" width="{n * cell:.2f}" height="{m * cell:.2f}" fill="none" stroke="#999"/>')
    if labelled:
        for i, r in enumerate(rows):
            out.append(f'<text x="{left - 3}" y="{top + (i + 0.75) * cell:.1f}" text-anchor="end">{escape(r)}</text>')
        for j, c in enumerate(cols):
            x, y = left + (j + 0.7) * cell, top - 3
            out.append(f'<text transform="translate({x:.1f},{y}) rotate(-90)">{escape(c)}</text>')
    out.append(
        f'<text x="{left}" y="{top + m * cell + 20:.0f}">red: positive, blue: negative, white: zero; '
        f"largest |entry| {escape(number(scale))}</text></svg>"
    )
    return "\n".join(out).encode()


def _colour(x: float) -> str:
    r, g, b = _colours(np.array([[x]]))[0, 0]
    return f"rgb({r},{g},{b})"


def _colours(x: np.ndarray) -> np.ndarray:
    """(m, n, 3) bytes: -1 blue, 0 white, 1 red; a small nonzero entry is still visibly tinted."""
    strength = np.where(x != 0, 0.15 + 0.85 * np.minimum(1.0, np.abs(x)), 0.0)
    fade = np.round(255 * (1 - strength)).astype(np.uint8)
    full = np.full(x.shape, 255, np.uint8)
    red, blue = np.stack([full, fade, fade], -1), np.stack([fade, fade, full], -1)
    return np.where((x > 0)[..., None], red, blue)


def _png(rgb: np.ndarray) -> bytes:
    """An (h, w, 3) byte image as a PNG file (zlib and the chunk layout: no imaging library)."""
    height, width, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[i].tobytes() for i in range(height))  # filter type 0 per row

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def heatmap_png(matrix: np.ndarray, rows: list[str], cols: list[str], title: str, dpi: int = 144) -> bytes:
    """The same picture through matplotlib (an optional dependency, as for train's plots)."""
    import io

    from .files import matplotlib_home

    matplotlib_home()  # its font cache: never in the user's home
    try:
        import matplotlib
    except ImportError:
        raise UsageError("a PNG heat map needs matplotlib: pip install 'backprop-cli[plot]' (or write .svg)") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    scale = float(np.max(np.abs(matrix), initial=0.0)) or 1.0
    fig, ax = plt.subplots(figsize=(min(12, 2 + 0.3 * matrix.shape[1]), min(12, 2 + 0.3 * matrix.shape[0])))
    image = ax.imshow(matrix, cmap="bwr", vmin=-scale, vmax=scale, interpolation="nearest")
    if len(rows) <= 40 and len(cols) <= 40:
        ax.set_yticks(range(len(rows)), rows, fontsize=7)
        ax.set_xticks(range(len(cols)), cols, fontsize=7, rotation=90)
    ax.set_title(title)
    fig.colorbar(image, ax=ax)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
