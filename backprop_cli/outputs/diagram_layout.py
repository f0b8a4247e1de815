"""Where a diagram's boxes go: gates drawn compactly with their op's symbol, networks in columns
(inputs on one side, the loss on the other, the units of a layer side by side), and the way
(left to right or top to bottom) that fits a 16:9 slide best, measured on dot's own layout.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
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
    """The op's symbol from the op table, the cs231n way (+, ×, σ, max), with a constant operand written in
    (×0.5, +1, 1−, x², max(0,·)) and an index said (w[0])."""
    op, inputs = node.op or "", node.inputs
    if op == "pow" and len(inputs) == 2 and isinstance(inputs[1], Const):
        return style.POWERS.get(inputs[1].value, f"x^{_constant(inputs[1].value)}")
    if op == "div" and inputs and isinstance(inputs[0], Const) and inputs[0].value == 1:
        return "1/x"
    base = str(inputs[0]) if inputs else ""
    if op == "index" and node.expr and len(node.expr) <= 8:
        return node.expr  # w[0]: which element it picks, as the lectures write it
    if op == "index" and node.expr and node.expr.startswith(base + "[") and len(node.expr) - len(base) <= SHORT_INDEX:
        return node.expr[len(base) :]  # what is picked, constants written out: [[0, 1], k], [1:3]
    mark = node.operation.mark if node.operation is not None else op
    if len(inputs) == 2 and any(isinstance(x, Const) for x in inputs):
        first, second = inputs
        const = first if isinstance(first, Const) else second
        if op in ("maximum", "minimum"):
            return f"{mark}({_constant(const.value)},·)"
        ordered = ("sub", "div", "greater", "less", "greater_equal", "less_equal")  # 1 - x is not -1 x; 0 < x not < 0
        if op in ("add", "mul", "equal", "not_equal", *ordered):
            if isinstance(second, Const):
                return f"{mark}{_constant(second.value)}"
            return f"{_constant(first.value)}{mark}" if op in ordered else f"{mark}{_constant(first.value)}"
    return mark


# ------------------------------------------------------------ columns
class Columns:
    """Rank constraints: the inputs the first gates read in the first column (one column before the
    params those gates also read, so weights never sit among the inputs), and the units of one
    layer (file nodes alike in depth, op and size, like h1, h2, h3) in one column."""

    def __init__(self, graph: Graph, place: Placement) -> None:
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

    def first_leg(self, shown: Shown) -> dict[str, object]:
        """An input read with a param: its wire spans one more column, where the params go."""
        return {"minlen": 2} if shown.tail_id in self.before_params else {}

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


def slide_scale(width: float, height: float, slide: str = "16:9") -> float:
    """How many pixels a point of the drawing takes when it is placed whole on the slide (scaled to fit,
    keeping its aspect): a font of f pt reads at f times this many pixels."""
    slide_w, slide_h = style.SLIDES[slide]
    return min(slide_w / max(width, 1.0), slide_h / max(height, 1.0))


@dataclass(frozen=True)
class Laid:
    """A candidate look and what dot made of it."""

    look: Look
    scale: float  # slide_scale of the drawing
    backward: int  # wires running against the layout's direction
    crossings: int
    boxes: bool  # long nodes drawn as boxes (their gates hidden)


def measure(look: Look, plain: str, base: Look, slide: str) -> Laid:
    width, height = (side + 2 * style.PAD * 72 for side in plain_size(plain))  # the margin is on the slide too
    return Laid(look, slide_scale(width, height, slide), backward(plain, look.rankdir), crossings(plain),
                look.collapse != base.collapse)  # fmt: skip


def choose_layout(
    look: Look,
    build: Callable[[Look], str],
    plain: Callable[[str], str],
    long_nodes: frozenset[str] = frozenset(),
    network: str = "never",
    slide: str = "16:9",
) -> Look:
    """The look whose smallest text reads best on the slide. The first choice (left to right; for a layered
    network, network="first", its network view) when its smallest text reads at READABLE_PX or more; else the
    candidates (top to bottom; the network view, network="also"; the long nodes' gates drawn as one box each)
    are laid out by dot, those with a wire running against the layout's direction set aside, and of the ones
    whose text reads at READABLE_PX the one with the fewest crossing wires is taken (boxes hiding gates count as
    BOX_COST crossings; the first on a tie); when none reads that well, the one whose text is largest."""
    circuit = replace(look, rankdir="LR", network=False)
    net = replace(look, rankdir="LR", network=True)
    order = [net, circuit] if network == "first" else [net] if network == "only" else [circuit]
    if network == "also":
        order.append(net)
    laid = [measure(order[0], plain(build(order[0])), look, slide)]
    if laid[0].scale * style.FONT_SIZE >= style.READABLE_PX and not laid[0].backward:
        return order[0]
    candidates = order[1:] + [replace(c, rankdir="TB") for c in order]
    if long_nodes and network != "only":
        collapsed = look.collapse | long_nodes
        candidates += [replace(circuit, collapse=collapsed), replace(circuit, rankdir="TB", collapse=collapsed)]
    for candidate in candidates:
        try:
            laid.append(measure(candidate, plain(build(candidate)), look, slide))
        except BackpropError:  # dot failed or took too long on this one: the others still count
            continue
    forward = [c for c in laid if not c.backward] or laid
    readable = [c for c in forward if c.scale * style.FONT_SIZE >= style.READABLE_PX]
    if readable:  # the network view, when not the first choice, hides gates as boxes do
        return min(
            readable, key=lambda c: c.crossings + style.BOX_COST * (c.boxes or c.look.network != order[0].network)
        ).look
    return max(forward, key=lambda c: c.scale).look


def _ends(parts: list[str]) -> tuple[tuple[float, float], tuple[float, float]]:
    n = int(parts[3])
    return (float(parts[4]), float(parts[5])), (float(parts[4 + 2 * (n - 1)]), float(parts[5 + 2 * (n - 1)]))


def backward(plain: str, rankdir: str = "LR") -> int:
    """How many wires run against the layout's direction in a laid-out drawing (`dot -Tplain`): right to left
    in a left-to-right layout, upwards in a top-to-bottom one (beyond a tolerance of a tenth of an inch)."""
    count = 0
    for line in plain.splitlines():
        parts = line.split()
        if parts and parts[0] == "edge":
            (x0, y0), (x1, y1) = _ends(parts)
            count += (x1 < x0 - 0.1) if rankdir == "LR" else (y1 > y0 + 0.1)  # plain's y grows upwards
    return count


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
