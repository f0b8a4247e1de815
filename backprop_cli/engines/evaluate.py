"""Forward evaluation in topological order."""

from __future__ import annotations

import cmath
import warnings
from collections.abc import Callable

import numpy as np

from ..errors import BackpropError, EvaluationError, StudentCodeError, UsageError, shortened
from ..graph import Const, Graph, Node
from ..numbers import base_60, fits
from ..ops import OPS
from ..ops.shapes import fmt


def operands(node: Node, values: dict[str, np.ndarray], dtype: np.dtype) -> list[np.ndarray]:
    return [np.asarray(x.value, dtype) if isinstance(x, Const) else values[x] for x in node.inputs]


def describe_bad(array: np.ndarray) -> str:
    bad = np.asarray(array)
    if np.isnan(bad).any():
        return "NaN"
    return "inf" if (bad.real > 0).any() else "-inf"


def all_finite(array: np.ndarray) -> bool:
    """One cheap pass: Σ|x|² is finite only if every element is (one that overflows is re-checked).
    The dot product is BLAS's, faster than NumPy's own sum; arrays that are views go through the sum.
    Call it under np.errstate(all="ignore")."""
    total = np.vdot(array, array) if array.flags.c_contiguous else np.add.reduce(array, axis=None)
    return cmath.isfinite(total) or bool(np.isfinite(array).all())


def gate_plan(graph: Graph, dtype: np.dtype) -> list[tuple[Node, Callable[..., np.ndarray], tuple]]:
    """Per gate: the node, its forward, and its operands as names or, for constants, arrays of dtype.
    Built once per graph and dtype, so a training step pays for no per-gate set-up."""
    return graph.derived(
        ("gate plan", dtype),
        lambda: [
            (
                node,
                node.operation.forward,
                tuple(_constant(x.value, dtype) if isinstance(x, Const) else x for x in node.inputs),
            )
            for node in graph.gates
        ],
    )


def _constant(value: float, dtype: np.dtype) -> np.ndarray:
    array = np.asarray(value, dtype)
    array.flags.writeable = False  # shared by every evaluation
    return array


def evaluate(graph: Graph, leaf_values: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Values of every leaf and gate. Raises EvaluationError naming the first gate that goes non-finite
    (or the leaf that fed it NaN or inf)."""
    values = dict(graph.leaf_values if leaf_values is None else leaf_values)
    with np.errstate(all="ignore"):
        if _may_warn(graph):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # mean of an empty slice: its NaN is reported below
                return _run_gates(graph, values)
        return _run_gates(graph, values)


def _run_gates(graph: Graph, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    dtype = graph.dtype
    for node, forward, inputs in gate_plan(graph, dtype):
        xs = [values[x] if isinstance(x, str) else x for x in inputs]
        try:
            out = np.asarray(forward(*xs, **node.attrs))
        except StudentCodeError:
            raise  # a crash of the student's code is not a bad value
        except BackpropError as err:
            raise EvaluationError(f"node {node.name} ({node.expr}): {err.message}", node.where) from None
        if not all_finite(out):
            raise _first_fault(graph, node, values, out)
        if out.dtype != dtype and not np.iscomplexobj(out):
            out = out.astype(dtype)
        values[node.name] = out
    return values


def _may_warn(graph: Graph) -> bool:
    """Whether a gate can warn through Python's warnings rather than NumPy's error state: the mean of an
    empty slice does, and a plugin op might. Setting up a warnings filter costs more than a small gate."""
    return graph.derived(
        "may warn",
        lambda: any(
            node.operation is not OPS.get(node.op)
            or 0 in node.shape
            or any(isinstance(x, str) and 0 in graph.nodes[x].shape for x in node.inputs)
            for node in graph.gates
        ),
    )


def _first_fault(graph: Graph, node: Node, values: dict[str, np.ndarray], out: np.ndarray) -> EvaluationError:
    for operand in node.inputs:
        if isinstance(operand, str) and graph.nodes[operand].is_leaf and not np.isfinite(values[operand]).all():
            bad = describe_bad(values[operand])
            return EvaluationError(f"leaf {operand!r} contains {bad}", graph.nodes[operand].where)
    return EvaluationError(f"node {node.name} = {node.expr} is {describe_bad(out)}: {node.operation.fault}", node.where)


def parse_value(text: object, dtype: np.dtype, parameter: str | None = None) -> np.ndarray:
    """A value given on the command line or from Python: a number, a list, or an array
    (parameter: the argument it was given in, named by the error)."""
    if isinstance(text, str):
        import yaml

        if "&" in text or "*" in text or len(text) > 10**7:  # no anchors or aliases: an alias bomb stays small
            raise UsageError(f"cannot read {shortened(repr(text))} as a number or a list (no anchors or aliases)")
        if base_60(text):
            raise UsageError(base_60(text), parameter=parameter)
        try:
            read = yaml.load(text, Loader=_numbers_loader())
        except yaml.YAMLError:
            raise UsageError(
                f"cannot read {shortened(repr(text))} as a number or a list", parameter=parameter
            ) from None
        if not _numbers(read):  # as in graph files: true, "3" and an empty value are not numbers
            raise UsageError(
                f"cannot read {shortened(repr(text))} as a number or a list of numbers", parameter=parameter
            )
        text = read
    try:
        value = np.asarray(text, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise UsageError(
            f"cannot read {shortened(repr(text))} as a number or a list of numbers", parameter=parameter
        ) from None
    if not fits(value, dtype):
        raise UsageError(
            f"{shortened(repr(text))} holds numbers beyond the range of {np.dtype(dtype)} (±{np.finfo(dtype).max:.3g})",
            parameter=parameter,
        )
    return value.astype(dtype, copy=False)


def _numbers_loader() -> type:
    """PyYAML's safe loader, reading 1e-3 and 2E5 as numbers, as graph files do (YAML 1.1 wants a dot)."""
    import re

    import yaml

    class Numbers(yaml.SafeLoader):
        pass

    Numbers.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
        list("-+0123456789."),
    )
    return Numbers


def _numbers(value: object) -> bool:
    """A number (not true/false) or nested lists of them; nan and inf as words count (the caller refuses them)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and item.strip().lstrip("+-").lower() in ("nan", "inf", "infinity"):
            continue
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            return False
    return True


def check_leaf(graph: Graph, name: str, parameter: str | None = None) -> None:
    """Raises UsageError unless name is a leaf of the graph (parameter: the argument that named it)."""
    graph.named(name, "leaf", parameter)


def set_leaf_values(graph: Graph, new: dict[str, object]) -> dict[str, np.ndarray]:
    values = dict(graph.leaf_values)
    for name, raw in new.items():
        check_leaf(graph, name, "values")
        value = parse_value(raw, graph.dtype, "values")
        shape = graph.nodes[name].shape
        if value.shape != shape:
            if value.ndim == 0:
                value = np.full(shape, value, dtype=graph.dtype)
            else:
                raise UsageError(f"{name} has shape {fmt(shape)}, the new value {fmt(value.shape)}", parameter="values")
        values[name] = value
    return values
