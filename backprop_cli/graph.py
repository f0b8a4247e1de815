"""The graph: leaves and gates in topological order. Plain data: the Python API on it (forward, backward,
jvp) lives a layer up, in engines/api.py, whose Graph is what load() returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from .errors import Position
from .numbers import fmt, number, numbers_text
from .ops import Op

T = TypeVar("T")


@dataclass(frozen=True)
class Const:
    """A number written inside an expression, or a tensor literal ([1, 2, 3]): an operand, not a node."""

    value: float | tuple  # a number, or nested tuples of numbers (a tensor literal, rectangular)
    mask: bool = False  # written with true/false: a boolean mask, which indexing reads as NumPy reads one

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value) if isinstance(self.value, tuple) else ()

    def __str__(self) -> str:
        if not isinstance(self.value, tuple):
            return f"{self.value:g}"
        array = np.asarray(self.value)
        if array.size <= SHOWN_ELEMENTS:
            return numbers_text(array, (lambda v: "true" if v else "false") if self.mask else number)
        return f"{fmt(array.shape)} {'mask' if self.mask else 'constant'}"


SHOWN_ELEMENTS = 8  # a literal this small is written out in gate texts and diagrams; a bigger one by its shape


@dataclass(frozen=True)
class Node:
    name: str
    kind: str  # "input", "param" or "gate"
    shape: tuple[int, ...]
    where: Position | None = None
    op: str | None = None
    inputs: tuple[str | Const, ...] = ()
    attrs: dict[str, object] = field(default_factory=dict)
    expr: str = ""  # the gate in terms of its operands' names
    origin: str = ""  # the node of the file this gate was expanded from
    group: str | None = None
    operation: Op | None = field(default=None, compare=False, repr=False)  # a gate's op table entry (or plugin op)

    @property
    def is_leaf(self) -> bool:
        return self.kind != "gate"

    @property
    def generated(self) -> bool:
        return self.origin != self.name


@dataclass
class Graph:
    """Nodes in topological order (leaves first), the leaves' values, and the output."""

    nodes: dict[str, Node]
    leaf_values: dict[str, np.ndarray]
    output: str
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float64))
    name: str = ""
    about: str = ""
    source: str = "<string>"
    seed: int | None = None
    expect: object = None  # the file's `expect:` block (plain data), checked by gradcheck
    warnings: list[str] = field(default_factory=list)
    definitions: dict[str, object] = field(default_factory=dict)  # each file node as written (plain data)
    plugin_ops: dict[str, object] = field(default_factory=dict)  # the file's `ops:` block (plain data)
    minima: list[dict[str, float]] = field(default_factory=list)  # the file's `minimum:` points (param -> value)
    training: dict[str, object] = field(default_factory=dict)  # the file's `train:` defaults (optimizer, steps, lr)
    variants: object = None  # drawn leaves, require: and kink_margin: (fileformat/variants.py), or None
    points: dict[str, object] | None = None  # the file's `points:` block, complete (fileformat/points.py)
    cache: dict[object, object] = field(default_factory=dict, init=False, repr=False, compare=False)  # see derived()

    # ------------------------------------------------------------ structure
    def derived(self, key: object, compute: Callable[[], T]) -> T:
        """compute(), once per graph: for what follows from the nodes and dtype (plans, paths, constants).
        A copy made with dataclasses.replace starts with an empty cache, so nothing stale carries over."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]  # type: ignore[return-value]

    @property
    def gates(self) -> list[Node]:
        return self.derived("gates", lambda: [n for n in self.nodes.values() if not n.is_leaf])

    @property
    def leaves(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.is_leaf]

    @property
    def params(self) -> list[str]:
        return [n.name for n in self.nodes.values() if n.kind == "param"]

    def named(self, name: str, what: str = "leaf or node", parameter: str | None = "wrt") -> str:
        """name, where it is a leaf (what="leaf") or any node of the graph; else the one UsageError every option
        and argument that names them gives (arguments.unknown_name): the nearest name, and the file's names."""
        leaves_only = what == "leaf"
        if name in (self.leaf_values if leaves_only else self.nodes):
            return name
        from .arguments import unknown_name

        written = [n.name for n in self.nodes.values() if n.is_leaf or not (leaves_only or n.generated)]
        known = self.leaf_values if leaves_only else self.nodes
        raise unknown_name(name, what, known, parameter, written, self.nodes if leaves_only else ())

    def consumers(self) -> dict[str, list[str]]:
        """name -> the gates that read it (more than one: a fork, where gradients sum)."""
        readers: dict[str, dict[str, None]] = {name: {} for name in self.nodes}  # ordered sets: a leaf read
        for node in self.gates:  # by 100,000 gates must not cost 100,000² list scans
            for operand in node.inputs:
                if isinstance(operand, str):
                    readers[operand][node.name] = None
        return {name: list(gates) for name, gates in readers.items()}


def graph_argument(graph: object) -> None:
    """A library function's `graph` argument is a graph, or UsageError (not an AttributeError deep inside)."""
    if not isinstance(graph, Graph):
        from .errors import UsageError, shortened

        made = "backprop_cli.load or loads makes one"
        raise UsageError(f"{shortened(repr(graph))} is not a graph ({made})", parameter="graph")
