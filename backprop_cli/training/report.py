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
class Bar:
    """The progress of one run: `step` for the loop (None: nothing to show), `done` with the run's end."""

    def __init__(self, bar=None, task=None) -> None:
        self.bar, self.task = bar, task
        self.step: Callable[[int, float], None] | None = None if bar is None else self._step

    def _step(self, t: int, loss: float) -> None:
        self.bar.update(self.task, completed=t, loss=number(loss))

    def done(self, run: Run) -> None:
        """The bar ends at the loss the summary gives: the one after the last update (not the one before it)."""
        if self.bar is None:
            return
        if run.finished:
            self.bar.update(self.task, loss=number(run.final_loss))
        else:
            self.bar.update(self.task, loss=f"diverged at step {run.diverged_at}")


@contextlib.contextmanager
def progress(optimizer: Optimizer, steps: int, quiet: bool) -> Iterator[Bar]:
    """A rich progress bar on stderr with the live loss (none when quiet or not a terminal)."""
    from rich.console import Console

    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield Bar()
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
        yield Bar(bar, bar.add_task("train", total=steps, loss="-"))


def hyper_text(hyper: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in hyper.items())


def diverged_text(run: Run) -> str:
    """`diverged at step 8 (node loss.pow3 = ... is inf: ...)`: when and why a run stopped."""
    when = f"at step {run.diverged_at}" if run.diverged_at <= run.steps else f"after step {run.steps}"
    return f"diverged {when} ({run.diverged})"


def summary_lines(graph: Graph, runs: list[Run], steps: int, retries: dict[int, str] | None = None) -> list[str]:
    """One line per run: the loss before and after, and the trained params when they are small; a diverged run
    says where, from which loss, and (retries: run index -> a command line) what trains instead."""
    lines = []
    for k, run in enumerate(runs):
        head = f"{run.optimizer} ({hyper_text(run.hyper)}): "
        if not run.finished:
            last = f"{graph.output} {number(run.losses[0])} → {number(run.losses[-1])}, then " if run.losses else ""
            lines.append(head + last + diverged_text(run))
            if retries and k in retries:
                lines.append(f"  with a smaller learning rate it trains: {retries[k]}")
            continue
        lines.append(head + f"{steps} steps, {graph.output} {number(run.losses[0])} → {number(run.final_loss)}")
        small = {p: v for p, v in run.params.items() if np.size(v) <= 4}
        if small:
            lines.append("  " + ", ".join(f"{p} = {summary(v)}" for p, v in small.items()))
    return lines


def json_object(
    graph: Graph,
    runs: list[Run],
    every: int,
    schedule: dict[str, object],
    batch_size: int | None,
    seed: int,
    suggested: dict[int, float] | None = None,
) -> dict:
    """Schema backprop.train, version 1: the losses of steps every, 2·every, … and the last. A diverged run
    (only in a race: alone it is an error) has its losses up to the last finite one, final_loss null, where it
    diverged and why, and the learning rate with which it trains (suggested: run index -> lr), if one was found."""
    steps = max(len(run.losses) for run in runs if run.finished)

    def shown(run: Run) -> list[int]:
        last = len(run.losses)
        return [t for t in range(1, last + 1) if t % every == 0 or t == last]

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
                "initial_loss": run.losses[0] if run.losses else None,
                "final_loss": run.final_loss if run.finished else None,
                "step": shown(run),
                "loss": [run.losses[t - 1] for t in shown(run)],
                "params": dict(run.params),  # arrays: written by outputs/json_output.emit_json
                "notes": run.notes,
                "diverged_at": run.diverged_at,  # null: the run finished
                "diverged": run.diverged or None,
                "suggested_lr": (suggested or {}).get(k),
            }
            for k, run in enumerate(runs)
        ],
    }
