"""Each plugin op on its own (issue 20).

A backward that ignores its upstream gradient (returns 2·x for x·x, not 2·x·g) is right wherever the graph
hands the op ones, as `L: sum(k(x))` does: a check of the graph's leaves then passes it. So, once the leaves
pass, every plugin node is checked alone, as the lectures' numerical gradient checks do it: its inputs become
leaves (at their values in the graph), its output the output, projected on a seeded random upstream gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..engines.evaluate import evaluate
from ..errors import BackpropError
from ..graph import Graph, Node
from ..ops import OPS
from .op_slips import name_slips
from .verdicts import KEPT_FINDINGS, LeafCheck, Report

POINTS = ("the graph's values", "negated", "shuffled with random signs and sizes")  # where each op is checked


def _moved(x: np.ndarray, how: str, rng: np.random.Generator) -> np.ndarray:
    """The input at another point (issue 23): negated, so that every element is seen on both sides of 0 (each
    ReLU region, each abs sign); shuffled with random signs and sizes (0.25x to 4x), so that another element
    wins a max and values cross clip bounds. A backward wrong on one branch cannot pass at all three."""
    if how == POINTS[1]:
        return -x
    flat = (
        rng.permutation(x.ravel())
        * rng.choice([-1.0, 1.0], x.size)
        * np.exp(rng.uniform(np.log(0.25), np.log(4), x.size))
    )
    return flat.reshape(x.shape).astype(x.dtype)


def check_alone(
    graph: Graph, values: dict, skipped: dict[str, str], run: Callable[[Graph], Report]
) -> dict[str, LeafCheck]:
    """{"node: input": the verdict on that input of the plugin node, checked alone at each of POINTS} (run:
    gradcheck on a graph)."""
    found: dict[str, LeafCheck] = {}
    for node in graph.gates:
        if OPS.get(node.op) is node.operation or node.name in skipped:  # built-in, or never reached
            continue
        inputs = list(dict.fromkeys(x for x in node.inputs if isinstance(x, str)))
        if not inputs:
            continue
        rules = dict(zip(node.inputs, node.operation.vjp, strict=False))
        moved = [
            x for x in inputs if rules.get(x) is not None and np.issubdtype(np.asarray(values[x]).dtype, np.floating)
        ]
        rng = np.random.default_rng(len(found))
        checks: dict[str, LeafCheck] = {}
        for point in POINTS:
            at = (
                values
                if point == POINTS[0]
                else {**values, **{x: _moved(np.asarray(values[x]), point, rng) for x in moved}}
            )
            sub = alone(graph, node, at, inputs)
            if point != POINTS[0]:
                try:
                    evaluate(sub)
                except BackpropError as err:  # outside the op's domain (a log of a negated input): said, not judged
                    for leaf in checks.values():
                        leaf.notes.append(f"not checked at the inputs {point}: {err.message}")
                    continue
            for name, leaf in _judged(sub, run(sub), seed=len(found)).items():
                checks[name] = leaf if name not in checks else _merged(checks[name], leaf, point)
        for name, leaf in checks.items():
            if name in moved:
                leaf.notes.append(
                    f"checked at {len(POINTS)} points: {'; '.join(POINTS)} (each element on both sides of 0)"
                )
            found[f"{node.name}: {name}"] = leaf
    return found


def _judged(sub: Graph, report: Report, seed: int) -> dict[str, LeafCheck]:
    """The leaves of one node's check, with the classic bug a failing one looks like (op_slips.py)."""
    failing = [name for name, leaf in report.leaves.items() if leaf.status == "fail"]
    slips = name_slips(sub, failing, seed=seed) if failing and not report.errors else {}
    for name, leaf in report.leaves.items():
        leaf.kind = "op"
        if report.errors and leaf.status == "pass":
            leaf.status = "fail"
            leaf.notes += report.errors
        leaf.slip, leaf.slip_hint = slips.get(name, (None, ""))
        if leaf.slip is None and "not summed over the batch" in " ".join(leaf.notes):
            leaf.slip, leaf.slip_hint = "batch_sum", next(n for n in leaf.notes if "not summed" in n)
    return report.leaves


def _merged(first: LeafCheck, other: LeafCheck, point: str) -> LeafCheck:
    """One verdict from two points: the worse status, the counts added, the other's findings and notes said
    as found at its point."""
    where = f"at the inputs {point}"
    if other.status == "fail" or first.status == "pass" and other.status == "kink":
        first.status = other.status
    first.directions += other.directions
    first.failures += other.failures
    first.kinks += other.kinks
    if other.max_rel_error > first.max_rel_error or np.isnan(other.max_rel_error):
        first.max_abs_error, first.max_rel_error = other.max_abs_error, other.max_rel_error
    found = [replace(f, note=f"{where}{': ' + f.note if f.note else ''}") for f in other.findings]
    first.findings = (first.findings + found)[:KEPT_FINDINGS]  # all are counted in failures and kinks
    first.notes += [f"{where}: {n}" for n in other.notes if n not in first.notes]
    if first.slip is None and other.slip is not None:
        first.slip, first.slip_hint = other.slip, other.slip_hint
    return first


def alone(graph: Graph, node: Node, values: dict, inputs: list[str]) -> Graph:
    """The graph of one node: its inputs as leaves holding their values, the node as the output."""
    leaves = {x: Node(x, "param", tuple(graph.nodes[x].shape), graph.nodes[x].where) for x in inputs}
    return Graph(
        nodes={**leaves, node.name: node},
        leaf_values={x: values[x] for x in inputs},
        output=node.name,
        dtype=graph.dtype,
        name=graph.name,
        source=graph.source,
    )
