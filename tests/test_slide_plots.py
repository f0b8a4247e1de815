"""Plots that go on a slide (issue 22): heat maps with numbers in their squares, a colour scale on which a
small entry is not white (zigzag's H_xx = 1 next to 50), the diagonal outlined so a dead unit's 0 is told
from a structural 0, titles never cut; the optimizer race with every path and its end visible."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import backprop_cli
from backprop_cli.outputs.heatmaps import heatmap_svg, strength

SVG = "{http://www.w3.org/2000/svg}"


def test_a_small_entry_is_not_white_and_the_scale_keeps_order():
    shade = strength(np.array([[1.0, 0.0], [0.0, 50.0]]))  # zigzag's Hessian
    assert 0.35 < shade[0, 0] < shade[1, 1] == 1.0 and shade[0, 1] == 0
    rng = np.random.default_rng(22)
    values = rng.standard_normal(500) * 10.0 ** rng.integers(-6, 4, 500)
    ordered = strength(np.sort(np.abs(values))[None, :])[0]
    assert np.all(np.diff(ordered) >= 0) and np.all(ordered > 0.1)  # monotone, and nothing nonzero vanishes
    assert np.array_equal(np.sign(strength(values[None, :])[0]), np.sign(values))


def cells(svg: bytes) -> tuple[list[ET.Element], list[str], ET.Element]:
    root = ET.fromstring(svg)
    squares = [e for e in root.iter(f"{SVG}rect") if e.find(f"{SVG}title") is not None]
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    return squares, texts, root


def test_the_hessian_heat_map_shows_its_numbers_and_h_xx(run, tmp_path):
    out = tmp_path / "h.svg"
    assert run("hessian", "zigzag", "-o", str(out)).exit_code == 0
    squares, texts, root = cells(out.read_bytes())
    assert "1" in texts and "50" in texts  # the numbers, in their squares
    fills = {e.find(f"{SVG}title").text: e.get("fill") for e in squares}
    r, g, b = map(int, re.findall(r"\d+", fills["x, x: 1"]))
    assert r == 255 and g < 180  # H_xx = 1 on a ±50 scale: a clear red tint, not white
    title = next(t for t in root.iter(f"{SVG}text") if t.text.startswith("Hessian"))
    assert float(root.get("width")) >= 8 + 7.6 * len(title.text)  # the whole title fits the picture


def test_the_jacobian_tells_a_dead_units_zero_from_the_zeros_off_the_diagonal(run, tmp_path):
    out = tmp_path / "j.svg"
    assert run("jacobian", "relu_jacobian", "--of", "h", "--wrt", "a", "-o", str(out)).exit_code == 0
    squares, texts, root = cells(out.read_bytes())
    diagonal = [e for e in root.iter(f"{SVG}rect") if e.get("class") == "diagonal"]
    assert len(diagonal) == 8 and len(squares) == 4  # every diagonal square outlined; the 4 live units coloured
    assert texts.count("1") == 4 and texts.count("0") == 4  # the dead units' zeros written on the diagonal


@pytest.mark.parametrize("size", [2, 60])
def test_heat_map_titles_are_never_cut(size):
    """matplotlib: the title over the axes and the colour bar, inside the figure; SVG: wide enough."""
    pytest.importorskip("matplotlib")
    from backprop_cli.outputs.heatmaps import heatmap_figure

    title = "Hessian of loss; condition number 215 — a long title that a colour bar used to cut in the middle"
    matrix = np.random.default_rng(size).standard_normal((size, size))
    names = [f"w[{i}]" for i in range(size)]
    fig = heatmap_figure(matrix, names, names, title)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig._suptitle.get_window_extent(renderer)
    frame = fig.bbox
    assert box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y1 <= frame.y1
    for ax in fig.axes:  # the axes and the colour bar are under it
        assert not box.overlaps(ax.get_window_extent(renderer)), ax
    import matplotlib.pyplot as plt

    plt.close(fig)
    svg = heatmap_svg(matrix, names, names, title)
    assert float(ET.fromstring(svg).get("width")) >= 8 + 7.6 * len(title)


def test_the_race_shows_every_path_and_its_end(monkeypatch):
    """Each optimizer's path with its own marker and dash, a little transparent; the first (SGD, the shortest
    path) drawn over the others, its end star on top of every path and outlined."""
    pytest.importorskip("matplotlib")
    from backprop_cli.outputs.formats import plots
    from backprop_cli.training.loop import Run

    graph = backprop_cli.load("rosenbrock")
    long = [(-1.5 + 0.1 * k, 2.0 - 0.1 * k) for k in range(20)]
    runs = [
        Run("sgd", {"lr": 0.001}, [3.0, 2.9], {}, 2.9, long[:3]),  # short: under the others' paths before
        Run("momentum", {"lr": 0.001}, [3.0, 1.0], {}, 1.0, long),
        Run("adam", {"lr": 0.1}, [3.0, 2.0], {}, 2.0, long[:12]),
    ]
    figures = []
    plt = plots._pyplot()
    close = plt.close
    monkeypatch.setattr(plots, "_save", lambda fig, target, **kw: figures.append(fig))
    monkeypatch.setattr(plt, "close", lambda fig: None)
    plots.plot_runs(graph, runs, "png")
    ax_path = figures[0].axes[0]
    paths = [line for line in ax_path.get_lines() if len(line.get_xdata()) > 1]
    stars = [line for line in ax_path.get_lines() if line.get_marker() == "*"]
    assert (
        len(paths) == 3 and len({p.get_marker() for p in paths}) == 3 and len({p.get_linestyle() for p in paths}) == 3
    )
    assert all(p.get_alpha() < 1 for p in paths)
    assert paths[0].get_zorder() > paths[1].get_zorder() > paths[2].get_zorder()  # SGD on top
    assert min(s.get_zorder() for s in stars) > max(p.get_zorder() for p in paths)  # every end above every path
    assert all(s.get_markeredgecolor() == "black" and s.get_markersize() >= 12 for s in stars)
    close(figures[0])
