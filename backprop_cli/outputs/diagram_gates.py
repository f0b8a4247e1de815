"""A diagram's boxes: each gate a small mark with its op's symbol (a circle, or a rounded box when its
text is long), filled by its role; each leaf a rounded box (params shaded); a collapsed group one box.

The mark's text: the symbol, the node's name (not a generated gate's: f.mul1 says nothing; it is in the
tooltip with its expression), a word or two where the wires' numbers do not already say what the gate does
(×-1, dead, ×0.01 at 50%, saturated), a tensor's shape, and a fork's sum.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np

from ..numbers import rounded
from ..ops.shapes import fmt
from . import diagram_style as style
from .diagram_layout import symbol
from .dot_text import attributes, cut, html_lines, quoted, small_tensor

if TYPE_CHECKING:
    from .diagram import Diagram

CURRENT_MARK = "▶ step"


def file_expression(graph, name: str) -> str:
    """A file node's expression as written in the file (relu(x @ w1 + b1)), else its last gate's."""
    written = graph.definitions.get(name)
    if isinstance(written, dict):
        written = written.get("expr")
    return (
        str(written) if isinstance(written, str | int | float) else graph.nodes[name].expr or name
    )  # the gate of a --steps frame: said in words, and in colour


class Boxes:
    """The box statements of a Diagram (mixed into it: self is the Diagram)."""

    def number(self: Diagram, x: float) -> str:
        return rounded(x, self.look.digits)

    def fork_line(self: Diagram, name: str) -> str | None:
        leaving = self.routes.out.get(name, [])
        if len(leaving) < 2 or self.routes.flow != "gradient":
            return None
        if any(w.gradient is None for w in leaving):
            return None
        self.styles_used.add("fork")
        if "gradients" in self.look.blank:
            return "Σ∂ = " + " + ".join(style.BLANK for _ in leaving) + f" = {style.BLANK}"
        known = [self.flow_known(w) for w in leaving]
        if np.ndim(leaving[0].gradient) != 0:
            return f"Σ∂ of {len(leaving)}" + ("" if all(known) else f", {sum(known)} in")
        total = self.number(sum(float(w.gradient) for w in leaving)) if all(known) else "?"
        if len(leaving) > style.FORK_TERMS:
            return f"Σ∂ of {len(leaving)} = {total}"
        parts = [self.number(w.gradient) if k else "?" for w, k in zip(leaving, known, strict=True)]
        return "Σ∂ = " + " + ".join(p if not p.startswith("-") else f"({p})" for p in parts) + f" = {total}"

    def leaf_statement(self: Diagram, name: str, copy: int = 0) -> str:
        """A leaf's box; on a big graph, copy k of a leaf read all along it (the fork's sum on the first)."""
        node, colours = self.graph.nodes[name], self.colours
        lines = [name]
        if node.shape:
            lines.append(fmt(node.shape))
        fork = self.fork_line(name) if copy <= 1 else f"copy {copy} of {self.place.copied[name]}"
        backward = []
        if fork:
            backward = [len(lines)] if copy <= 1 else []
            lines.append(fork)
        if not self.routes.out.get(name):
            lines.append("unused: no gate reads it")
        border, width = colours.wire, 1.0
        verdict = (self.look.verdicts or {}).get(name)
        if verdict is not None:
            lines.append(f"gradcheck: {verdict}")
            kind = style.VERDICT.get(str(verdict).split(" ")[0].lower())
            border, width = (getattr(colours, kind) if kind else colours.muted), 2.0
        box = f"{self.ids[name]}x{copy}" if copy else self.ids[name]
        fill = colours.param_fill if node.kind == "param" else colours.leaf_fill
        rows = [(line, colours.text if i == 0 else colours.muted, style.FONT_SIZE) for i, line in enumerate(lines)]
        readers = self.readers(name) if copy <= 1 else ""  # a copy of a leaf read all along: one wire each
        return self._box(box, rows, f"leaf {node.kind}{readers}", fill, border, width, backward=backward)

    def readers(self: Diagram, name: str) -> str:
        """Classes naming the boxes (to-n3) and the gates (by-o.mul1) that read a node: the page knows its
        gradient once they ran."""
        if name not in self.reader_classes:
            leaving = self.routes.out.get(name, [])
            boxes = sorted({self.place.shown_id(w.head) for w in leaving})
            gates = sorted({w.head for w in leaving if w.head is not None})  # inside a unit too: by-o.mul1
            self.reader_classes[name] = "".join(f" to-{b}" for b in boxes) + "".join(f" by-{g}" for g in gates)
        return self.reader_classes[name]

    def gate_rows(self: Diagram, name: str) -> tuple[list[tuple[str, str, int]], list[int]]:
        """(text, colour, size) rows: the symbol, the name, a short note, the shape, a fork's sum; and which
        of them say something about the backward pass (the note, the sum: a page hides them until then)."""
        node, colours = self.graph.nodes[name], self.colours
        mark = symbol(node)
        big = style.SYMBOL_FONT_SIZE if len(mark) <= 2 else style.WORD_SYMBOL_FONT_SIZE
        rows = [(mark, colours.text, big)]
        if not node.generated:
            rows.append((name, colours.text, style.FONT_SIZE))
        hidden = bool(self.look.blank)  # a worksheet: a note would give the answers away
        if self.moment is not None and self.moment.forward and not self.moment.sizing:
            hidden = hidden or name not in self.moment.done  # forward frames: not computed yet
        note = "" if hidden else self.short_notes.get(name, "")
        backward = []
        if note:
            backward.append(len(rows))
            rows.append((self.words.unnamed(note), colours.muted, style.FONT_SIZE))
        if node.shape and not small_tensor(self.trace.values[name]):  # a small one's numbers are on its wire
            rows.append((fmt(node.shape), colours.muted, style.FONT_SIZE))
        fork = self.fork_line(name)
        if fork:
            backward.append(len(rows))
            rows.append((fork, colours.muted, style.FONT_SIZE))
        return rows, backward

    def gate_statement(self: Diagram, name: str) -> str:
        node = self.graph.nodes[name]
        rows, backward = self.gate_rows(name)
        round_mark = len(rows[0][0]) <= style.CIRCLE_SYMBOL and len(rows) <= 3
        round_mark = round_mark and all(len(text) <= style.CIRCLE_LINE for text, _, _ in rows[1:])
        current = self.is_current([name])
        if current or (self.moment is not None and self.moment.sizing):
            rows.insert(0, (CURRENT_MARK, self.colours.current if current else self.colours.muted, style.FONT_SIZE))
            backward = [i + 1 for i in backward]
        role = node.operation.gate_kind.role
        note = self.long_notes.get(name, "")
        hidden = bool(self.look.blank) or (self.moment is not None and self.moment.forward)
        tooltip = [f"{name} = {node.expr}" if node.expr else name, f"{role}: {note}" if note and not hidden else role]
        return self._box(
            self.ids[name],
            rows,
            f"gate {role}{self.readers(name)}",
            style.gate_fill(self.colours, role),
            current=current,
            tooltip=quoted([tooltip[0], self.words.unnamed(tooltip[1])]),
            shape="circle" if round_mark else "box",
            backward=backward,
        )

    def box_statement(self: Diagram, key: str) -> str:
        """A collapsed node of the file says what it computes (h = relu(x @ w1 + b1)); a group, its gates' ops."""
        gates, box = self.place.members[key], self.place.boxes[key]
        node = self.graph.nodes.get(key)
        if node is not None and not node.is_leaf and all(self.graph.nodes[g].origin == key for g in gates):
            expr = self.words.unnamed(node.expr) if node.generated else self.graph_text(key)
            formula = textwrap.wrap(f"{key} = {expr}", style.BOX_CHARS)
            lines = [*formula[:2], *([cut(formula[2], style.BOX_CHARS)] if len(formula) > 2 else [])]
            lines.append(f"{len(gates)} gates (collapsed)")
        else:
            ops = sorted({self.graph.nodes[g].op for g in gates})
            lines = [
                f"{key} (collapsed)",
                f"{len(gates)} gate{'s' if len(gates) > 1 else ''}: {cut(', '.join(ops), 40)}",
            ]
            leaving = sorted(
                {w.tail for w in self.routes.wires if w.tail in gates and self.place.shown_id(w.head) != box}
            )
            if leaving:
                lines.append(cut("gives " + ", ".join(leaving), style.EXPRESSION_CHARS))
        colours = self.colours
        rows = [(line, colours.text if i == 0 else colours.muted, style.FONT_SIZE) for i, line in enumerate(lines)]
        if self.is_current(gates):
            rows.insert(0, (CURRENT_MARK, colours.current, style.FONT_SIZE))
        tooltip = quoted([f"{key} = {self.graph_text(key)}" if node is not None and not node.is_leaf else key])
        return self._box(
            box,
            rows,
            "collapsed",
            colours.collapsed_fill,
            shape="box3d",
            current=self.is_current(gates),
            tooltip=tooltip,
        )

    def graph_text(self: Diagram, name: str) -> str:
        return file_expression(self.graph, name)

    def roles_drawn(self: Diagram) -> list[tuple[str, str, str]]:
        """(symbol, role, the legend's words) of each gate drawn, in order."""
        out = []
        for node in self.graph.gates:
            if self.place.collapse_key(node.name) is None:
                kind = node.operation.gate_kind
                out.append((symbol(node), kind.role, f"{kind.role}: {kind.legend}"))
        return out

    def drawn(self: Diagram, name: str) -> bool:
        return self.place.collapse_key(name) is None

    def is_current(self: Diagram, names: list[str]) -> bool:
        m = self.moment
        return m is not None and (m.sizing or m.current in names)

    def _box(
        self: Diagram,
        box_id: str,
        rows: list[tuple[str, str, int]],
        classes: str,
        fill: str,
        border: str | None = None,
        width: float = 1.0,
        shape: str = "box",
        current: bool = False,
        tooltip: str | None = None,
        backward: list[int] | None = None,
    ) -> str:
        """One box's statement; in frames every box keeps the size measured on the fullest drawing. backward:
        the rows (counted from 0) that tell about the backward pass, as classes b0, b1, ... for the page."""
        classes += "".join(f" b{i}" for i in backward or [])
        border = border or self.colours.wire
        if current:  # the gate of this --steps frame: in colour too
            fill, border, width, classes = self.colours.current_fill, self.colours.current, 2.5, f"{classes} current"
        sizes = self.moment.sizes if self.moment is not None and self.moment.sizes else {}
        fixed = {}
        if box_id in sizes:
            fixed = {"width": f"{sizes[box_id][0]:.3f}", "height": f"{sizes[box_id][1]:.3f}", "fixedsize": "true"}
        return f"  {box_id} " + attributes(
            id=box_id,
            label=html_lines(rows),
            shape=shape,
            style='"rounded,filled"' if shape == "box" else "filled",
            fillcolor=f'"{fill}"',
            color=f'"{border}"',
            penwidth=width,
            margin='"0.2,0.1"' if shape == "box3d" else ("0.02" if shape == "circle" else '"0.08,0.03"'),
            tooltip=tooltip,
            **{"class": f'"{classes}"'},
            **fixed,
        )
