"""The training loop: evaluate, backpropagate to the params, let the optimizer step; repeat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..engines.evaluate import evaluate
from ..engines.reverse_mode import reverse_mode
from ..errors import EvaluationError, UsageError
from ..graph import Graph
from .batches import minibatches
from .optimizers import Optimizer
from .schedules import make_schedule


@dataclass
class Run:
    """One optimizer's run: the loss at every step, the final params and loss, and (for graphs
    with two scalar params) the path θ took, starting point included."""

    optimizer: str
    hyper: dict[str, float]
    losses: list[float]
    params: dict[str, np.ndarray]
    final_loss: float  # nan when the run diverged
    path: list[tuple[float, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. newton met a singular Hessian and did not move
    steps: int = 0  # the steps asked for
    diverged_at: int | None = None  # the step whose loss or gradient was not finite (losses stop before it)
    diverged: str = ""  # why, as the error would say it
    diverged_where: object = None  # the Position of the node whose value was not finite

    @property
    def finished(self) -> bool:
        return self.diverged_at is None

    def diverged_text(self) -> str:
        """`diverged at step 8 (node loss.pow3 = ... is inf: ...)`: when and why the run stopped."""
        when = f"at step {self.diverged_at}" if self.diverged_at <= self.steps else f"after step {self.steps}"
        return f"diverged {when} ({self.diverged})"


@dataclass
class Training:
    """What `backprop train` computed: the runs of a race (one per optimizer), and how they were run."""

    graph: Graph
    runs: list[Run]
    steps: int
    every: int = 1  # the losses of every k-th step are reported (JSON)
    schedule: dict[str, object] = field(default_factory=lambda: {"name": "constant"})
    batch_size: int | None = None
    seed: int = 0
    suggested: dict[int, float] = field(default_factory=dict)  # run index -> a learning rate with which it trains
    retries: dict[int, str] = field(default_factory=dict)  # run index -> the command line that trains it


def two_scalar_params(graph: Graph) -> bool:
    """Graphs whose loss can be drawn as a contour over (param 1, param 2)."""
    return len(graph.params) == 2 and all(graph.nodes[p].shape == () for p in graph.params)


def train(
    graph: Graph,
    optimizer: Optimizer,
    steps: int,
    schedule: str = "constant",
    schedule_params: dict[str, float] | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    on_step: Callable[[int, float], None] | None = None,
    keep_diverged: bool = False,
) -> Run:
    """Train graph's params to lower its output. Step t (from 1) reports the loss at the point
    where its gradient was taken; the schedule starts from the optimizer's lr. Raises
    EvaluationError naming the step if the loss diverges; with keep_diverged, returns the run up to
    its last finite point instead (diverged_at, diverged), as one line of a race."""
    params = graph.params
    if not params:
        raise UsageError("the graph has no params to train (declare them under `params:`)")
    if graph.nodes[graph.output].shape != ():
        raise UsageError(
            f"the output {graph.output!r} must be a scalar loss to train, not shape {graph.nodes[graph.output].shape}"
        )
    optimizer.prepare(graph)
    rate = make_schedule(schedule, optimizer.hyper["lr"], **(schedule_params or {}))
    wrt = set(params)
    values = dict(graph.leaf_values)
    # copies the optimizer updates in place: the graph keeps its values
    theta = {p: np.array(graph.leaf_values[p], dtype=graph.dtype) for p in params}
    batches = minibatches(graph, batch_size, seed) if batch_size is not None else None
    path = [tuple(float(theta[p]) for p in params)] if two_scalar_params(graph) else None
    losses: list[float] = []
    for t in range(1, steps + 1):
        if batches is not None:
            values.update(next(batches))
        optimizer.before_gradient(theta)
        values.update(theta)
        optimizer.observe(graph, values)
        try:
            forward = evaluate(graph, values)
            grads = reverse_mode(graph, forward, wrt=wrt)
        except EvaluationError as err:
            if keep_diverged and optimizer.t > 0:
                return _stopped(optimizer, losses, theta, path, t, err, steps)
            raise _diverged(err, t, optimizer) from None
        except (ValueError, IndexError) as err:  # a node whose attributes fix the batch size, e.g. reshape
            raise UsageError(
                f"the graph does not work on minibatches of {batch_size}: {err}", parameter="batch_size"
            ) from None
        loss = float(forward[graph.output])
        optimizer.update(theta, {p: grads[p] for p in params}, rate(t - 1))
        losses.append(loss)
        if path is not None:
            path.append(tuple(float(theta[p]) for p in params))
        if on_step is not None:
            on_step(t, loss)
    try:
        final = float(evaluate(graph, {**graph.leaf_values, **theta})[graph.output])  # on all the data
    except EvaluationError as err:
        if keep_diverged:
            return _stopped(optimizer, losses, theta, path, steps + 1, err, steps)
        raise _diverged(err, steps, optimizer, after=True) from None
    return Run(optimizer.name, dict(optimizer.hyper), losses, theta, final, path or [], list(optimizer.notes), steps)


def _stopped(
    optimizer: Optimizer,
    losses: list[float],
    theta: dict,
    path: list | None,
    t: int,
    error: EvaluationError,
    steps: int,
) -> Run:
    """A diverged run: its losses and path up to the last point whose loss was finite (the point of step t,
    whose evaluation failed, is left out: its numbers may be too large to draw)."""
    path = (path or [])[: len(losses)]  # θ0 … θ(t-2): the points whose losses were reported
    run = Run(optimizer.name, dict(optimizer.hyper), losses, theta, float("nan"), path, list(optimizer.notes), steps)
    run.diverged_at, run.diverged, run.diverged_where = t, error.message, error.where  # the node not finite
    return run


def _diverged(err: EvaluationError, t: int, optimizer: Optimizer, after: bool = False) -> EvaluationError:
    if optimizer.t == 0 and not after:
        return err  # nothing was updated yet: the graph itself fails at its starting values
    lr = optimizer.hyper["lr"]
    when = f"after step {t}" if after else f"at step {t}"
    diverged = EvaluationError(
        f"training diverged {when} ({optimizer.name}, lr={lr:g}): {err.message}; try a smaller learning rate, "
        f"e.g. lr={lr / 10:g}",
        err.where,
    )
    diverged.parameter = "lr"
    return diverged
