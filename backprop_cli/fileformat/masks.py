"""Index operands and masks, settled at load: which operands are masks (NumPy reads a bool array as one),
how many elements each mask picks (the shape after it depends on that), constant indices whole and in
bounds, len() in range() as a number, and & | ~ given masks, not numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..engines.api import Graph
from ..engines.evaluate import evaluate
from ..errors import GraphFileError, Position, ShapeError, suggest
from ..graph import Const, Node
from ..ops.shapes import ARRAY, MASK
from .expansion import LengthRange

Positions = dict[str, tuple[Position | None, ...]]  # gate -> where each operand is written (None: not known)
INDEX = "index"  # by name: the op table's entry may be replaced (a plugin, a test's perturbed rule)


def settle_operands(
    node: Node, out: dict[str, Node], nodes: dict[str, Node], masks: set[str], count, positions: Positions
) -> Node:
    """A gate before its shape is inferred: len() ranges as numbers, masks where masks go, what each mask of an
    index picks (the common gate, neither an index with operands nor a mask op, passes untouched)."""
    op = node.operation
    if node.op == INDEX and len(node.inputs) > 1:
        where = positions.get(node.name, ())
        return index_operands(resolve_ranges(node, out, nodes), out, masks, count, where)
    if op.masks == "always":
        check_masks(node, masks, positions.get(node.name, ()))
    return node


def settle_result(node: Node, out: dict[str, Node], masks: set[str], positions: Positions) -> None:
    """A gate with its shape: constant indices in bounds; its name among the masks when it gives one."""
    op = node.operation
    if node.op == INDEX and len(node.inputs) > 1:
        check_constant_indices(node, out, positions.get(node.name, ()))
    if op.masks and gives_mask(node, masks):
        masks.add(node.name)


def is_mask(operand: object, masks: set[str]) -> bool:
    return operand.mask if isinstance(operand, Const) else operand in masks


def gives_mask(node: Node, masks: set[str]) -> bool:
    kind = node.operation.masks
    return kind == "always" or (kind == "passes" and bool(node.inputs) and is_mask(node.inputs[0], masks))


def resolve_ranges(node: Node, out: dict[str, Node], nodes: dict[str, Node]) -> Node:
    """range(len(y)) inside an index: a constant, from y's shape (y: the array indexed, or a leaf)."""
    if not any(isinstance(x, LengthRange) for x in node.inputs):
        return node
    inputs: list[object] = []
    for x in node.inputs:
        if isinstance(x, LengthRange):
            lengths = {}
            for bound in x.bounds:
                if not isinstance(bound, str):
                    continue
                if bound not in nodes:
                    known = [n for n in nodes if "." not in n]
                    raise GraphFileError(f"undefined name {bound!r}{suggest(bound, known)}", x.where)
                if bound not in out:
                    raise GraphFileError(
                        f"len({bound}) in range(): {bound} must be a leaf or the array indexed (write the number)",
                        x.where,
                    )
                if not out[bound].shape:
                    raise ShapeError(f"len({bound}): {bound} is a scalar, it has no length", x.where)
                lengths[bound] = out[bound].shape[0]
            x = x.resolve(lengths)
        inputs.append(x)
    return replace(node, inputs=tuple(inputs))


def check_masks(node: Node, masks: set[str], where: tuple[Position | None, ...]) -> None:
    """& | ~ combine masks: a number there is a slip (x & y for x * y, or a comparison left out)."""
    op = node.operation
    for i, x in enumerate(node.inputs):
        if op.domain_of(i) == "mask" and not is_mask(x, masks):
            symbol = {"logical_and": "&", "logical_or": "|", "logical_not": "~"}.get(op.name, op.name)
            raise GraphFileError(
                f"'{symbol}' combines masks (comparisons such as x > 0), and {x} is a number: compare it "
                f"first, as in ({x} > 0){'' if symbol == '~' else ', or write * for a product'}",
                where[i] if i < len(where) and where[i] else node.where,
            )


def index_operands(
    node: Node, out: dict[str, Node], masks: set[str], count: Callable[[str], int], where: tuple
) -> Node:
    """x[...] with index operands: at= says which are masks, picks= how many elements each mask picks."""
    arrays = iter(enumerate(node.inputs[1:], 1))
    at, picks = [], []
    for item in node.attrs.get("at") or []:
        slot = next(arrays, None) if item in (ARRAY, MASK) else None
        if slot is None:
            at.append(item)
            continue
        i, x = slot
        mask = item == MASK or is_mask(x, masks)
        if not mask and isinstance(x, str) and not out[x].is_leaf:
            _no_mask_arithmetic(out[x], masks, where[i] if i < len(where) and where[i] else node.where)
        at.append(MASK if mask else ARRAY)
        if not mask:
            picks.append(None)
        elif isinstance(x, Const):
            picks.append(int(np.count_nonzero(np.asarray(x.value))))
        else:
            picks.append(count(x))
    return replace(node, attrs={**node.attrs, "at": at, "picks": picks})


def _no_mask_arithmetic(made: Node, masks: set[str], where: Position | None) -> None:
    """(x > 0) * (x < 1) is a number in this language: as an index it would pick elements 0 and 1."""
    if made.op in ("mul", "add", "sub") and any(is_mask(x, masks) for x in made.inputs):
        raise GraphFileError(
            f"a {'product' if made.op == 'mul' else 'sum' if made.op == 'add' else 'difference'} of masks is a "
            "number here, and a number indexes by position: for a mask combine comparisons with & (both) "
            "or | (either), as in x[(x > 0) & (x < 1)]",
            where,
        )


def check_constant_indices(node: Node, out: dict[str, Node], where: tuple) -> None:
    """Index arrays written as literals or ranges: whole numbers inside the axis they index, checked at load."""
    x = out[node.inputs[0]].shape if isinstance(node.inputs[0], str) else node.inputs[0].shape
    axis, slot = 0, 1
    for item in node.attrs["at"]:
        if item not in (ARRAY, MASK):
            axis += 1
            continue
        operand = node.inputs[slot]
        at = where[slot] if slot < len(where) and where[slot] else node.where
        slot += 1
        if item == MASK:
            axis += max(len(operand.shape if isinstance(operand, Const) else out[operand].shape), 1)
            continue
        if isinstance(operand, Const):
            values = np.asarray(operand.value, float)
            wrong = values[values != np.round(values)]
            if wrong.size:
                raise ShapeError(f"an index array holds {wrong.flat[0]:g}, not a whole number", at)
            outside = values[(values < -x[axis]) | (values >= x[axis])]
            if outside.size:
                raise ShapeError(f"index {outside.flat[0]:g} is out of bounds for axis {axis} of size {x[axis]}", at)
        axis += 1


def mask_counter(out: dict[str, Node], leaf_values: Callable[[], dict], dtype: np.dtype) -> Callable[[str], int]:
    """How many elements a mask computed from the leaves picks: its gates evaluated now, at the leaves' values."""

    def count(name: str) -> int:
        needed, stack = {name}, [name]
        while stack:
            for x in out[stack.pop()].inputs:
                if isinstance(x, str) and x not in needed:
                    needed.add(x)
                    stack.append(x)
        values = leaf_values()
        part = Graph(
            nodes={n: node for n, node in out.items() if n in needed},
            leaf_values={n: values[n] for n in needed if n in values},
            output=name,
            dtype=dtype,
        )
        return int(np.count_nonzero(np.real(evaluate(part)[name])))

    return count
