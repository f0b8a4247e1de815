"""The heat map of a Jacobian or a Hessian (`jacobian -o`, `hessian -o`): each entry a square, red
positive, blue negative, white zero; its number written in it when the squares are big enough; a colour
scale that keeps small entries visible (symmetric log: 1 on a ±50 scale is a clear pink, not white); on a
square matrix the diagonal outlined, so a zero on it (a dead unit) is told from a zero off it; a title that
is never cut. SVG is written directly (no plotting library); PNG through matplotlib.
"""

from __future__ import annotations

import base64
import struct
import textwrap
import zlib
from html import escape

import numpy as np

from ..errors import UsageError
from ..numbers import number, rounded

CELL = 40  # px per entry at most (numbers fit from NUMBERS_CELL on), shrunk for big matrices
NUMBERS_CELL = 26  # px: squares this big or bigger show their numbers
RASTER_ENTRIES = 40_000  # beyond, the SVG embeds the matrix as an image, a pixel per entry
MAX_SIDE = 720
DECADES = 3.0  # the colour scale: |entry| from largest / 10**DECADES up to largest, on a log scale
OUTLINED = 40  # a square matrix up to this size has its diagonal outlined
HEATMAPS = (".svg", ".png")  # the files a heat map is written as


def heatmap(path: str, matrix: np.ndarray, rows: list[str], cols: list[str], title: str) -> bytes:
    """The heat map for a file named path: PNG for .png, else SVG."""
    draw = heatmap_png if path.lower().endswith(".png") else heatmap_svg
    return draw(matrix, rows, cols, title)


def strength(matrix: np.ndarray) -> np.ndarray:
    """How strongly each entry is coloured, in [-1, 1]: a symmetric log scale (linear below the threshold),
    so an entry 50 times smaller than the largest still shows (about 0.45), and a tiny one is still tinted."""
    scale = float(np.max(np.abs(matrix), initial=0.0)) or 1.0
    threshold = scale / 10**DECADES
    magnitude = np.abs(matrix) / threshold
    logged = np.where(magnitude > 1, 1 + np.log10(np.maximum(magnitude, 1)), magnitude) / (1 + DECADES)
    return np.sign(matrix) * np.where(matrix != 0, 0.12 + 0.88 * np.minimum(logged, 1.0), 0.0)


def _colours(x: np.ndarray) -> np.ndarray:
    """(m, n, 3) bytes from strengths in [-1, 1]: -1 blue, 0 white, 1 red."""
    fade = np.round(255 * (1 - np.minimum(1.0, np.abs(x)))).astype(np.uint8)
    full = np.full(x.shape, 255, np.uint8)
    red, blue = np.stack([full, fade, fade], -1), np.stack([fade, fade, full], -1)
    return np.where((x > 0)[..., None], red, np.where((x < 0)[..., None], blue, np.stack([full] * 3, -1)))


def _ink(x: float) -> str:
    """A number's colour in its square: white on a deep colour, black elsewhere."""
    return "white" if abs(x) > 0.6 else "#1a1a1a"


def heatmap_svg(matrix: np.ndarray, rows: list[str], cols: list[str], title: str) -> bytes:
    m, n = matrix.shape
    cell = max(1.0, min(CELL, MAX_SIDE / max(m, n, 1)))
    labelled, numbered = cell >= 10, cell >= NUMBERS_CELL
    left = 8 + (7 * max((len(r) for r in rows), default=0) if labelled else 0)
    top = 44 + (7 * max((len(c) for c in cols), default=0) if labelled else 0)
    scale = float(np.max(np.abs(matrix), initial=0.0)) or 1.0
    key = f"red: positive, blue: negative, white: 0 (log scale: 1/{10**DECADES:g} of the largest is still tinted)"
    key2 = f"largest |entry| {number(scale)}" + ("; the diagonal outlined" if m == n <= OUTLINED else "")
    width = max(left + n * cell + 20, 16 + 7.6 * len(title), 16 + 6.2 * max(len(key), len(key2)))  # never cut
    height = top + m * cell + 52
    shade = strength(matrix)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="11">',
        f'<rect width="100%" height="100%" fill="white"/><text x="8" y="20" font-size="14">{escape(title)}</text>',
    ]
    if m * n > RASTER_ENTRIES:  # one pixel per entry, embedded: a square each would make a file of megabytes
        picture = base64.b64encode(_png(_colours(shade))).decode()
        out.append(
            f'<image x="{left}" y="{top}" width="{n * cell:.2f}" height="{m * cell:.2f}" preserveAspectRatio="none" '
            f'style="image-rendering:pixelated" href="data:image/png;base64,{picture}"/>'
        )
    else:
        colours = _colours(shade)
        for i, j in zip(*np.nonzero(matrix), strict=True):
            r, g, b = colours[i, j]
            x, y = left + j * cell, top + i * cell
            out.append(
                f'<rect x="{x:.2f}" y="{y:.2f}" width="{cell:.2f}" height="{cell:.2f}" fill="rgb({r},{g},{b})">'
                f"<title>{escape(rows[i])}, {escape(cols[j])}: {number(matrix[i, j])}</title></rect>"
            )
            if numbered:
                out.append(_cell_text(x, y, cell, rounded(matrix[i, j]), _ink(shade[i, j])))
        if m == n and m <= OUTLINED:  # the diagonal outlined; a 0 on it written, so it is told from a 0 off it
            for k in range(m):
                x, y = left + k * cell, top + k * cell
                out.append(
                    f'<rect class="diagonal" x="{x + 0.5:.2f}" y="{y + 0.5:.2f}" width="{cell - 1:.2f}" '
                    f'height="{cell - 1:.2f}" fill="none" stroke="#555" stroke-dasharray="2,2"/>'
                )
                if matrix[k, k] == 0 and numbered:
                    out.append(_cell_text(x, y, cell, "0", "#8c8c8c"))
    out.append(f'<rect x="{left}" y="{top}" width="{n * cell:.2f}" height="{m * cell:.2f}" fill="none" stroke="#999"/>')
    if labelled:
        for i, r in enumerate(rows):
            out.append(f'<text x="{left - 3}" y="{top + (i + 0.6) * cell:.1f}" text-anchor="end">{escape(r)}</text>')
        for j, c in enumerate(cols):
            x, y = left + (j + 0.6) * cell, top - 3
            out.append(f'<text transform="translate({x:.1f},{y}) rotate(-90)">{escape(c)}</text>')
    base = top + m * cell
    out.append(f'<text x="8" y="{base + 20:.0f}">{escape(key)}</text>')
    out.append(f'<text x="8" y="{base + 36:.0f}">{escape(key2)}</text></svg>')
    return "\n".join(out).encode()


def _cell_text(x: float, y: float, cell: float, text: str, ink: str) -> str:
    size = min(12.0, cell * 1.6 / max(len(text), 2))
    return (
        f'<text x="{x + cell / 2:.2f}" y="{y + cell / 2 + size * 0.35:.2f}" text-anchor="middle" '
        f'font-size="{size:.1f}" fill="{ink}">{escape(text)}</text>'
    )


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

    fig = heatmap_figure(matrix, rows, cols, title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buffer.getvalue()


def heatmap_figure(matrix: np.ndarray, rows: list[str], cols: list[str], title: str):
    """The matplotlib figure: a symmetric log colour scale with a tick a decade, numbers in the squares up to
    16 × 16, the diagonal outlined, the title over the axes and the colour bar (wrapped: never cut)."""
    from .files import matplotlib_home
    from .optional import INSTALL

    matplotlib_home()  # its font cache: never in the user's home
    try:
        import matplotlib
    except ImportError:
        raise UsageError(f"a PNG heat map needs matplotlib: {INSTALL} (or write .svg)") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt
    from matplotlib.colors import SymLogNorm
    from matplotlib.patches import Rectangle

    m, n = matrix.shape
    scale = float(np.max(np.abs(matrix), initial=0.0)) or 1.0
    size = (min(12, max(5.0, 1.6 + 0.45 * n)), min(12, max(4.0, 1.4 + 0.45 * m)))
    fig, ax = plt.subplots(figsize=size, layout="constrained")
    norm = SymLogNorm(linthresh=scale / 10**DECADES, vmin=-scale, vmax=scale, base=10)
    image = ax.imshow(matrix, cmap="bwr", norm=norm, interpolation="nearest")
    if m <= 40 and n <= 40:
        ax.set_yticks(range(m), rows, fontsize=8)
        ax.set_xticks(range(n), cols, fontsize=8, rotation=90)
    if m <= 16 and n <= 16:
        shade = strength(matrix)
        for i in range(m):
            for j in range(n):
                if matrix[i, j] != 0 or (m == n and i == j):
                    ink = "#8c8c8c" if matrix[i, j] == 0 else _ink(shade[i, j])
                    ax.text(j, i, rounded(matrix[i, j]), ha="center", va="center", fontsize=8, color=ink)
    if m == n and m <= OUTLINED:
        for k in range(m):
            ax.add_patch(Rectangle((k - 0.5, k - 0.5), 1, 1, fill=False, edgecolor="#555", linestyle=":", lw=0.8))
    fig.suptitle(
        "\n".join(textwrap.wrap(title, 60)), fontsize=max(11, 1.3 * size[0])
    )  # over the axes and the colour bar: never cut
    ticks = [s * scale / 10**k for s in (-1, 1) for k in range(0, int(DECADES), 1)] + [0.0]  # a tick a decade
    bar = fig.colorbar(image, ax=ax, shrink=0.85, label="entry (symmetric log scale)", ticks=sorted(ticks))
    bar.ax.set_yticklabels([rounded(t) for t in sorted(ticks)])
    return fig
