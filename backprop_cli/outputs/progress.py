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
