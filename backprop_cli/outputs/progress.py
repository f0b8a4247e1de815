"""Progress of long work on stderr: shown on a terminal only, never in a pipe or a file, and only once the
work has taken more than a moment (a quick check prints nothing), then cleared when it ends."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

DELAY = 1.0  # seconds of silence before a bar appears


@contextlib.contextmanager
def progress_on_terminal(title: str) -> Iterator[Callable[[str, int, int], None] | None]:
    """Yields report(part, done, total) (None when stderr is not a terminal): a bar per part, e.g. per leaf."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    started = time.monotonic()
    shown: dict = {}  # the rich Progress, once shown, and its task per part

    def report(part: str, done: int, total: int) -> None:
        if "bar" not in shown:
            if time.monotonic() - started < DELAY:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            columns = (
                TextColumn(f"{title} {{task.description}}"),
                BarColumn(bar_width=min(30, max(10, console.width - 60))),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            shown["bar"] = Progress(*columns, console=console, transient=True)
            shown["bar"].start()
        bar = shown["bar"]
        if part not in shown:
            from rich.markup import escape

            from ..errors import printable

            shown[part] = bar.add_task(escape(printable(part)), total=total)  # a leaf's name, never markup
        bar.update(shown[part], completed=done, total=total)

    try:
        yield report
    finally:
        if "bar" in shown:
            shown["bar"].stop()


# ------------------------------------------------------------ training: a bar per optimizer, with the live loss
class Bar:
    """The progress of one run: `step` for the loop (None: nothing to show), `done` with the run's end."""

    def __init__(self, bar=None, task=None) -> None:
        self.bar, self.task = bar, task
        self.step: Callable[[int, float], None] | None = None if bar is None else self._step

    def _step(self, t: int, loss: float) -> None:
        from ..numbers import number

        self.bar.update(self.task, completed=t, loss=number(loss))

    def done(self, run) -> None:
        """The bar ends at the loss the summary gives: the one after the last update (not the one before it)."""
        from ..numbers import number

        if self.bar is None:
            return
        if run.finished:
            self.bar.update(self.task, loss=number(run.final_loss))
        else:
            self.bar.update(self.task, loss=f"diverged at step {run.diverged_at}")


@contextlib.contextmanager
def training_progress(optimizer, steps: int, quiet: bool) -> Iterator[Bar]:
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
