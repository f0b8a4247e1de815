"""What `backprop train` shows and writes: progress, summary lines, JSON, the trained graph file."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..errors import UsageError, shortened
from ..graph import Graph
from ..numbers import number, summary
from ..outputs.files import (
    check_distinct,
    check_not_inputs,
    check_not_overwriting,
    check_output,
    destination,
    inputs_of,
)
from .loop import Run
from .optimizers import Optimizer

SUFFIXES = {  # option -> the kinds of file it writes
    "-o": (".yaml", ".yml"),
    "--plot": (".svg", ".png", ".pdf"),
    "--animate": (".gif", ".html"),
}


# ------------------------------------------------------------ paths, checked before training
def check_paths(out: str | None, plot: str | None, animate: str | None) -> None:
    for option, path in (("-o", out), ("--plot", plot), ("--animate", animate)):
        if path is not None:
            check_output(option, path, SUFFIXES[option])


def check_outputs(graph: Graph, options: dict[str, str | None], force: bool = False) -> None:
    """Before training: no output is one of the run's inputs (the graph file, a data file, a plugin module);
    the .npy files -o writes beside the YAML do not replace someone else's files (unless force), and its
    plugin modules stay reachable."""
    outputs = [(option, path) for option, path in options.items() if path is not None]
    out = options.get("-o")
    if out is not None:
        from ..fileformat.writer import to_files

        out = str(destination("-o", out))  # a link: the file it names, and the .npy files beside that file
        _, arrays = to_files(graph, graph.leaf_values, out, frozenset(graph.params))  # refuses modules left behind
        owned = _named_by(out)  # .npy files an existing -o graph file names are its own: replaced
        for name in arrays:
            beside = str(Path(out).parent / name)
            if len(name.encode("utf-8", "surrogateescape")) > 255:  # what file systems allow in one name
                raise UsageError(
                    f"-o {shortened(out, 100)}: a leaf's values go to {shortened(name, 60)}, longer than the 255 "
                    "bytes of a file name; give -o a shorter name, or the leaf a shorter one"
                )
            outputs.append(("-o", beside))
            if name not in owned:
                check_not_overwriting(f"-o {out}", beside, force)
            check_output("-o", beside)
    check_distinct(outputs)
    check_not_inputs(outputs, inputs_of(graph))


def _named_by(out: str) -> set[str]:
    """The data files an existing graph file at out refers to (`w: {file: t.w.npy}`), as it was written by
    an earlier `train -o`: a .npy of that name beside it is provably its own. Nothing for another file."""
    import re

    try:
        with open(out, "rb") as stream:
            text = stream.read(32 * 2**20).decode("utf-8", "replace")
    except OSError:
        return set()
    return {m.group(2) for m in re.finditer(r"""\bfile: (['"]?)([^'"\s,}]+)\1""", text)}


def trained_files(graph: Graph, params: dict[str, np.ndarray], out: str) -> dict[str, bytes]:
    """{path: content}: the graph file with the trained params at out, its large values in .npy files
    beside it (written first, so the YAML never names a file that is not there yet)."""
    import io

    from ..fileformat.writer import to_files

    out = str(destination("-o", out))
    text, arrays = to_files(graph, {**graph.leaf_values, **params}, out)
    files = {}
    for name, array in arrays.items():
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(array), allow_pickle=False)
        files[str(Path(out).parent / name)] = buffer.getvalue()
    return {**files, out: text.encode("utf-8")}


# ------------------------------------------------------------ terminal
@contextlib.contextmanager
def progress(optimizer: Optimizer, steps: int, quiet: bool) -> Iterator[Callable[[int, float], None] | None]:
    """A rich progress bar on stderr with the live loss (none when quiet or not a terminal)."""
    from rich.console import Console

    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn(f"{optimizer.name:<9}"),
        BarColumn(bar_width=min(40, max(10, console.width - 60))),  # the loss and the count keep their room
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("train", total=steps, loss="-")

        def on_step(t: int, loss: float) -> None:
            bar.update(task, completed=t, loss=number(loss))

        yield on_step


def hyper_text(hyper: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in hyper.items())


def summary_lines(graph: Graph, runs: list[Run], steps: int) -> list[str]:
    """One line per run: the loss before and after, and the trained params when they are small."""
    lines = []
    for run in runs:
        lines.append(
            f"{run.optimizer} ({hyper_text(run.hyper)}): {steps} steps, "
            f"{graph.output} {number(run.losses[0])} → {number(run.final_loss)}"
        )
        small = {p: v for p, v in run.params.items() if np.size(v) <= 4}
        if small:
            lines.append("  " + ", ".join(f"{p} = {summary(v)}" for p, v in small.items()))
    return lines


def json_object(
    graph: Graph, runs: list[Run], every: int, schedule: dict[str, object], batch_size: int | None, seed: int
) -> dict:
    """Schema backprop.train, version 1: the losses of steps every, 2·every, … and the last."""
    steps = len(runs[0].losses)
    shown = [t for t in range(1, steps + 1) if t % every == 0 or t == steps]
    return {
        "schema": "backprop.train",
        "version": 1,
        "graph": graph.name,
        "file": graph.source,
        "output": graph.output,
        "steps": steps,
        "every": every,
        "batch_size": batch_size,
        "seed": seed,
        "schedule": schedule,
        "runs": [
            {
                "optimizer": run.optimizer,
                "hyper": run.hyper,
                "initial_loss": run.losses[0],
                "final_loss": run.final_loss,
                "step": shown,
                "loss": [run.losses[t - 1] for t in shown],
                "params": dict(run.params),  # arrays: written by outputs/json_output.emit_json
                "notes": run.notes,
            }
            for run in runs
        ],
    }
