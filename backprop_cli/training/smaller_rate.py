"""After a run diverged: a smaller learning rate that is known to train, found by training with it.

A suggestion the tool prints must run as printed: "try --lr 0.001" that diverges too is worse than no
number. So each candidate (a tenth, a hundredth, ... of the rate that diverged) is run exactly as the
user's run was (same steps, schedule, minibatches), quietly, and the first that finishes with a lower
loss than it started from is the one suggested. Within a time budget: a big graph with many steps gets
no number rather than minutes of search.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from ..errors import EvaluationError
from ..graph import Graph
from .loop import train
from .optimizers import make_optimizer

FACTORS = (10, 100, 1_000, 10_000)
BUDGET_SECONDS = 20.0  # all candidates together; a candidate that cannot finish in what is left is not tried


def smaller_rate(
    graph: Graph,
    optimizer: str,
    hyper: dict[str, float],
    steps: int,
    seconds_per_step: float,
    train_options: dict[str, object],
    on_try: Callable[[float], None] | None = None,
) -> float | None:
    """The largest lr/10^k (k = 1 … 4) with which the run finishes and lowers the loss, or None
    (none does, or trying would take longer than the budget). train_options: schedule, schedule_params,
    batch_size and seed, as the run had them."""
    lr = hyper["lr"]
    started = time.monotonic()
    for factor in FACTORS:
        left = BUDGET_SECONDS - (time.monotonic() - started)
        if seconds_per_step * steps > left:
            return None
        candidate = float(f"{lr / factor:.3g}")  # printed as written: 0.001, not 0.0009999999
        if on_try is not None:
            on_try(candidate)
        begun = time.monotonic()
        try:
            run = train(graph, make_optimizer(optimizer, **{**hyper, "lr": candidate}), steps, **train_options)
        except EvaluationError:
            seconds_per_step = max(seconds_per_step, (time.monotonic() - begun) / steps)
            continue
        seconds_per_step = max(seconds_per_step, (time.monotonic() - begun) / steps)
        if math.isfinite(run.final_loss) and run.final_loss < run.losses[0]:
            return candidate
    return None
