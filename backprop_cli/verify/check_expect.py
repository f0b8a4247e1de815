"""Checking the `expect:` block: students' hand-derived answers against the engines, wrong ones explained
(fileformat/read_expect.py checked their form when the file loaded).

    expect:
      values: {q: 3, f: -12}
      gradients: {x: -4, y: -4, z: 3}     # d output / d name
      tolerance: 0.02                     # relative: |answer - truth| <= tolerance · |truth| (+ 1e-9)

A wrong answer is explained the way the lectures compute it: the upstream gradient times the local
gradient, summed over the paths at a fork. Known slips are recognised by recomputing the answer the slip
would give: a flipped sign, one path of a fork only, a gradient through a dead ReLU, a forgotten local or
upstream gradient, σ' taken from x instead of σ(x), a missing transpose, a bias gradient not summed over
the batch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..engines.partials import node_partials
from ..engines.reverse_mode import reverse_mode
from ..engines.trace import Trace, run_trace
from ..graph import Graph
from ..numbers import number, summary
from ..ops import GateKind

DEFAULT_TOLERANCE = 0.02  # relative: hand-derived answers are rounded (-0.20 for -0.1966 is 1.7% off)
ZERO = 1e-9  # an answer of 0 for a gradient that is 0 up to rounding


@dataclass
class ExpectResult:
    kind: str  # "value" or "gradient"
    name: str
    expected: object  # as the student wrote it
    actual: object  # float or nested list
    ok: bool
    why: str = ""  # how the right answer comes about, in the lecture's terms
    slip: str | None = None  # a recognised slip: sign, fork, dead_relu, sigma_of_x, switch, no_local,
    #                          no_upstream, transpose, batch_sum
    hint: str = ""  # the slip in words
    credit: float | None = None  # 1 for a right answer or one right given the student's own earlier answers
    steps: list[str] | None = None  # error carried forward: the step redone with the student's numbers

    @property
    def label(self) -> str:
        return self.name if self.kind == "value" else f"gradient of {self.name}"


def check_expect(graph: Graph, values: dict[str, np.ndarray]) -> list[ExpectResult]:
    """Every expected value and gradient against the engine's (gradients with respect to the output, as
    Graph.backward gives them)."""
    block = graph.expect if isinstance(graph.expect, dict) else {}
    tolerance = float(block.get("tolerance", DEFAULT_TOLERANCE))
    trace = run_trace(graph, "reverse")
    results = []
    for name, answer in (block.get("values") or {}).items():
        truth = values[name]
        ok = _close(answer, truth, tolerance)
        results.append(ExpectResult("value", name, answer, _plain(truth), ok, "" if ok else _value_why(trace, name)))
    given = block.get("gradients") or {}
    for name, answer in given.items():
        truth = trace.gradients[name]
        result = ExpectResult("gradient", name, answer, _plain(truth), _close(answer, truth, tolerance))
        if not result.ok:
            result.why = _gradient_why(trace, name)
            result.slip, result.hint = _slip(trace, name, answer, tolerance)
            result.steps = _carried_forward(trace, name, answer, given, tolerance)
        results.append(result)
    for result in results:
        result.credit = 1.0 if result.ok or result.steps and result.steps[-1].endswith(CARRIED) else 0.0
    return results


def _plain(value: np.ndarray) -> object:
    value = np.asarray(value, float)
    return float(value) if value.ndim == 0 else value.tolist()


def _close(answer: object, truth: np.ndarray, tolerance: float) -> bool:
    try:
        given = np.asarray(answer, float)
    except (TypeError, ValueError):
        return False
    if given.shape != np.shape(truth):
        return False
    return bool(np.all(np.abs(given - truth) <= tolerance * np.abs(truth) + ZERO))


# ------------------------------------------------------------------ the right answer, in words


def _value_why(trace: Trace, name: str) -> str:
    row = next(r for r in trace.rows if r.node.name == name)
    if row.node.is_leaf:
        return f"{name} is a leaf: {summary(row.value)}"
    shown = row.node.expr
    for edge in row.edges:
        if edge.is_node and np.ndim(trace.values[edge.operand]) == 0:
            shown = shown.replace(edge.operand, number(trace.values[edge.operand]), 1)
    return f"{name} = {row.node.expr} = {shown} = {summary(row.value)}"


def _paths(trace: Trace, name: str) -> list[tuple[str, str, object, object, object]]:
    """Each node of the file reading name, as the lectures write the step from it (its inner gates folded
    into one local derivative): (node, local in words, upstream gradient, local gradient, gradient sent).
    Tensors, and names inside a node, go gate by gate."""
    groups: dict[str, list] = {}
    for row in trace.rows:
        if not row.node.is_leaf:
            groups.setdefault(row.node.origin, []).append(row)
    out = []
    for origin, rows in groups.items():
        reads = [(row, edge) for row in rows for edge in row.edges if edge.is_node and edge.operand == name]
        if not reads or any(r.node.name == name for r in rows):
            continue
        partial = node_partials(trace, rows).get(name)
        if partial is not None:
            upstream, words, local = partial
            out.append((origin, words, upstream, local, upstream * local))
            continue
        out += [(row.node.name, e.local_text, row.gradient, e.local, e.sent) for row, e in reads if e.sent is not None]
    return out


def _gradient_why(trace: Trace, name: str) -> str:
    out = trace.graph.output
    if name == out:
        return f"d{out}/d{out} = 1"
    paths = _paths(trace, name)
    total = trace.gradients[name]
    if not paths:
        readers = [r for r in trace.rows for e in r.edges if e.is_node and e.operand == name]
        why = (
            "is not differentiable (labels, masks, index arrays, or only compared)"
            if readers
            else f"does not reach {out}"
        )
        return f"{name} {why}: d{out}/d{name} = 0"
    chain = " + ".join(f"d{out}/d{g} · ∂{g}/∂{name}" for g, *_ in paths)  # upstream (d) times local (∂)
    if np.ndim(total) != 0 or any(local is None or np.ndim(local) != 0 for _, _, _, local, _ in paths):
        return f"d{out}/d{name} = {chain} = {summary(total)}"
    words = " + ".join(f"{number(up)} · {w}" for _, w, up, _, _ in paths)
    numbers = " + ".join(f"{number(up)} · {number(local)}" for _, _, up, local, _ in paths)
    shown = f"{words} = {numbers}" if words != numbers else numbers
    fork = f"   (gradients from {len(paths)} paths add up)" if len(paths) > 1 else ""
    return f"d{out}/d{name} = {chain} = {shown} = {number(total)}{fork}"


# ------------------------------------------------------------------ error carried forward
CARRIED = "right given your own earlier answer: full credit for this step (error carried forward)"


def _carried_forward(trace: Trace, name: str, answer: object, given: dict, tolerance: float) -> list[str] | None:
    """The step to name redone with the student's own answers for the gradients upstream of it (the nodes that
    read name): [the step in numbers, ..., verdict]. None where no upstream answer was given, none differs from
    the truth, or a path is a tensor's (the step is then not one the student wrote by hand)."""
    out = trace.graph.output
    paths = _paths(trace, name)
    if not paths or any(np.ndim(up) or local is None or np.ndim(local) for _, _, up, local, _ in paths):
        return None
    theirs = {}
    for gate, _, upstream, _, _ in paths:
        try:
            mine = float(np.asarray(given[gate], float)) if gate in given else None
        except (TypeError, ValueError):
            mine = None
        if mine is not None and not _close(mine, np.asarray(upstream), tolerance):
            theirs[gate] = mine
    if not theirs:
        return None
    ups = [theirs.get(gate, float(upstream)) for gate, _, upstream, _, _ in paths]
    redone = sum(up * float(local) for up, (_, _, _, local, _) in zip(ups, paths, strict=True))
    steps = [
        f"with your d{out}/d{gate} = {number(theirs[gate])} (the right one is {number(float(upstream))})"
        for gate, _, upstream, _, _ in paths
        if gate in theirs
    ]
    terms = " + ".join(
        f"{number(up)} · {number(float(local))}" for up, (_, _, _, local, _) in zip(ups, paths, strict=True)
    )
    steps.append(f"d{out}/d{name} = {terms} = {number(redone)}")
    try:
        right = _close(answer, np.asarray(redone), tolerance)
    except (TypeError, ValueError):
        right = False
    steps.append(CARRIED if right else "not right given your earlier answers either")
    return steps


# ------------------------------------------------------------------ known slips


def _slip(trace: Trace, name: str, answer: object, tolerance: float) -> tuple[str | None, str]:
    try:
        given = np.asarray(answer, float)
    except (TypeError, ValueError):
        return None, "the answer is not a number or a list of numbers"
    truth = np.asarray(trace.gradients[name], float)
    paths = _paths(trace, name)
    out = trace.graph.output
    if given.shape != truth.shape:
        if given.shape == truth.T.shape and given.ndim == 2 and _close(given.T, truth, tolerance):
            return "transpose", f"the answer is the transpose of d{out}/d{name}: check which side xᵀ goes on"
        if given.shape[1:] == truth.shape and _close(given.sum(axis=0), truth, tolerance):
            return "batch_sum", f"{name} is shared by every example: sum its gradient over the batch (axis 0)"
        return None, f"the answer has shape {list(given.shape)}, d{out}/d{name} has shape {list(truth.shape)}"
    candidates: list[tuple[str, np.ndarray, str]] = [("sign", -truth, "the sign is flipped")]
    for gate, _, _, _, sent in paths if len(paths) > 1 else []:
        hint = f"only the path through {gate} is counted: {name} feeds {len(paths)} nodes, and gradients add at a fork"
        candidates.append(("fork", np.asarray(sent, float), hint))
    candidates += _dead_relu(trace, name)
    candidates += _sigma_of_x(trace, name)
    if len(paths) == 1:
        gate, words, upstream, local, _ = paths[0]
        value = trace.values[name]
        if words.isidentifier() and words != name and np.ndim(value) == 0 and np.ndim(upstream) == 0:
            hint = f"a product switches: d{gate}/d{name} is the other factor, {words}, not {name} itself"
            candidates.append(("switch", np.asarray(upstream * value, float), hint))
        hint = f"the local gradient d{gate}/d{name} = {words} is missing"
        candidates.append(("no_local", np.asarray(upstream, float), hint))
        if local is not None:
            hint = f"the upstream gradient d{out}/d{gate} is missing"
            candidates.append(("no_upstream", np.asarray(local, float), hint))
    for slip, value, hint in candidates:
        if value.shape == given.shape and not _close(value, truth, tolerance) and _close(given, value, tolerance):
            return slip, hint
    return None, ""


def _dead_relu(trace: Trace, name: str) -> list[tuple[str, np.ndarray, str]]:
    """The gradient as it would be if every dead ReLU-like gate let the gradient through."""
    graph = trace.graph
    dead = [
        r.node
        for r in trace.rows
        if not r.node.is_leaf
        and r.node.operation.gate_kind is GateKind.KILLER
        and isinstance(r.node.inputs[0], str)
        and np.any(trace.values[r.node.inputs[0]] <= 0)
    ]
    if not dead:
        return []
    opened = dict(graph.nodes)
    for node in dead:
        op = node.operation
        through = (lambda g, out, *xs, **attrs: g,) + op.vjp[1:]
        opened[node.name] = replace(node, operation=replace(op, vjp=through))
    alive = reverse_mode(replace(graph, nodes=opened), trace.values)[name]
    gates = ", ".join(f"{n.name} = {n.expr}" for n in dead)
    return [
        (
            "dead_relu",
            np.asarray(alive, float),
            f"the gradient went through a dead ReLU ({gates} has input ≤ 0, "
            "so its local gradient is 0 and nothing flows back)",
        )
    ]


def _sigma_of_x(trace: Trace, name: str) -> list[tuple[str, np.ndarray, str]]:
    """σ'(x) written as x(1 - x) instead of σ(x)(1 - σ(x)): at a gate reading name whose slope is written with
    its output (Op.slope_from_output: sigmoid, tanh), the slope taken from the input instead."""
    out = []
    for row in trace.rows:
        node, op = row.node, row.node.operation
        if op is not None and op.slope_from_output and node.inputs[0] == name and row.gradient is not None:
            x = trace.values[name]
            wrong = np.asarray(op.vjp[0](row.gradient, x, x, **node.attrs), float)  # the output replaced by x
            slope = op.local[0].format(name) if op.local else f"d{node.name}/d{name}"
            hint = (
                f"the slope {slope} was computed from the input ({name}) instead of from the output "
                f"{node.name} = {node.expr}"
            )
            out.append(("sigma_of_x", wrong, hint))
    return out
