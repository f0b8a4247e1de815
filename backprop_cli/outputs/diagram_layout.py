"""Where a diagram's boxes go: gates drawn compactly with their op's symbol, networks in columns
(inputs on one side, the loss on the other, the units of a layer side by side), and the way
(left to right or top to bottom) that fits a 16:9 slide best, measured on dot's own layout.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import BackpropError
from ..graph import Const, Graph, Node
from . import diagram_style as style
from .groups import Placement, Shown

if TYPE_CHECKING:
    from .diagram import Look

SHORT_INDEX = 16  # characters: an index this short is the gate's symbol, [[0, 1], k]; a longer one says index
LONG_NODE = 3  # gates: when nothing else fits a slide, a node of the file this long may be drawn as one box


# ------------------------------------------------------------ a gate's look
def _constant(value: float | tuple) -> str:
    return f"{value:g}" if not isinstance(value, tuple) else str(Const(value))  # a tensor literal: as written


def symbol(node: Node) -> str:
    """The op's symbol, the cs231n way: +, ×, σ, max; with a constant operand written in (×0.5, +1, x²)."""
    op, inputs = node.op or "", node.inputs
    if op == "pow" and len(inputs) == 2 and isinstance(inputs[1], Const):
        return style.POWERS.get(inputs[1].value, f"x^{_constant(inputs[1].value)}")
    if op == "div" and inputs and isinstance(inputs[0], Const) and inputs[0].value == 1:
        return "1/x"
    if op in ("max", "min"):
        return op
    base = str(inputs[0]) if inputs else ""
    if op == "index" and node.expr.startswith(base + "[") and len(node.expr) - len(base) <= SHORT_INDEX:
        return node.expr[len(base) :]  # what is picked, constants written out: [[0, 1], k], [1:3]
    mark = style.SYMBOLS.get(op, op)
    ordered = ("sub", "div", "greater", "less", "greater_equal", "less_equal")  # 1 - x is not -1 x; 0 < x not < 0
    if op in ("add", "mul", "equal", "not_equal", *ordered) and len(inputs) == 2:
        first, second = inputs
        if isinstance(second, Const):
            return f"{mark}{_constant(second.value)}"
        if isinstance(first, Const):
            return f"{_constant(first.value)}{mark}" if op in ordered else f"{mark}{_constant(first.value)}"
    return mark


def note_lines(text: str) -> list[str]:
    """A role and its note on as many short lines as it takes, broken after a comma or the colon."""
    if len(text) <= style.NOTE_CHARS:
        return [text]
    lines: list[str] = []
    for part in text.replace(": ", ":\n", 1).replace(", ", ",\n").split("\n"):
        if lines and len(lines[-1]) + 1 + len(part) <= style.NOTE_CHARS:
            lines[-1] += " " + part
        else:
            lines.append(part)
    return lines


# ------------------------------------------------------------ columns
class Columns:
    """Rank constraints: the inputs the first gates read in the first column (one column before the
    params those gates also read, so weights never sit among the inputs), and the units of one
    layer (file nodes alike in depth, op and size, like h1, h2, h3) in one column."""

    def __init__(self, graph: Graph, place: Placement, rows: int = 1) -> None:
        clustered = {name for names in place.clusters().values() for name in names}
        free = {name for name in graph.nodes if name not in clustered and place.collapse_key(name) is None}
        first = [g for g in graph.gates if all(isinstance(x, Const) or graph.nodes[x].is_leaf for x in g.inputs)]
        self.sources: set[str] = set()
        self.before_params: set[str] = set()
        for gate in first:
            names = [x for x in gate.inputs if isinstance(x, str)]
            with_param = any(graph.nodes[x].kind == "param" for x in names)
            for x in names:
                if graph.nodes[x].kind == "input" and x in free and x not in place.copied:
                    self.sources.add(place.ids[x])
                    if with_param:
                        self.before_params.add(place.ids[x])
        depth: dict[str, int] = {}
        size: dict[str, int] = {}
        for gate in graph.gates:
            depth[gate.name] = 1 + max((depth.get(x, 0) for x in gate.inputs if isinstance(x, str)), default=0)
            size[gate.origin] = size.get(gate.origin, 0) + 1
        alike: dict[tuple, list[str]] = {}
        for gate in graph.gates:
            if not gate.generated and gate.name in free:
                alike.setdefault((depth[gate.name], gate.op, size[gate.origin]), []).append(place.ids[gate.name])
        self.columns = [ids for ids in alike.values() if len(ids) > 1]
        # rows > 1: a long chain wrapped into rows; wires crossing from one row to the next do not push
        # the next row right (constraint=false), so it starts again at the left, under the row before
        deepest = max(depth.values(), default=0)
        cuts = [round(k * deepest / rows) for k in range(1, rows)]
        row_of = {name: sum(d >= c for c in cuts) for name, d in depth.items()}
        consumers = graph.consumers()
        for leaf in graph.leaves:
            readers = consumers[leaf.name]
            placed = place.ids[leaf.name] in self.sources or not readers
            row_of[leaf.name] = 0 if placed else min(row_of[r] for r in readers)
        self.row = {place.shown_id(name): r for name, r in row_of.items()}

    def first_leg(self, shown: Shown) -> dict[str, object]:
        """An input read with a param: its wire spans one more column, where the params go."""
        extra: dict[str, object] = {"minlen": 2} if shown.tail_id in self.before_params else {}
        if self.row.get(shown.tail_id, 0) != self.row.get(shown.head_id, self.row.get(shown.tail_id, 0)):
            extra["constraint"] = "false"
        return extra

    def statements(self) -> list[str]:
        lines = []
        if self.sources:
            lines.append("  { rank=min; " + " ".join(sorted(self.sources)) + " }")
        lines += ["  { rank=same; " + " ".join(ids) + " }" for ids in self.columns]
        return lines


# ------------------------------------------------------------ measuring dot's layout
def plain_size(plain: str) -> tuple[float, float]:
    """The drawing's (width, height) in points, from `dot -Tplain` (graph scale width height, inches)."""
    for line in plain.splitlines():
        parts = line.split()
        if parts and parts[0] == "graph":
            return float(parts[2]) * 72, float(parts[3]) * 72
    return 0.0, 0.0


def slide_scale(width: float, height: float) -> float:
    """How much of its size a drawing keeps on a 16:9 slide (1 or more: it fits at full size)."""
    return min(style.SLIDE[0] / max(width, 1.0), style.SLIDE[1] / max(height, 1.0))


def choose_layout(
    look: Look, build: Callable[[Look], str], plain: Callable[[str], str], long_nodes: frozenset[str] = frozenset()
) -> Look:
    """Left to right when it fits a slide. Otherwise, of top to bottom, a long chain wrapped into 2 or 3
    rows, and (left to right, top to bottom) with the long nodes' gates drawn as one box each, the one
    that fits with the fewest crossing wires (boxes hiding gates count as BOX_COST crossings; the first
    on a tie); when none fits, the one that keeps the most of its size."""
    candidates = [replace(look, rankdir="TB"), replace(look, rows=2), replace(look, rows=3)]
    if long_nodes:
        collapsed = look.collapse | long_nodes
        candidates += [replace(look, collapse=collapsed), replace(look, rankdir="TB", collapse=collapsed)]
    first = replace(look, rankdir="LR", rows=1)
    laid = plain(build(first))
    if slide_scale(*plain_size(laid)) >= 1:
        return first
    scored = [(first, laid)]
    for candidate in candidates:
        try:
            scored.append((candidate, plain(build(candidate))))
        except BackpropError:  # dot failed or took too long on this one: the others still count
            continue
    fitting = [
        (crossings(text) + style.BOX_COST * (c.collapse != look.collapse), k, c)
        for k, (c, text) in enumerate(scored)
        if slide_scale(*plain_size(text)) >= 1
    ]
    if fitting:
        return min(fitting, key=lambda item: item[:2])[2]
    return max(scored, key=lambda item: slide_scale(*plain_size(item[1])))[0]


def _bezier(points: list[tuple[float, float]], steps: int = 12) -> list[tuple[float, float]]:
    """A dot spline (1 + 3k control points) as a polyline."""
    line = [points[0]]
    for k in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[k : k + 4]
        for i in range(1, steps + 1):
            t = i / steps
            a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
            line.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    return line


def _cross(p: tuple, q: tuple, r: tuple, s: tuple) -> bool:
    """Do segments pq and rs meet? Half-open (the end point belongs to the next segment), so a crossing
    exactly at a sampled point is counted once; parallel segments never cross."""

    def cross(a: tuple, b: tuple) -> float:
        return a[0] * b[1] - a[1] * b[0]

    d, e = (q[0] - p[0], q[1] - p[1]), (s[0] - r[0], s[1] - r[1])
    denom = cross(d, e)
    if denom == 0:
        return False
    w = (r[0] - p[0], r[1] - p[1])
    t, u = cross(w, e) / denom, cross(w, d) / denom
    return 0 <= t < 1 and 0 <= u < 1


def _extent(line: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in line], [p[1] for p in line]
    return min(xs), min(ys), max(xs), max(ys)


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def crossings(plain: str) -> int:
    """How many times wires cross in a laid-out drawing (`dot -Tplain`): the splines are sampled into
    polylines and every pair of edges without a common end is intersected, segment by segment. A wire
    through a label node is two edges; so a crossing is counted once, where the two really cross."""
    edges = []
    for line in plain.splitlines():
        parts = line.split()
        if parts and parts[0] == "edge":
            n = int(parts[3])
            coords = [(float(parts[4 + 2 * i]), float(parts[5 + 2 * i])) for i in range(n)]
            edges.append(((parts[1], parts[2]), _bezier(coords)))
    boxes = [_extent(line) for _, line in edges]
    count = 0
    for (i, (ends_a, line_a)), (j, (ends_b, line_b)) in itertools.combinations(enumerate(edges), 2):
        if set(ends_a) & set(ends_b) or not _overlap(boxes[i], boxes[j]):
            continue
        count += sum(
            _cross(line_a[i], line_a[i + 1], line_b[j], line_b[j + 1])
            for i in range(len(line_a) - 1)
            for j in range(len(line_b) - 1)
        )
    return count
