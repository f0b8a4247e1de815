"""A Jacobian or a Hessian as a heat map: SVG (written directly) or PNG (matplotlib); drawn in heatmaps.py."""

from __future__ import annotations

from ..heatmaps import heatmap_png, heatmap_svg
from ..matrices import labels
from . import Settings


def _draw(settings: Settings, *picture) -> bytes:
    return (heatmap_png if settings.format == "png" else heatmap_svg)(*picture)


def jacobian(result, settings: Settings) -> bytes:
    rows, cols = labels(result.of, result.of_shape), labels(result.wrt, result.wrt_shape)
    title = f"d{result.of}/d{result.wrt}  ({result.nonzeros} nonzero of {result.matrix.size})"
    return _draw(settings, result.matrix, rows, cols, title)


def hessian(result, settings: Settings) -> bytes:
    names = [lb for name, shape in zip(result.wrt, result.shapes, strict=True) for lb in labels(name, shape)]
    cond = result.condition_number
    title = f"Hessian of {settings.graph.output}; condition number " + ("∞" if cond is None else f"{cond:.3g}")
    return _draw(settings, result.matrix, names, names, title)
