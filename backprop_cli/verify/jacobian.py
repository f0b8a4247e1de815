"""The full Jacobian d(node)/d(leaf): reverse mode (one VJP per element of the node) or forward mode (one JVP
per element of the leaf, all in one batched pass), whichever takes fewer passes, checked element by element
against the numerical reference of gradcheck (complex step where the path is analytic, else Richardson).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..arguments import checked, choice, flag, name
from ..engines.evaluate import evaluate
from ..engines.reverse_mode import relevant, reverse_mode
from ..errors import EvaluationError, PluginError, UsageError
from ..fileformat.plugins import audit
from ..graph import Graph, graph_argument
from .batched import Batch, plan, run
from .check import METHODS
from .hessian import is_labels
from .many import path_facts
from .numerical import (
    Probe,
    Stencil,
    float64_reference,
    group_rows,
    numeric_derivative,
    own_steps,
    steps_for,
    typical_size,
)
from .rounding import judged_scale, term_sizes
from .tolerances import POINTS, tolerance_for
from .verdicts import Judge, LeafCheck

MODES = ("auto", "reverse", "forward")
MAX_ENTRIES = 2**24  # 16,777,216 entries (128 MiB of float64): beyond, a Jacobian is no matrix to print
CHUNK_BYTES = 32 * 2**20  # batched rows held at once
CHECK_FULL_LIMIT = 2048  # every column checked up to this many leaf elements, a seeded sample beyond
CHECK_SAMPLES = 64


@dataclass
class Jacobian:
    of: str
    wrt: str
    of_shape: tuple[int, ...]
    wrt_shape: tuple[int, ...]
    matrix: np.ndarray  # (elements of `of`, elements of `wrt`): rows are of's elements, row-major
    mode: str  # how it was computed: reverse or forward
    passes: int  # VJPs or JVPs taken
    check: LeafCheck | None = None  # against the numerical reference (shape of_shape + wrt_shape)
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.of_shape + self.wrt_shape

    @property
    def array(self) -> np.ndarray:
        return self.matrix.reshape(self.shape)

    @property
    def nonzeros(self) -> int:
        return int(np.count_nonzero(self.matrix))

    @property
    def status(self) -> str:
        return "pass" if self.check is None else self.check.status


def focus(graph: Graph, of: str | None) -> Graph:
    """The graph with `of` as its output (same values, fresh caches): derivatives of `of` are its gradients."""
    name = graph.output if of is None else of
    graph.named(name, "node", "of")
    return graph if name == graph.output else replace(graph, output=name)


def node_named(graph: Graph, name: str, parameter: str = "wrt") -> str:
    return graph.named(name, "leaf or node", parameter)


def jacobian(
    graph: Graph,
    of: str | None = None,
    wrt: str | None = None,
    mode: str = "auto",
    check: bool = True,
    method: str = "auto",
    rtol: float | None = None,
    atol: float | None = None,
) -> Jacobian:
    """d(of)/d(wrt) as a matrix; of defaults to the output, wrt (a leaf, or a node: d h/d a of h = relu(a))
    to the first param (or input)."""
    graph_argument(graph)
    mode, method = choice(mode, "mode", MODES), choice(method, "method", METHODS)
    of, wrt, check = name(of, "of"), name(wrt, "wrt"), flag(check, "check")
    rtol, atol = checked(rtol=rtol, atol=atol)
    sub = focus(graph, of)
    wrt = node_named(graph, wrt if wrt is not None else (graph.params or list(graph.leaf_values))[0])
    of = sub.output
    if is_labels(graph, wrt):
        raise UsageError(
            f"{wrt} is read only where no derivative is taken (labels, index arrays, comparisons): no derivative",
            parameter="wrt",
        )
    m, n = graph.nodes[of].shape, graph.nodes[wrt].shape
    rows, cols = int(np.prod(m, dtype=np.int64)), int(np.prod(n, dtype=np.int64))
    if rows * cols > MAX_ENTRIES:
        raise UsageError(
            f"d{of}/d{wrt} would have {rows:,}×{cols:,} entries; at most {MAX_ENTRIES:,} "
            "(choose a smaller node or leaf with --of and --wrt)"
        )
    values = evaluate(sub)
    result = Jacobian(of, wrt, m, n, np.zeros((rows, cols), graph.dtype), "forward", 0)
    if rows * cols == 0:
        result.notes.append("empty: nothing to compute")
        return result
    if of == wrt:
        result.matrix = np.eye(rows, dtype=graph.dtype)
        result.notes.append(f"d{of}/d{of} is the identity")
        return result
    if wrt not in relevant(sub, None):
        result.notes.append(f"{of} does not depend on {wrt}: the Jacobian is zero")
        return result
    if mode == "auto":  # fewer passes; a tie goes to forward mode, whose passes run as one batch
        mode = "reverse" if rows < cols or _missing_jvp(sub, wrt) else "forward"
    elif mode == "forward" and _missing_jvp(sub, wrt):
        raise UsageError(
            f"forward mode cannot reach {of} from {wrt}: an op on the path has no forward rule (jvp)", parameter="mode"
        )
    if mode == "reverse":
        result.matrix, result.mode, result.passes = _reverse(sub, values, wrt, rows), "reverse", rows
    else:
        result.matrix, result.passes = _forward(sub, values, wrt, cols), cols
    if check:
        result.check = _check(sub, values, result, method, rtol, atol)
        if result.check.kinks and graph.nodes[wrt].is_leaf and not path_facts(sub).builtin[wrt]:
            _check_beside(sub, result, method, rtol, atol)
        if result.status != "fail":
            audit(graph)  # plugin code answered as a function of its inputs (fileformat/replay.py)
    return result


def _check_beside(graph: Graph, result: Jacobian, method: str, rtol, atol) -> None:
    """Kinks on a path through plugin code: the check once more with every element of wrt moved off its kink by
    about half a step, where the code must be smooth (as gradcheck's check.py _check_beside)."""
    value = np.asarray(graph.leaf_values[result.wrt])
    rng = np.random.default_rng(1)
    steps = steps_for(value, "richardson", None, typical_size(value))
    moved = value + rng.uniform(0.3, 0.7, value.shape) * rng.choice([-1.0, 1.0], value.shape) * steps
    graph = replace(graph, leaf_values={**graph.leaf_values, result.wrt: np.asarray(moved, graph.dtype)})
    where = f"half a step beside its kinks (each element of {result.wrt})"
    try:
        values = evaluate(graph)
        again = replace(result, notes=[])
        if result.mode == "reverse":
            again.matrix = _reverse(graph, values, result.wrt, result.matrix.shape[0])
        else:
            again.matrix = _forward(graph, values, result.wrt, result.matrix.shape[1])
        check = _check(graph, values, again, method, rtol, atol)
    except (EvaluationError, PluginError) as err:
        result.check.status = "fail"
        result.notes.append(f"{where}: {err}")
        return
    student_kinks = [f for f in check.findings if f.status == "kink" and f.gate is None]
    if check.status == "fail" or student_kinks:
        result.check.status = "fail"
        result.check.failures += check.failures + len(student_kinks)
        what = f"{check.failures} entries wrong" if check.failures else "the plugin code is not smooth there either"
        result.notes.append(f"{where}: {what}")
        if check.worst_reverse is not None and not check.max_rel_error <= result.check.max_rel_error:
            for part in ("max_rel_error", "max_abs_error", "worst_index", "worst_reverse", "worst_numeric"):
                setattr(result.check, part, getattr(check, part))


def _missing_jvp(graph: Graph, wrt: str) -> bool:
    on_path = relevant(graph, {wrt})
    return any(
        any(v is not None and j is None for v, j in zip(n.operation.vjp, n.operation.jvp, strict=True))
        for n in graph.gates
        if n.name in on_path
    )


def _reverse(graph: Graph, values: dict[str, np.ndarray], wrt: str, rows: int) -> np.ndarray:
    """One reverse pass per element of the output, seeded with that element's one-hot upstream gradient."""
    shape = graph.nodes[graph.output].shape
    out = np.empty((rows, int(np.prod(graph.nodes[wrt].shape, dtype=np.int64))), graph.dtype)
    seed = np.zeros(rows, graph.dtype)
    for i in range(rows):
        seed[i] = 1
        out[i] = np.reshape(reverse_mode(graph, values, wrt={wrt}, seed=seed.reshape(shape).copy())[wrt], -1)
        seed[i] = 0
    return out


def _forward(graph: Graph, values: dict[str, np.ndarray], wrt: str, cols: int) -> np.ndarray:
    """Every one-hot tangent of the leaf in batched forward-mode passes (a batch row per element; as many
    rows at once as CHUNK_BYTES holds)."""
    shape = graph.nodes[wrt].shape
    how = plan(graph, wrt, grouped=False)
    out = np.empty((cols, int(np.prod(graph.nodes[graph.output].shape, dtype=np.int64))), graph.dtype)
    chunk = _chunk(graph, how, 8)
    for start in range(0, cols, chunk):
        ks = np.arange(start, min(cols, start + chunk))
        seed = np.zeros((len(ks), cols), graph.dtype)
        seed[np.arange(len(ks)), ks] = 1
        batch = Batch(len(ks), np.arange(len(ks)), np.zeros((len(ks), 0), np.intp))
        tangents = run(graph, values, how, batch, seed.reshape((len(ks), *shape)), tangents=True)
        out[ks] = np.reshape(tangents, (len(ks), -1))
    bad = ~np.isfinite(out).all(axis=1)
    if bad.any():  # as reverse mode does: the error names the first node whose tangent is NaN or inf
        from ..engines.forward_mode import forward_mode

        seed = np.zeros(cols, graph.dtype)
        seed[int(np.argmax(bad))] = 1
        forward_mode(graph, values, {wrt: seed.reshape(shape)})
        raise EvaluationError(f"the tangent of {graph.output} along {wrt} is not finite")  # the batch saw it only
    return out.T


def _chunk(graph: Graph, how, itemsize: int) -> int:
    """Batch rows that fit CHUNK_BYTES: each holds a value of every gate downstream of the start."""
    row = itemsize * (
        sum(int(np.prod(n.shape, dtype=np.int64)) for n in how.gates)
        + int(np.prod(graph.nodes[how.start].shape, dtype=np.int64))
    )
    return int(max(1, CHUNK_BYTES // max(row, 1)))


def _check(graph: Graph, values, result: Jacobian, method: str, rtol, atol) -> LeafCheck:
    """Each entry against the numerical derivative of that output element along that leaf element."""
    reference, base = float64_reference(graph, values)
    how = plan(reference, result.wrt, grouped=False)
    probe = Probe(reference, base, result.wrt, how, np.ones(()))
    if method == "auto":
        method = "complex" if probe.analytic else "richardson"
    elif method == "complex" and not probe.analytic:
        method = "richardson"
    leaf = LeafCheck(f"d{result.of}/d{result.wrt}", "jacobian", result.shape, method, "full")
    rows, cols = result.matrix.shape
    value = base[result.wrt]
    flat_value = value.reshape(-1)
    out_base = np.reshape(base[result.of], -1)
    analytic = np.asarray(result.matrix, np.float64).reshape(-1)
    tolerance = tolerance_for(graph.dtype.name, rtol, atol)
    terms = term_sizes(graph, values, np.ones(np.shape(values[graph.output])), (reference, base))  # every row's
    largest = float(np.max(np.abs(analytic), initial=0.0))
    scale = judged_scale(largest, terms.get(result.wrt, 0.0), tolerance, graph.dtype) or 1.0
    judge = Judge(tolerance, scale, leaf, untrusted=not path_facts(graph).builtin[result.wrt])
    checked = np.arange(cols)
    if cols > CHECK_FULL_LIMIT:  # a seeded sample of columns, and always the one with the largest entry
        rng = np.random.default_rng(0)
        largest = int(np.argmax(np.max(np.abs(result.matrix), axis=0)))
        checked = np.unique(np.append(rng.choice(cols, CHECK_SAMPLES, replace=False), largest))
        leaf.mode = "sample"
        result.notes.append(f"checked {len(checked)} of {cols:,} columns (a seeded sample)")
    chunk = _chunk(reference, how, 16 * len(POINTS[method]))
    for start in range(0, len(checked), chunk):
        ks = checked[start : start + chunk]
        pairs = (np.arange(rows)[:, None] * cols + ks[None, :]).reshape(-1)  # entry (j, k) at j·cols + k
        steps = steps_for(flat_value[pairs % cols], method, None, typical_size(value))

        def stencil(picked: np.ndarray, s: np.ndarray, method: str = method, pairs=pairs) -> Stencil:
            chosen = pairs[picked]
            # the leaf elements moved, each once per step: the entries of one column share its stencil, but a retry
            # can hold entries of a column at different steps (one tried again twice, another once), each of which
            # must be evaluated at its own (sharing the last one written made n1[0,2,1]'s reference 0.98, not 0.67)
            moved, where = np.unique(np.stack([chosen % cols, s]), axis=1, return_inverse=True)
            where = where.reshape(-1)
            columns, column_steps = moved[0].astype(np.int64), moved[1]
            points = np.asarray(POINTS[method])
            count = len(columns)
            coords = (
                np.stack(np.unravel_index(columns, value.shape), axis=1) if value.shape else np.zeros((count, 0), int)
            )
            batch = Batch(points.size * count, np.arange(points.size * count), np.tile(coords, (points.size, 1)))
            dtype = np.complex128 if method == "complex" else np.float64
            seed = group_rows(value, columns, np.arange(count), points[:, None] * column_steps[None, :], dtype)
            crossed: dict[str, np.ndarray] = {}
            out = run(reference, base, how, batch, seed, kinks=None if method == "complex" else crossed)
            out = np.reshape(out, (len(points), count, -1))
            j = chosen // cols
            return Stencil(
                out[:, where, j],
                out_base[j],
                s,
                {g: c.reshape(len(points), count)[:, where] for g, c in crossed.items()},
                max(1, len(how.gates)),
            )

        numeric, gate = numeric_derivative(
            how.gates, method, steps, stencil, own_steps(flat_value[pairs % cols], method, None)
        )
        judge.add(pairs, analytic[pairs], None, numeric, gate)
        leaf.elements += len(pairs)
    return leaf
