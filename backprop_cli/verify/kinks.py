"""What a kink excuses, and what it does not (issue 20): the checks gradcheck (check.py) adds where its stencils
cross kinks. ctx is check.py's context; check_node is its check of one node (these call it again)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..engines.evaluate import evaluate
from ..engines.reverse_mode import reverse_mode
from ..errors import EvaluationError, PluginError
from .numerical import float64_reference, steps_for, typical_size
from .verdicts import KEPT_FINDINGS, LeafCheck

RESOLVE_LIMIT = 2**16  # elements checked one by one when a random direction cannot be judged at a kink


def check_beside(ctx, name: str, leaf: LeafCheck, check_node: Callable) -> None:
    """Kinks on a path through plugin code excuse any value between their one-sided slopes, however far apart a
    forward made them (x² + 1000·|x - round(x, 1)| at the checked values, and a backward of 0). So the leaf is
    checked once more with every element moved off its kink by about half a step, where the code must be smooth
    and its derivative exact: a failure there, or a kink of the student's code there too, fails the leaf."""
    value = np.asarray(ctx.graph.leaf_values[name])
    steps = steps_for(value, "richardson", ctx.eps, typical_size(value))
    moved = value + ctx.rng.uniform(0.3, 0.7, value.shape) * ctx.rng.choice([-1.0, 1.0], value.shape) * steps
    graph = replace(ctx.graph, leaf_values={**ctx.graph.leaf_values, name: np.asarray(moved, ctx.graph.dtype)})
    where = "half a step beside its kink"
    try:
        values = evaluate(graph)
        reference, base = float64_reference(graph, values)
        gradients = reverse_mode(graph, values, wrt={name}, seed=np.asarray(ctx.weights, graph.dtype))
        again = check_node(
            replace(ctx, graph=graph, values=values, reference=reference, base=base, gradients=gradients, beside=True),
            name,
        )
    except (EvaluationError, PluginError) as err:
        leaf.status = "fail"
        leaf.notes.append(f"{where}: {err}")
        return
    student_kinks = [f for f in again.findings if f.status == "kink" and f.gate is None]
    if again.status != "fail" and not student_kinks:
        return
    leaf.status = "fail"
    leaf.failures += again.failures + len(student_kinks)
    wrong = [f for f in again.findings if f.status == "fail" or f in student_kinks]
    shown = [replace(f, status="fail", note=f"{where}: {f.note or 'wrong there'}") for f in wrong]
    kept = [f for f in leaf.findings if f.status == "fail"] + shown + [f for f in leaf.findings if f.status != "fail"]
    leaf.findings = kept[:KEPT_FINDINGS]
    leaf.notes += [f"{where}: {n}" for n in again.notes if n not in leaf.notes]
    if student_kinks and not again.failures:
        leaf.notes.append(f"{where}: the plugin code is not smooth there either: no derivative to check against")
    if again.worst_reverse is not None and not again.max_rel_error <= leaf.max_rel_error:  # NaN: the worse
        for part in (
            "max_rel_error",
            "max_abs_error",
            "worst_index",
            "worst_reverse",
            "worst_forward",
            "worst_numeric",
        ):
            setattr(leaf, part, getattr(again, part))


def resolve(ctx, name: str, leaf: LeafCheck, size: int, check_node: Callable) -> LeafCheck:
    """A random direction on kinks whose value is outside the one-sided slopes: every element decides."""
    why = "a random direction crosses kinks with a value outside its one-sided slopes"
    if size > RESOLVE_LIMIT:
        leaf.status = "fail"
        leaf.notes.append(f"{why}, and {name} has too many elements ({size:,}) to check each: use --mode full")
        return leaf
    full = check_node(replace(ctx, mode="full"), name)
    full.notes.append(f"{why}: every element checked one by one")
    return full
