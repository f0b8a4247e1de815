"""Pictures of training: loss curves, and for two scalar params the loss contour with each
optimizer's path (the lectures' optimizer race), still (--plot: svg, png, pdf) or step by step (--animate:
gif, html).

matplotlib is imported only here, inside the functions that draw.
"""

from __future__ import annotations

import numpy as np

from ...engines.evaluate import evaluate
from ...errors import EvaluationError, UsageError, printable
from ...graph import Graph
from ...training.loop import Run, two_scalar_params
from ..files import matplotlib_home
from ..optional import INSTALL as INSTALL_LINE
from ..optional import require
from . import Settings

GRID = 80  # contour resolution per axis
LEVELS = 30
MAX_FRAMES = 40
ANIMATION_DPI = 60  # small frames: a gif or html page of a few MB
INSTALL = f"plotting needs matplotlib: {INSTALL_LINE}"


def check_can_draw(formats: list[str]) -> None:
    """Before any training: pictures need matplotlib, a .gif needs pillow too (exit 2 if missing)."""
    if "gif" in formats:
        require("--animate (a .gif)", "matplotlib", "PIL")
    require("--plot" if set(formats) & {"svg", "png", "pdf"} else "--animate", "matplotlib")


def train(result, settings: Settings) -> bytes:
    """The race as a picture (svg, png, pdf) or an animation (gif, html)."""
    if settings.format in ("gif", "html"):
        return animate_runs(result.graph, result.runs, settings.format, settings.path)
    return plot_runs(result.graph, result.runs, settings.format)


def _pyplot():
    matplotlib_home()  # its font cache: never in the user's home
    try:
        import matplotlib
    except ImportError:
        raise UsageError(INSTALL) from None
    matplotlib.use("Agg")  # files only, never a window
    matplotlib.rcParams["animation.embed_limit"] = 200  # MB: --animate .html holds every frame
    import matplotlib.pyplot as plt

    return plt


# ------------------------------------------------------------ data
def loss_surface(graph: Graph, runs: list[Run]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The loss over a grid around every path (all the data, like the final loss)."""
    first, second = graph.params
    marked = [(m[first], m[second]) for m in graph.minima]  # the file's minimum: inside the picture too
    shown = [run for run in runs if run.finished] or runs  # a diverged path may reach 1e100: the view is the race's
    points = np.array([p for run in shown for p in run.path] + marked)
    low, high = points.min(axis=0), points.max(axis=0)
    pad = np.maximum((high - low) * 0.15, 0.25)
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], GRID)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], GRID)
    zs = np.full((GRID, GRID), np.nan)
    values = dict(graph.leaf_values)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            values[first], values[second] = np.asarray(x, graph.dtype), np.asarray(y, graph.dtype)
            try:
                zs[i, j] = evaluate(graph, values)[graph.output]
            except EvaluationError:
                pass  # outside the loss's domain: a hole in the contour
    return xs, ys, zs


def _levels(zs: np.ndarray) -> np.ndarray:
    """Quantile levels: even for a loss spanning many decades (Rosenbrock) every level shows."""
    finite = zs[np.isfinite(zs)]
    levels = np.unique(np.quantile(finite, np.linspace(0, 1, LEVELS))) if finite.size else np.array([0.0])
    return levels if levels.size > 1 else np.array([levels[0], levels[0] + 1])


def _save(fig, fmt: str, **kwargs) -> bytes:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


# ------------------------------------------------------------ drawing
def _axes(plt, graph: Graph, runs: list[Run]):
    contour = two_scalar_params(graph) and all(run.path for run in runs)
    if contour:
        fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(12, 5))
        xs, ys, zs = loss_surface(graph, runs)
        ax_path.contour(xs, ys, zs, levels=_levels(zs), cmap="viridis", linewidths=0.7)
        ax_path.set_xlabel(graph.params[0])
        ax_path.set_ylabel(graph.params[1])
        ax_path.set_title(f"{graph.output} over ({graph.params[0]}, {graph.params[1]})")
        start = runs[0].path[0]
        ax_path.plot(*start, "ko", markersize=6, label="start")
        for k, point in enumerate(graph.minima):  # where the race should end, as the file states it
            where = (point[graph.params[0]], point[graph.params[1]])
            label = ("minimum" if len(graph.minima) == 1 else "minima") if k == 0 else None
            ax_path.plot(*where, "X", color="white", markeredgecolor="black", markersize=12, label=label, zorder=5)
    else:
        fig, ax_loss = plt.subplots(figsize=(7, 5))
        ax_path = None
    positive = all(min(run.losses + [run.final_loss if run.finished else np.inf]) > 0 for run in runs if run.losses)
    ax_loss.set_yscale("log" if positive else "linear")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel(graph.output)
    ax_loss.set_title(printable(graph.name).replace("$", r"\$"))  # as written: `$...$` is not mathtext here
    return fig, ax_path, ax_loss


def _legends(ax_path, ax_loss, runs: int) -> None:
    """Legends under the axes, never over the paths or the curves."""
    below = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.13), "frameon": False}
    ax_loss.legend(ncol=min(runs, 3), **below)
    if ax_path is not None:
        ax_path.legend(ncol=2, **below)


def _label(run: Run) -> str:
    diverged = "" if run.finished else f", diverged at step {run.diverged_at}"
    return f"{run.optimizer} (lr={run.hyper['lr']:g}{diverged})"


def _loss_view(ax_loss, runs: list[Run]) -> None:
    """With a diverged run, the loss chart's scale is the finished runs' (a diverged loss climbs to 1e300); set
    before anything is plotted, so that matplotlib never scales to those numbers."""
    values = [v for run in runs if run.finished for v in [*run.losses, run.final_loss]]
    if all(run.finished for run in runs) or not values:
        return
    low, high = min(values), max(values)
    if ax_loss.get_yscale() == "log":
        ax_loss.set_ylim(low / 2, high * 10)
    else:
        ax_loss.set_ylim(low - 0.1 * (high - low + 1), high + 0.5 * (high - low + 1))


END = {"marker": "X", "markeredgecolor": "black", "markersize": 11, "clip_on": False, "zorder": 6}  # ✕: diverged


def _ends(run: Run, ax_path, ax_loss) -> list[tuple[object, float, float]]:
    """Where a diverged run's ✕ goes: (axes, x, y) at its last finite loss and its last finite point, each drawn
    at the edge of the axes' view, in its direction, when it lies outside (the view is the finished runs')."""
    points = [(ax_loss, len(run.losses), run.losses[-1])] if run.losses else []
    if ax_path is not None and run.path:
        points.append((ax_path, *run.path[-1]))
    out = []
    for axes, x, y in points:
        (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()
        out.append((axes, min(max(x, x0), x1), min(max(y, y0), y1)))
    return out


def _diverged_ends(ax_path, ax_loss, runs: list[Run], colors: list[str]) -> None:
    """A diverged run ends in an ✕ at its last finite point, on the loss chart and the contour."""
    for run, color in zip(runs, colors, strict=True):
        if run.finished:
            continue
        for axes, x, y in _ends(run, ax_path, ax_loss):
            limits = axes.get_xlim(), axes.get_ylim()
            axes.plot(x, y, color=color, **END)
            axes.set_xlim(*limits[0])
            axes.set_ylim(*limits[1])


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
DASHES = ("-", "--", "-.", ":")


def _style(k: int, runs: int) -> dict:
    """Run k's look on the race: its own marker and dash, a little transparent, and drawn over the runs after
    it (the first optimizer, often SGD with the shortest path, is on top, not hidden under the others)."""
    return {
        "marker": MARKERS[k % len(MARKERS)],
        "linestyle": DASHES[k % len(DASHES)],
        "alpha": 0.8,
        "zorder": 3 + runs - k,
    }


def _path(ax, track: np.ndarray, colour: str, k: int, runs: int, star: bool = True) -> None:
    """A path, with a marker every few steps, and its end as a big star outlined in black, on top of all (a
    diverged run's end is its ✕ instead: _diverged_ends)."""
    style = _style(k, runs)
    every = max(1, len(track) // 12)
    ax.plot(track[:, 0], track[:, 1], color=colour, markersize=5, linewidth=1.4, markevery=every, **style)
    if star:
        ax.plot(*track[-1], "*", color=colour, markersize=15, markeredgecolor="black", zorder=20 + runs - k)


def plot_runs(graph: Graph, runs: list[Run], fmt: str) -> bytes:
    """Loss curves on one chart; with two scalar params, the contour and the paths beside it (svg, png, pdf)."""
    plt = _pyplot()
    fig, ax_path, ax_loss = _axes(plt, graph, runs)
    if ax_path is not None:
        view = ax_path.get_xlim(), ax_path.get_ylim()  # the contour's: a diverged path must not widen it
    _loss_view(ax_loss, runs)
    colors = []
    for k, run in enumerate(runs):
        style = {key: value for key, value in _style(k, len(runs)).items() if key != "marker"}
        (line,) = ax_loss.plot(range(1, len(run.losses) + 1), run.losses, label=_label(run), linewidth=1.6, **style)
        colors.append(line.get_color())
        if ax_path is not None and run.path:
            _path(ax_path, np.array(run.path), line.get_color(), k, len(runs), star=run.finished)
    if ax_path is not None:
        ax_path.set_xlim(*view[0])
        ax_path.set_ylim(*view[1])
    if not all(run.finished for run in runs):
        _diverged_ends(ax_path, ax_loss, runs, colors)
    _legends(ax_path, ax_loss, len(runs))
    fig.tight_layout()
    picture = _save(fig, fmt, bbox_inches="tight")
    plt.close(fig)
    return picture


def animate_runs(graph: Graph, runs: list[Run], fmt: str, path: str | None = None) -> bytes:
    """The same picture step by step: a .gif (needs pillow) or a self-contained .html page (path: the file it
    is for, named when matplotlib's own temporary frames cannot be written)."""
    plt = _pyplot()
    from matplotlib.animation import FuncAnimation

    gif = fmt == "gif"
    if gif:
        try:
            import PIL  # noqa: F401  (matplotlib's PillowWriter)
        except ImportError:
            raise UsageError(f"a .gif animation needs pillow: {INSTALL_LINE} (or write .html)") from None
    steps = max(len(run.losses) for run in runs)
    frames = np.unique(np.linspace(1, steps, min(steps, MAX_FRAMES)).astype(int))
    fig, ax_path, ax_loss = _axes(plt, graph, runs)
    if ax_path is not None:
        view = ax_path.get_xlim(), ax_path.get_ylim()
    ax_loss.set_xlim(0, steps + 1)
    finite = [v for run in runs if run.finished for v in run.losses if np.isfinite(v)]
    finite = finite or [v for run in runs for v in run.losses if np.isfinite(v)]
    low, high = min(finite) * (0.5 if min(finite) > 0 else 1.1), max(finite) * 1.5
    ax_loss.set_ylim(*((low, high) if high > low else (low - 1, high + 1)))  # a constant loss of 0: a flat line
    curves, tracks = [], []
    for k, run in enumerate(runs):
        style = _style(k, len(runs))
        (curve,) = ax_loss.plot([], [], label=_label(run), linestyle=style["linestyle"], zorder=style["zorder"])
        curves.append(curve)
        if ax_path is not None:
            (track,) = ax_path.plot([], [], color=curve.get_color(), markersize=4, linewidth=1.4, **style)
            tracks.append(track)
    if ax_path is not None:
        ax_path.set_xlim(*view[0])
        ax_path.set_ylim(*view[1])
    _legends(ax_path, ax_loss, len(runs))
    fig.tight_layout()
    fig.set_layout_engine(None)  # tight_layout leaves a placeholder engine: every frame's savefig drew twice for it
    ends = []  # a diverged run's ✕, shown once its curve has stopped (made after the layout: an empty marker that
    for run, curve in zip(runs, curves, strict=True):  # is not clipped would count as sitting at the corner)
        if not run.finished:
            for axes, x, y in _ends(run, ax_path, ax_loss):
                (marker,) = axes.plot([], [], color=curve.get_color(), **END)
                ends.append((len(run.losses), marker, x, y))

    def draw(t: int):
        for run, curve in zip(runs, curves, strict=True):
            shown = run.losses[:t]  # a diverged run's curve stops at its last finite loss
            curve.set_data(range(1, len(shown) + 1), shown)
        for run, track in zip(runs, tracks, strict=False):
            points = np.array(run.path[: t + 1])
            if len(points):
                track.set_data(points[:, 0], points[:, 1])
        for last, marker, x, y in ends:
            marker.set_data([x] if t >= last else [], [y] if t >= last else [])
        return curves + tracks + [marker for _, marker, _, _ in ends]

    try:
        if gif:
            return _gif(fig, draw, frames)
        animation = FuncAnimation(fig, draw, frames=frames, blit=False)
        # saving draws each frame for its PNG; FuncAnimation's redraw after each frame (for a window on screen)
        # drew every frame twice (bench/animate_bench.py)
        animation._post_draw = lambda *args, **kwargs: None
        fig.set_dpi(ANIMATION_DPI)
        return _offline(animation.to_jshtml(fps=10)).encode("utf-8")
    except OSError as err:  # matplotlib's own temporary frames (disk full, a quota)
        what = f"write {printable(path)}" if path else "draw the animation"
        raise UsageError(f"cannot {what}: {err.strerror or err}") from None
    finally:
        plt.close(fig)


def _gif(fig, draw, frames) -> bytes:
    """The frames as an animated GIF in memory (10 frames a second, looping), as matplotlib's PillowWriter
    makes it, without its file."""
    import io

    from PIL import Image

    fig.set_dpi(ANIMATION_DPI)
    images = []
    for t in frames:
        draw(int(t))
        fig.canvas.draw()
        width, height = fig.canvas.get_width_height()
        images.append(Image.frombuffer("RGBA", (width, height), fig.canvas.buffer_rgba()).convert("RGB"))
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return buffer.getvalue()


# matplotlib's HTML player draws its buttons with font-awesome icons from a CDN: text symbols instead,
# so the page works offline (a classroom, an autograder's sandbox)
BUTTONS = {
    "fa fa-minus": "−",
    "fa fa-fast-backward": "|◀◀",
    "fa fa-step-backward": "|◀",
    "fa fa-play fa-flip-horizontal": "◀",
    "fa fa-pause": "❚❚",
    "fa fa-play": "▶",
    "fa fa-step-forward": "▶|",
    "fa fa-fast-forward": "▶▶|",
    "fa fa-plus": "+",
}


def _offline(html: str) -> str:
    import re

    html = re.sub(r'<link rel="stylesheet"\s*href="https?://[^"]*">', "", html)
    return re.sub(r'<i class="(fa [^"]*)"></i>', lambda m: BUTTONS.get(m.group(1), "·"), html)
