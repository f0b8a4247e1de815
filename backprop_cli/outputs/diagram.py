"""A Trace as a Graphviz DOT diagram: circuit style, left to right, each wire carrying its value
on top and its gradient under it, each gate its role.

Safety: user text enters the DOT only as the escaped text of a quoted label (dot_text.quoted),
under ids generated here (n0, n1, b0, cluster_0), never as an attribute, a URL or HTML.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..engines.trace import Trace
from ..numbers import number
from ..ops.shapes import fmt
from . import diagram_style as style
from .dot_text import attributes, cut, html_rows, padded, quoted, tensor_lines, wrapped
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
        self.place = Placement(trace.graph, routes, look.collapse)
        self.ids = self.place.ids
        self.beside = len(routes.wires) > style.LABELS_BESIDE

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

    def wire_statement(self, shown: Shown, tie: bool = False) -> str:
        """tie: draw a line from the label to its wire (dot's decorate), where several wires leave one box."""
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
        flow_known = all(self.flow_known(w) for w in shown.parts)
        for what in ("gradient", "tangent"):
            rows += self._flow_rows(wire, what, flow_known if what == self.routes.flow else value_known)

        flow_hidden = not flow_known or self.blank("gradients" if self.routes.flow == "gradient" else "values", wire)
        low, high = style.PEN_WIDTH
        colour, line, classes = style.WIRE, "solid", ["wire"]
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
        label = html_rows(rows)
        return f"  {shown.tail_id} -> {shown.head_id} " + attributes(
            label=None if self.beside else label,
            xlabel=label if self.beside else None,
            color=f'"{colour}"',
            style=line,
            penwidth=f"{width:.2f}",
            decorate="true" if tie and not self.beside else None,
            **{"class": f'"{" ".join(classes)}"'},
        )

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

    def leaf_statement(self, name: str) -> str:
        node = self.graph.nodes[name]
        lines = [name if node.kind == "input" else f"{name} (param)"]
        if node.shape:
            lines.append(fmt(node.shape))
        fork = self.fork_line(name)
        if fork:
            lines.append(fork)
        border, width = style.MUTED, 1.0
        verdict = (self.look.verdicts or {}).get(name)
        if verdict is not None:
            lines.append(f"gradcheck: {verdict}")
            border, width = style.VERDICT.get(str(verdict).split(" ")[0].lower(), style.MUTED), 2.0
        return self._box(self.ids[name], lines, f"leaf {node.kind}", style.LEAF_FILL, border, width)

    def gate_lines(self, name: str) -> list[str]:
        node = self.graph.nodes[name]
        role = node.operation.gate_kind.role
        note = self.routes.notes.get(name, "")
        hidden = bool(self.look.blank)  # a worksheet: the notes would give the answers away
        if self.moment is not None and self.moment.forward and not self.moment.sizing:
            hidden = hidden or name not in self.moment.done  # forward frames: not computed yet
        lines = [
            f"{name} = {cut(node.expr, style.EXPRESSION_CHARS)}",
            f"{role}: {note}" if note and not hidden else role,
        ]
        if node.shape:
            lines.append(fmt(node.shape))
        fork = self.fork_line(name)
        if fork:
            lines.append(fork)
        return lines

    def gate_statement(self, name: str) -> str:
        role = self.graph.nodes[name].operation.gate_kind.role
        current = self.is_current([name])
        return self._box(self.ids[name], self.gate_lines(name), f"gate {role}", style.GATE_FILL, current=current)

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
        lines: list[str],
        classes: str,
        fill: str,
        border: str = style.WIRE,
        width: float = 1.0,
        shape: str = "box",
        current: bool = False,
    ) -> str:
        """One box's statement; in frames every box keeps the size measured on the fullest drawing."""
        if current:  # the gate of this --steps frame: said in words, and in colour
            lines = ["▶ this step", *lines]
            fill, border, width, classes = style.CURRENT_FILL, style.CURRENT, 2.5, f"{classes} current"
        sizes = self.moment.sizes if self.moment is not None and self.moment.sizes else {}
        fixed = {}
        if box_id in sizes:
            fixed = {"width": f"{sizes[box_id][0]:.3f}", "height": f"{sizes[box_id][1]:.3f}", "fixedsize": "true"}
        return f"  {box_id} " + attributes(
            label=quoted(lines),
            shape=shape,
            style='"rounded,filled"' if shape == "box" else "filled",
            fillcolor=f'"{fill}"',
            color=f'"{border}"',
            penwidth=width,
            **{"class": f'"{classes}"'},
            **fixed,
        )

    # ---------------------------------------------------------------- the whole graph
    def title_lines(self) -> list[str]:
        g, trace = self.graph, self.trace
        lines = wrapped(f"{g.name}: {g.about}" if g.about and g.name else g.about or g.name or "backprop")
        if trace.mode == "forward":
            lines.append(f"forward mode along {trace.wrt}: ṫ = the wire's tangent, d(wire)/d{trace.wrt}")
        else:
            lines.append(f"reverse mode: ∂ = d{g.output}/d(wire), the gradient sent back along the wire")
            if trace.mode == "both":
                lines.append(f"forward mode: ṫ = d(wire)/d{trace.wrt}")
        if self.look.blank:
            lines.append(f"worksheet: fill in each {style.BLANK}")
        if self.look.note:
            lines.append(self.look.note)
        return lines

    def legend_lines(self) -> list[str]:
        """Under the diagram: a frame's caption (a fixed number of lines: the boxes above keep their
        places, as a root label never moves them), then the key to the styles."""
        lines: list[str] = []
        if self.moment is not None and not self.moment.sizing:
            caption = wrapped(self.moment.caption)
            lines += caption + [" "] * (self.moment.caption_lines - len(caption))
        if not self.look.legend:
            return lines
        mark = "∂" if self.routes.flow == "gradient" else "ṫ"
        under = {"reverse": "∂ under it (vermillion)", "forward": "ṫ under it (green)"}.get(
            self.trace.mode, "∂ under it (vermillion), then ṫ (green)"
        )
        back = ", gradients flow back against them" if mark == "∂" else ""
        return lines + [
            f"each wire: value on top (blue), {under} · arrows point forward{back}",
            f"dashed grey: exactly 0, with the reason · dotted: vanishing, 0 < |{mark}| < {style.VANISHING:g}"
            f" · thicker: larger |{mark}|",
        ]

    def text(self) -> str:
        """The title sits on an outer borderless cluster (top), the legend on the graph (bottom, smaller)."""
        big = self.beside
        font = f'"{style.FONT}"'
        legend = self.legend_lines()
        out = [
            "digraph backprop {",
            "  graph "
            + attributes(
                rankdir="LR",
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
                label=quoted(self.title_lines(), justify="l"),
            ),
        ]
        clustered = self.place.clusters()
        in_cluster = {name for names in clustered.values() for name in names}
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
            out.append("  }")
        for name in self.graph.nodes:
            if name not in in_cluster and self.place.collapse_key(name) is None:
                out.append(self._node_statement(name))
        out += [self.box_statement(key) for key in self.place.boxes]
        output = attributes(label=quoted(["output"]), shape="plaintext", fontcolor=f'"{style.MUTED}"')
        out.append(f"  {OUTPUT_ID} {output}")
        out.append("  }")
        shown = self.place.shown_wires()
        leaving = Counter(wire.tail_id for wire in shown)
        out += [self.wire_statement(wire, tie=leaving[wire.tail_id] > 1) for wire in shown]
        out.append("}")
        return "\n".join(out) + "\n"

    def _node_statement(self, name: str) -> str:
        return self.leaf_statement(name) if self.graph.nodes[name].is_leaf else self.gate_statement(name)


def build_dot(
    trace: Trace, look: Look | None = None, moment: Moment | None = None, routes: Routes | None = None
) -> str:
    """The DOT text of a trace's diagram (routes may be passed in when drawing many frames of one trace)."""
    return Diagram(trace, routes or trace_routes(trace), look or Look(), moment).text()
