"""A Trace as a Graphviz DOT diagram: circuit style (left to right unless the look says otherwise),
each wire running through its value above it and its gradient under it, each gate its op's symbol,
name and role.

Safety: user text enters the DOT only as the escaped text of a quoted label or tooltip
(dot_text.quoted) or as html.escape'd text in an HTML-like label (a gate's name), under ids
generated here (n0, n1, b0, l0, cluster_0); never as an attribute name or value, nor as a URL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..engines.trace import Trace
from ..numbers import number
from ..ops.shapes import fmt
from . import diagram_style as style
from .diagram_layout import Columns, note_lines, symbol
from .diagram_words import Names, legend_lines, title_lines
from .dot_text import attributes, cut, html_rows, html_sized, padded, quoted, tensor_lines
from .groups import OUTPUT_ID, Placement, Shown
from .routes import Routes, Wire, magnitude, merge_wires, trace_routes

_BOX = {"margin": '"0.1,0.04"', "height": 0.3, "width": 0.3}  # boxes as small as their text allows


@dataclass(frozen=True)
class Look:
    blank: frozenset[str] = frozenset()  # "values", "gradients": left empty for a worksheet
    collapse: frozenset[str] = frozenset()  # groups (or expanded file nodes) drawn as one box
    legend: bool = True
    verdicts: Mapping[str, str] | None = None  # leaf -> gradcheck verdict, e.g. "pass (rel 3e-10)"
    note: str = ""  # one more title line ("answer key")
    rankdir: str = "LR"  # LR (left to right) or TB (top to bottom); see diagram_fit.fit_to_slide
    rows: int = 1  # a long left-to-right chain wrapped into this many rows


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
class Diagram:
    """Builds the DOT text; one instance per drawing (a frame, a worksheet, the answer key)."""

    def __init__(self, trace: Trace, routes: Routes, look: Look, moment: Moment | None) -> None:
        self.trace, self.routes, self.look, self.moment = trace, routes, look, moment
        self.graph = trace.graph
        self.beside = len(routes.wires) > style.LABELS_BESIDE
        self.place = Placement(trace.graph, routes, look.collapse, style.LEAF_COPIES if self.beside else 0)
        self.ids = self.place.ids
        self.words = Names(trace.graph)
        self.layout = Columns(trace.graph, self.place, look.rows)

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
    def _flow_rows(self, wire: Wire, what: str, known: bool) -> list[tuple[str, str]]:
        mark = "∂" if what == "gradient" else "ṫ"
        colour = style.GRADIENT if what == "gradient" else style.TANGENT
        if (self.trace.gradients if what == "gradient" else self.trace.tangents) is None:
            return []
        if what == "gradient" and not wire.differentiable:
            return [("∂ none: not differentiable", style.ZERO)]
        array = getattr(wire, what)
        if self.blank("gradients" if what == "gradient" else "values", wire):
            return [(f"{mark} {style.BLANK}", colour)]
        lines = tensor_lines(array)
        lines = [f"{mark} {lines[0]}"] + [f"  {line}" for line in lines[1:]]
        if what == self.routes.flow and wire.zero:
            lines[-1], colour = f"{lines[-1]} · {wire.zero}", style.ZERO
        elif what == self.routes.flow and wire.vanishing:
            lines[-1] += " · vanishing"
        if not known:
            return [(padded(line, f"{mark} ?" if i == 0 else ""), style.MUTED) for i, line in enumerate(lines)]
        return [(line, colour) for line in lines]

    def wire_statements(self, shown: Shown, index: int) -> tuple[str | None, list[str]]:
        """A wire, its value above it and its gradient under it. Up to LABELS_BESIDE wires the numbers
        sit on a small node the wire runs through (l0, l1, ...), split by a rule in the wire's colour,
        so a number can belong to no other wire; beyond, beside the wire after layout (dot's xlabel)."""
        wire = merge_wires(shown.parts, self.routes.flow)
        value_known = self.value_known(wire)
        if self.blank("values", wire):
            rows = [(style.BLANK, style.VALUE)]
        elif value_known:
            rows = [(line, style.VALUE) for line in tensor_lines(wire.value)]
        else:
            rows = [
                (padded(line, "?" if i == 0 else ""), style.MUTED) for i, line in enumerate(tensor_lines(wire.value))
            ]
        value_rows = len(rows)
        flow_known = all(self.flow_known(w) for w in shown.parts)
        for what in ("gradient", "tangent"):
            rows += self._flow_rows(wire, what, flow_known if what == self.routes.flow else value_known)

        flow_hidden = not flow_known or self.blank("gradients" if self.routes.flow == "gradient" else "values", wire)
        low, high = style.PEN_WIDTH
        colour, line, classes = style.WIRE, "solid", ["wire", f"to-{shown.head_id}", f"from-{shown.tail_id}"]
        width = low + 0.3
        if not flow_hidden:
            size, largest = magnitude(getattr(wire, self.routes.flow)), self.routes.largest
            if size > 0 and largest > 0:
                share = 1 + math.log10(size / largest) / style.PEN_DECADES
                width = low + (high - low) * min(1.0, max(0.0, share))
            if wire.zero or not wire.differentiable:
                colour, line, width = style.ZERO, "dashed", low
                classes.append("zero")
            elif wire.vanishing:
                line = "dotted"
                classes.append("vanishing")
        if self.is_current_wire(shown):
            colour = style.CURRENT
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
            fontname=f'"{style.NUMBERS_FONT}"',  # monospace: a "?" padded to a number's width takes its room
            fontsize=style.WIRE_FONT_SIZE,
            **size,
            **{"class": f'{look["class"][:-1]} v{value_rows}"'},  # vN: its first N lines are the value
        )
        return f"  {label_id} {node}", [
            f"  {shown.tail_id} -> {label_id} " + attributes(dir="none", **look, **self.layout.first_leg(shown)),
            f"  {label_id} -> {shown.head_id} " + attributes(**look),
        ]

    # ---------------------------------------------------------------- boxes
    def fork_line(self, name: str) -> str | None:
        leaving = self.routes.out.get(name, [])
        if len(leaving) < 2 or self.routes.flow != "gradient":
            return None
        if any(w.gradient is None for w in leaving):
            return None
        if "gradients" in self.look.blank:
            return "fork: Σ∂ = " + " + ".join(style.BLANK for _ in leaving) + f" = {style.BLANK}"
        known = [self.flow_known(w) for w in leaving]
        if np.ndim(leaving[0].gradient) == 0 and len(leaving) > style.FORK_TERMS:
            total = number(sum(float(w.gradient) for w in leaving)) if all(known) else "?"
            return f"fork: Σ∂ of {len(leaving)} = {total}"
        if np.ndim(leaving[0].gradient) != 0:
            return f"fork: Σ of {len(leaving)} gradients" + ("" if all(known) else f", {sum(known)} in")
        # never wider than the whole sum, so a frame's box fits the size measured on the last frame
        parts = [number(w.gradient) if k else "?" for w, k in zip(leaving, known, strict=True)]
        terms = " + ".join(p if not p.startswith("-") else f"({p})" for p in parts)
        total = number(sum(float(w.gradient) for w in leaving)) if all(known) else "?"
        return f"fork: Σ∂ = {terms} = {total}"

    def leaf_statement(self, name: str, copy: int = 0) -> str:
        """A leaf's box; on a big graph, copy k of a leaf read all along it (the fork's sum on the first)."""
        node = self.graph.nodes[name]
        lines = [name if node.kind == "input" else f"{name} (param)"]
        if node.shape:
            lines.append(fmt(node.shape))
        fork = self.fork_line(name) if copy <= 1 else f"copy {copy} of {self.place.copied[name]}"
        if fork:
            lines.append(fork)
        if not self.routes.out.get(name):
            lines.append("unused: no gate reads it")
        border, width = style.MUTED, 1.0
        verdict = (self.look.verdicts or {}).get(name)
        if verdict is not None:
            lines.append(f"gradcheck: {verdict}")
            border, width = style.VERDICT.get(str(verdict).split(" ")[0].lower(), style.MUTED), 2.0
        box = f"{self.ids[name]}x{copy}" if copy else self.ids[name]
        return self._box(box, lines, f"leaf {node.kind}", style.LEAF_FILL, border, width)

    def gate_lines(self, name: str) -> list[str]:
        """Under the op's symbol, small: the node's name (not a generated gate's: f.mul1 says nothing),
        its role and what it does here, its shape, a fork's sum."""
        node = self.graph.nodes[name]
        role = node.operation.gate_kind.role
        note = self.words.unnamed(self.routes.notes.get(name, ""))
        hidden = bool(self.look.blank)  # a worksheet: the notes would give the answers away
        if self.moment is not None and self.moment.forward and not self.moment.sizing:
            hidden = hidden or name not in self.moment.done  # forward frames: not computed yet
        lines = [] if node.generated else [name]
        lines += note_lines(f"{role}: {note}" if note and not hidden else role)
        if node.shape:
            lines.append(fmt(node.shape))
        fork = self.fork_line(name)
        if fork:
            lines.append(fork)
        return lines

    def gate_statement(self, name: str) -> str:
        node = self.graph.nodes[name]
        current = self.is_current([name])
        rows = [(symbol(node), style.TEXT, style.SYMBOL_FONT_SIZE)]
        rows += [(line, style.MUTED if i or node.generated else style.TEXT, style.SMALL_FONT_SIZE)
                 for i, line in enumerate(self.gate_lines(name))]  # fmt: skip
        if current:
            rows.insert(0, ("▶ this step", style.CURRENT, style.SMALL_FONT_SIZE))
        tooltip = quoted([f"{name} = {node.expr}" if node.expr else name])
        return self._box(
            self.ids[name],
            rows,
            f"gate {node.operation.gate_kind.role}",
            style.GATE_FILL,
            current=current,
            tooltip=tooltip,
        )

    def box_statement(self, key: str) -> str:
        gates, box = self.place.members[key], self.place.boxes[key]
        ops = sorted({self.graph.nodes[g].op for g in gates})
        lines = [f"{key} (collapsed)", f"{len(gates)} gate{'s' if len(gates) > 1 else ''}: {cut(', '.join(ops), 40)}"]
        leaving = sorted({w.tail for w in self.routes.wires if w.tail in gates and self.place.shown_id(w.head) != box})
        if leaving:
            lines.append(cut("gives " + ", ".join(leaving), style.EXPRESSION_CHARS))
        return self._box(box, lines, "collapsed", style.COLLAPSED_FILL, shape="box3d", current=self.is_current(gates))

    def is_current(self, names: list[str]) -> bool:
        m = self.moment
        return m is not None and (m.sizing or m.current in names)

    def _box(
        self,
        box_id: str,
        lines: list[str] | list[tuple[str, str, int]],
        classes: str,
        fill: str,
        border: str = style.WIRE,
        width: float = 1.0,
        shape: str = "box",
        current: bool = False,
        tooltip: str | None = None,
    ) -> str:
        """One box's statement (lines: plain text, or a gate's (text, colour, size) rows); in frames
        every box keeps the size measured on the fullest drawing."""
        if current:  # the gate of this --steps frame: said in words, and in colour
            if lines and isinstance(lines[0], str):
                lines = ["▶ this step", *lines]
            fill, border, width, classes = style.CURRENT_FILL, style.CURRENT, 2.5, f"{classes} current"
        sizes = self.moment.sizes if self.moment is not None and self.moment.sizes else {}
        fixed = {}
        if box_id in sizes:
            fixed = {"width": f"{sizes[box_id][0]:.3f}", "height": f"{sizes[box_id][1]:.3f}", "fixedsize": "true"}
        plain = not lines or isinstance(lines[0], str)
        return f"  {box_id} " + attributes(
            id=box_id,
            label=quoted(lines) if plain else html_sized(lines),
            shape=shape,
            style='"rounded,filled"' if shape == "box" else "filled",
            fillcolor=f'"{fill}"',
            color=f'"{border}"',
            penwidth=width,
            margin='"0.2,0.1"' if shape == "box3d" else None,  # a collapsed box's title clear of its border
            tooltip=tooltip,
            **{"class": f'"{classes}"'},
            **fixed,
        )

    # ---------------------------------------------------------------- the whole graph
    def text(self) -> str:
        """The title sits on an outer borderless cluster (top), the legend on the graph (bottom, smaller)."""
        big = self.beside
        font = f'"{style.FONT}"'
        legend = legend_lines(self.trace, self.routes, self.look, self.moment)
        out = [
            "digraph backprop {",
            "  graph "
            + attributes(
                rankdir=self.look.rankdir,
                bgcolor="white",
                pad=0.2,
                nodesep=style.BIG_NODE_SEP if big else style.NODE_SEP,
                ranksep=style.BIG_RANK_SEP if big else style.RANK_SEP,
                fontname=font,
                fontsize=style.FONT_SIZE if self.moment is not None else style.LEGEND_FONT_SIZE,
                fontcolor=f'"{style.TEXT if self.moment is not None else style.MUTED}"',  # a frame's caption
                labelloc="b",
                labeljust="l",
                label=quoted(legend, justify="l") if legend else None,
            ),
            "  node " + attributes(fontname=font, fontsize=style.FONT_SIZE, fontcolor=f'"{style.TEXT}"', **_BOX),
            "  edge " + attributes(fontname=f'"{style.NUMBERS_FONT}"', fontsize=style.WIRE_FONT_SIZE, arrowsize=0.7),
            "  subgraph cluster_diagram {",
            "    graph "
            + attributes(
                peripheries=0,
                fontsize=style.TITLE_FONT_SIZE,
                fontcolor=f'"{style.TEXT}"',
                labelloc="t",
                labeljust="l",
                label=quoted(title_lines(self.trace, self.look), justify="l"),
            ),
        ]
        clustered = self.place.clusters()
        in_cluster = {name for names in clustered.values() for name in names}
        home = {self.ids[name]: i for i, names in enumerate(clustered.values()) for name in names}
        labels: dict[int | None, list[str]] = {}  # a label node goes in the cluster of both its ends, if any
        edges: list[str] = []
        for i, wire in enumerate(self.place.shown_wires()):
            node, lines = self.wire_statements(wire, i)
            edges += lines
            if node is not None:
                inside = home.get(wire.tail_id)
                labels.setdefault(inside if inside == home.get(wire.head_id) else None, []).append(node)
        for i, (group, names) in enumerate(clustered.items()):
            out.append(f"  subgraph cluster_{i} {{")
            out.append(
                "    graph "
                + attributes(
                    label=quoted([group]),
                    peripheries=1,  # the outer title cluster has none
                    style='"rounded,dashed"',
                    color=f'"{style.CLUSTER}"',
                    fontcolor=f'"{style.MUTED}"',
                    fontsize=style.FONT_SIZE,
                    labeljust="l",
                    labelloc="t",
                )
            )
            out += ["  " + self._node_statement(name) for name in names]
            out += ["  " + node for node in labels.get(i, [])]
            out.append("  }")
        for name in self.graph.nodes:
            if name not in in_cluster and self.place.collapse_key(name) is None:
                out.append(self._node_statement(name))
        out += [self.box_statement(key) for key in self.place.boxes]
        output = attributes(label=quoted(["output"]), shape="plaintext", fontcolor=f'"{style.MUTED}"')
        out.append(f"  {OUTPUT_ID} {output}")
        out += labels.get(None, [])
        out += self.layout.statements()
        out.append("  }")
        out += edges
        out.append("}")
        return "\n".join(out) + "\n"

    def _node_statement(self, name: str) -> str:
        if not self.graph.nodes[name].is_leaf:
            return self.gate_statement(name)
        copies = self.place.copied.get(name, 0)
        return "\n".join(self.leaf_statement(name, k) for k in range(1, copies + 1)) or self.leaf_statement(name)


def build_dot(
    trace: Trace, look: Look | None = None, moment: Moment | None = None, routes: Routes | None = None
) -> str:
    """The DOT text of a trace's diagram (routes may be passed in when drawing many frames of one trace)."""
    return Diagram(trace, routes or trace_routes(trace), look or Look(), moment).text()
