"""The optimizer race's plot: the minimum the example states (`minimum:`), checked when the file
loads and marked on the contour; legends that never cover the paths or the curves."""

from __future__ import annotations

import numpy as np
import pytest

import backprop_cli
from backprop_cli.training.loop import Run

RACES = ("rosenbrock", "beale", "saddle", "zigzag")


@pytest.mark.parametrize("name", RACES)
def test_the_stated_minima_are_minima(name):
    """Against the graph itself: the gradient vanishes there and every nearby point is higher."""
    graph = backprop_cli.load(name)
    assert graph.minima
    rng = np.random.default_rng(0)
    for point in graph.minima:
        at = graph.with_values(point)
        gradient = at.backward()
        assert all(abs(gradient[p]) < 1e-9 for p in graph.params), gradient
        low = at.forward()[graph.output]
        for _ in range(20):
            step = {p: v + rng.normal(scale=1e-2) for p, v in point.items()}
            assert graph.with_values(step).forward()[graph.output] > low


@pytest.mark.parametrize(
    ("minimum", "words"),
    [
        ("{x: 1, z: 1}", "'z' is not a param"),
        ("{x: 1}", "y missing"),
        ("{x: 1, y: one}", "y must be a finite number"),
        ("[{x: 1, y: 1}, 3]", "a point {param: number"),
        ("{x: .inf, y: 1}", "finite number"),
    ],
)
def test_a_wrong_minimum_is_one_line_with_its_position(run, graph_file, minimum, words):
    path = graph_file(
        f"params: {{x: 0.5, y: 1.0}}\nnodes: {{loss: x ** 2 + y ** 2}}\noutput: loss\nminimum: {minimum}\n"
    )
    result = run("trace", str(path))
    assert result.exit_code == 2 and words in result.stderr and f"{path}:4:" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_minimum_round_trips_through_the_writer():
    from backprop_cli.fileformat.writer import dumps

    graph = backprop_cli.load("saddle")
    assert backprop_cli.loads(dumps(graph)).minima == graph.minima == [{"x": 0.0, "y": 1.0}, {"x": 0.0, "y": -1.0}]


def test_the_plot_marks_the_minimum_and_keeps_legends_off_the_axes(monkeypatch):
    pytest.importorskip("matplotlib")
    from backprop_cli.outputs.formats import plots

    graph = backprop_cli.load("rosenbrock")
    path = [(-1.5, 2.0), (-1.0, 1.5), (0.0, 0.5)]
    runs = [Run(name, {"lr": 0.1}, [3.0, 2.0, 1.0], {}, 1.0, path) for name in ("sgd", "momentum", "adam")]
    figures = []
    plt = plots._pyplot()
    close = plt.close
    monkeypatch.setattr(plots, "_save", lambda fig, target, **kw: figures.append(fig))
    monkeypatch.setattr(plt, "close", lambda fig: None)
    plots.plot_runs(graph, runs, "png")
    fig = figures[0]
    fig.canvas.draw()
    ax_path, ax_loss = fig.axes
    marks = [line for line in ax_path.get_lines() if line.get_marker() == "X"]
    assert [tuple(np.ravel(m.get_xydata())) for m in marks] == [(1.0, 1.0)]
    xs, ys = ax_path.get_xlim(), ax_path.get_ylim()
    assert xs[0] < 1 < xs[1] and ys[0] < 1 < ys[1]  # inside the picture
    renderer = fig.canvas.get_renderer()
    for ax in (ax_path, ax_loss):
        legend = ax.get_legend().get_window_extent(renderer)
        assert not legend.overlaps(ax.get_window_extent(renderer))  # under the axes, not over the paths
    close(fig)
