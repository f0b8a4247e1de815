"""A Trace as a Graphviz DOT diagram in the lectures' style (cs231n, NPFL114): left to right unless the
look says otherwise, each gate a small mark with its op's symbol filled by its role, each wire running
through its value above it and its gradient under it, numbers as a teacher writes them (0.20, -0.39).

Safety: user text enters the DOT only as the escaped text of a quoted label or tooltip
(dot_text.quoted) or of an HTML-like label (dot_text.html_text), under ids generated here (n0, n1,
b0, l0, cluster_0); never as an attribute name or value, nor as a URL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..engines.trace import Trace
from ..numbers import TEACHER_DIGITS, rounded
from . import diagram_style as style
from .diagram_gates import Boxes
from .diagram_layout import Columns
from .diagram_words import Names, legend_label, title_lines
from .dot_text import attributes, html_rows, padded, quoted, tensor_lines
from .groups import OUTPUT_ID, Placement, Shown
from .routes import Routes, Wire, gate_note, magnitude, merge_wires, short_note, trace_routes


@dataclass(frozen=True)
class Look:
    blank: frozenset[str] = frozenset()  # "values", "gradients": left empty for a worksheet
    collapse: frozenset[str] = frozenset()  # groups (or expanded file nodes) drawn as one box
    legend: bool = True
    verdicts: Mapping[str, str] | None = None  # leaf -> gradcheck verdict, e.g. "pass (rel 3e-10)"
    note: str = ""  # one more title line ("answer key")
    rankdir: str = "LR"  # LR (left to right) or TB (top to bottom); see diagram_fit.fit_to_slide
    digits: int = TEACHER_DIGITS  # significant digits of the numbers on the wires
    title: bool = True  # the graph's name and `about` over the diagram
    background: str = "white"  # white, transparent or dark (diagram_style.PALETTES)
    network: bool = False  # the network view: one unit per node of the file, weights on the wires (network.py)


@dataclass(frozen=True)
class Moment:
    """One frame of --steps: the gates whose step has run, and the one running now.

    Frames share one layout: every box gets the size it has at its fullest (`sizes`, inches, from
    a drawing with every gate marked, made with `sizing`), a wire's missing number is a "?" as wide
    as the number, and the caption sits under the diagram in a fixed number of lines."""

    done: frozenset[str]
    current: str | None
    caption: str = ""
    forward: bool = False  # forward-mode frames: values and tangents appear gate by gate
    caption_lines: int = 0  # pad the caption to this many lines
    sizes: Mapping[str, tuple[float, float]] | None = None  # box id -> (width, height)
    sizing: bool = False  # mark every gate as current: the drawing that measures the boxes


# ------------------------------------------------------------ the diagram
class Diagram(Boxes):
    """Builds the DOT text; one instance per drawing (a frame, a worksheet, the answer key)."""

    def __init__(self, trace: Trace, routes: Routes, look: Look, moment: Moment | None) -> None:
        self.trace, self.routes, self.look, self.moment = trace, routes, look, moment
        self.graph = trace.graph
        self.colours = style.PALETTES.get(look.background, style.PALETTES["white"])
        self.beside = len(routes.wires) > style.LABELS_BESIDE
        self.place = Placement(trace.graph, routes, look.collapse, style.LEAF_COPIES if self.beside else 0)
        self.ids = self.place.ids
        self.words = Names(trace.graph)
        self.layout = Columns(trace.graph, self.place)
        gates = [row for row in trace.rows if not row.node.is_leaf and self.place.collapse_key(row.node.name) is None]
        self.short_notes = {row.node.name: short_note(trace, row, self.number) for row in gates}
        self.long_notes = {row.node.name: gate_note(trace, row, self.number) for row in gates}
        self.styles_used: set[str] = set()  # "zero", "vanishing", "width": what the legend explains
        self.reader_classes: dict[str, str] = {}  # node -> its readers as classes (Boxes.readers)

    # ---------------------------------------------------------------- what is known in this frame
    def value_known(self, wire: Wire) -> bool:
        m = self.moment
        return m is None or not m.forward or self.graph.nodes[wire.tail].is_leaf or wire.tail in m.done

    def flow_known(self, wire: Wire) -> bool:
        m = self.moment
        if m is None:
            return True
        if m.forward:
            return self.value_known(wire)
        return wire.head is None or wire.head in m.done

    def is_current_wire(self, shown: Shown) -> bool:
        """The wires into this frame's gate: the gradients it sends (forward mode: the values it
        reads); in the first frame of the backward pass, the output's own wire with its 1."""
        m = self.moment
        if m is None or m.sizing:
            return False
        if m.current is None:
            return not m.forward and any(w.head is None for w in shown.parts)
        return any(w.head == m.current for w in shown.parts)

    def blank(self, what: str, wire: Wire) -> bool:
        if what not in self.look.blank:
            return False
        if what == "values":
            return not self.graph.nodes[wire.tail].is_leaf  # the leaves' values are the givens
        return wire.head is not None  # the output's 1 is where the student starts

    # ---------------------------------------------------------------- wires
    def numbers(self, value, zeros: bool = True) -> list[str]:
        return tensor_lines(value, self.look.digits, zeros)

    def _flow_rows(self, wire: Wire, what: str, known: bool) -> list[tuple[str, str]]:
        mark = "∂" if what == "gradient" else "ṫ"
        colour = self.colours.gradient if what == "gradient" else self.colours.tangent
        if (self.trace.gradients if what == "gradient" else self.trace.tangents) is None:
            return []
        if what == "gradient" and not wire.differentiable:
            return [("∂ none: not differentiable", self.colours.zero)]
        array = getattr(wire, what)
        if self.blank("gradients" if what == "gradient" else "values", wire):
            return [(f"{mark} {style.BLANK}", colour)]
        lines = self.numbers(array)
        lines = [f"{mark} {lines[0]}"] + [f"  {line}" for line in lines[1:]]
        if what == self.routes.flow and wire.zero:
            lines[-1], colour = f"{lines[-1]} · {wire.zero}", self.colours.zero
        elif what == self.routes.flow and wire.vanishing:
            lines[-1] += " · vanishing"
        if not known:
            return [(padded(line, f"{mark} ?" if i == 0 else ""), self.colours.muted) for i, line in enumerate(lines)]
        return [(line, colour) for line in lines]

    def wire_statements(self, shown: Shown, index: int) -> tuple[str | None, list[str]]:
        """A wire, its value above it and its gradient under it. Up to LABELS_BESIDE wires the numbers
        sit on a small node the wire runs through (l0, l1, ...), split by a rule in the wire's colour,
        so a number can belong to no other wire; beyond, beside the wire after layout (dot's xlabel)."""
        colours = self.colours
        wire = merge_wires(shown.parts, self.routes.flow)
        value_known = self.value_known(wire)
        if self.blank("values", wire):
            rows = [(style.BLANK, colours.value)]
        else:
            lines = self.numbers(wire.value, zeros=wire.differentiable)
            if value_known:
                rows = [(line, colours.value) for line in lines]
            else:
                rows = [(padded(line, "?" if i == 0 else ""), colours.muted) for i, line in enumerate(lines)]
        value_rows = len(rows)
        flow_known = all(self.flow_known(w) for w in shown.parts)
        for what in ("gradient", "tangent"):
            rows += self._flow_rows(wire, what, flow_known if what == self.routes.flow else value_known)

        flow_hidden = not flow_known or self.blank("gradients" if self.routes.flow == "gradient" else "values", wire)
        low, high = style.PEN_WIDTH
        colour, line, classes = colours.wire, "solid", ["wire", f"to-{shown.head_id}", f"from-{shown.tail_id}"]
        width = low + 0.3
        if not flow_hidden:
            size, largest = magnitude(getattr(wire, self.routes.flow)), self.routes.largest
            if size > 0 and largest > 0:
                share = 1 + math.log10(size / largest) / style.PEN_DECADES
                width = low + (high - low) * min(1.0, max(0.0, share))
                self.styles_used.add(f"width {width:.2f}")
            if wire.zero or not wire.differentiable:
                colour, line, width = colours.zero, "dashed", low
                classes.append("zero")
                self.styles_used.add("zero")
            elif wire.vanishing:
                line = "dotted"
                classes.append("vanishing")
                self.styles_used.add("vanishing")
        if self.is_current_wire(shown):
            colour = colours.current
            classes.append("current")
        look = {"color": f'"{colour}"', "style": line, "penwidth": f"{width:.2f}", "class": f'"{" ".join(classes)}"'}
        if self.beside:
            return None, [f"  {shown.tail_id} -> {shown.head_id} " + attributes(xlabel=html_rows(rows), **look)]
        label_id = f"l{index}"
        label = html_rows(rows, rule_after=value_rows - 1, rule=colour)
        size = {"width": 0, "height": 0}
        sizes = self.moment.sizes if self.moment is not None and self.moment.sizes else {}
        if label_id in sizes:  # frames: the size measured on the fullest drawing
            size = {"width": f"{sizes[label_id][0]:.3f}", "height": f"{sizes[label_id][1]:.3f}", "fixedsize": "true"}
        node = attributes(
            label=label,
            shape="plaintext",
            margin=0,
            fontsize=style.FONT_SIZE,
            **size,
            **{"class": f'{look["class"][:-1]} v{value_rows}"'},  # vN: its first N lines are the value
        )
        return f"  {label_id} {node}", [
            f"  {shown.tail_id} -> {label_id} " + attributes(dir="none", **look, **self.layout.first_leg(shown)),
            f"  {label_id} -> {shown.head_id} " + attributes(**look),
        ]

    # ---------------------------------------------------------------- the whole graph
    def text(self) -> str:
        """The title sits on an outer borderless cluster (top), the legend on the graph (bottom)."""
        colours = self.colours
        clustered = self.place.clusters()
        in_cluster = {name for names in clustered.values() for name in names}
        home = {self.ids[name]: i for i, names in enumerate(clustered.values()) for name in names}
        labels: dict[int | None, list[str]] = {}  # a label node goes in the cluster of both its ends, if any
        edges: list[str] = []
        for i, wire in enumerate(self.place.shown_wires()):  # first: the legend says the styles they use
            node, lines = self.wire_statements(wire, i)
            edges += lines
            if node is not None:
                inside = home.get(wire.tail_id)
                labels.setdefault(inside if inside == home.get(wire.head_id) else None, []).append(node)
        body = []
        for i, (group, names) in enumerate(clustered.items()):
            body.append(f"  subgraph cluster_{i} {{")
            body.append(
                "    graph "
                + attributes(
                    label=quoted([group]),
                    peripheries=1,  # the outer title cluster has none
                    **{"class": '""'},  # not the root's LR or TB
                    style='"rounded,dashed"',
                    color=f'"{colours.cluster}"',
                    fontcolor=f'"{colours.muted}"',
                    fontsize=style.FONT_SIZE,
                    labeljust="l",
                    labelloc="t",
                )
            )
            body += ["  " + self._node_statement(name) for name in names]
            body += ["  " + node for node in labels.get(i, [])]
            body.append("  }")
        for name in self.graph.nodes:
            if name not in in_cluster and self.place.collapse_key(name) is None:
                body.append(self._node_statement(name))
        body += [self.box_statement(key) for key in self.place.boxes]
        output = attributes(label=quoted(["output"]), shape="plaintext", fontcolor=f'"{colours.muted}"')
        body.append(f"  {OUTPUT_ID} {output}")
        body += labels.get(None, [])
        body += self.layout.statements()
        title = title_lines(self.trace, self.look)
        return "\n".join([*self.header(title), *body, "  }", *edges, "}"]) + "\n"

    def header(self, title: list[str]) -> list[str]:
        """The graph's attributes (the legend is its label, at the bottom) and the title cluster's."""
        colours, font = self.colours, f'"{style.FONT}"'
        return [
            "digraph backprop {",
            "  graph "
            + attributes(
                rankdir=self.look.rankdir,
                **{"class": f'"{self.look.rankdir}{" network" if self.look.network else ""}"'},  # for tests, pages
                bgcolor=f'"{colours.background}"',
                pad=style.PAD,
                nodesep=style.BIG_NODE_SEP if self.beside else style.NODE_SEP,
                ranksep=style.BIG_RANK_SEP if self.beside else style.RANK_SEP,
                fontname=font,
                fontsize=style.FONT_SIZE,
                fontcolor=f'"{colours.muted}"',
                labelloc="b",
                labeljust="l",
                label=legend_label(self),
            ),
            "  node "
            + attributes(fontname=font, fontsize=style.FONT_SIZE, fontcolor=f'"{colours.text}"', height=0.3, width=0.3),
            "  edge " + attributes(fontname=font, fontsize=style.FONT_SIZE, arrowsize=0.7),
            "  subgraph cluster_diagram {",
            "    graph "
            + attributes(
                peripheries=0,
                **{"class": '""'},
                fontsize=style.TITLE_FONT_SIZE,
                fontcolor=f'"{colours.text}"',
                labelloc="t",
                labeljust="l",
                label=quoted(title, justify="l") if title else '""',  # else it would take the legend
            ),
        ]

    def _node_statement(self, name: str) -> str:
        if not self.graph.nodes[name].is_leaf:
            return self.gate_statement(name)
        copies = self.place.copied.get(name, 0)
        return "\n".join(self.leaf_statement(name, k) for k in range(1, copies + 1)) or self.leaf_statement(name)


def build_dot(
    trace: Trace, look: Look | None = None, moment: Moment | None = None, routes: Routes | None = None
) -> str:
    """The DOT text of a trace's diagram (routes may be passed in when drawing many frames of one trace)."""
    look = look or Look()
    routes = routes or trace_routes(trace)
    if look.network:
        from .network import network_dot

        return network_dot(trace, look, routes, moment)
    return Diagram(trace, routes, look, moment).text()


__all__ = ["Diagram", "Look", "Moment", "build_dot", "rounded"]
