"""The words around a diagram: its title (wrapped outside formulas) and, under it, a frame's
caption and the key to the styles."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..engines.trace import Trace
from ..graph import Graph
from . import diagram_style as style
from .dot_text import cut, wrapped
from .routes import Routes

if TYPE_CHECKING:
    from .diagram import Look, Moment


def title_lines(trace: Trace, look: Look) -> list[str]:
    g = trace.graph
    lines = wrapped(f"{g.name}: {g.about}" if g.about and g.name else g.about or g.name or "backprop")
    if trace.mode == "forward":
        lines.append(f"forward mode along {trace.wrt}: ṫ = the wire's tangent, d(wire)/d{trace.wrt}")
    else:
        lines.append(f"reverse mode: ∂ = d{g.output}/d(wire), the gradient sent back along the wire")
        if trace.mode == "both":
            lines.append(f"forward mode: ṫ = d(wire)/d{trace.wrt}")
    if look.blank:
        lines.append(f"worksheet: fill in each {style.BLANK}")
    if look.note:
        lines.append(look.note)
    return lines


def legend_lines(trace: Trace, routes: Routes, look: Look, moment: Moment | None) -> list[str]:
    """Under the diagram: a frame's caption (a fixed number of lines: the boxes above keep their
    places, as a root label never moves them), then the key to the styles."""
    lines: list[str] = []
    if moment is not None and not moment.sizing:
        caption = wrapped(moment.caption)
        lines += caption + [" "] * (moment.caption_lines - len(caption))
    if not look.legend:
        return lines
    mark = "∂" if routes.flow == "gradient" else "ṫ"
    under = {"reverse": "∂ under it (vermillion)", "forward": "ṫ under it (green)"}.get(
        trace.mode, "∂ under it (vermillion), then ṫ (green)"
    )
    back = ", gradients flow back against them" if mark == "∂" else ""
    return lines + [
        f"each wire: value on top (blue), {under} · arrows point forward{back}",
        f"dashed grey: exactly 0, with the reason · dotted: vanishing, 0 < |{mark}| < {style.VANISHING:g}"
        f" · thicker: larger |{mark}|",
    ]


class Names:
    """Generated gate names (f.mul1) in a gate's note, written as what those gates compute: (x ** 2)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.pattern: re.Pattern | None = None
        self.made = False

    def unnamed(self, text: str) -> str:
        if not self.made:  # the pattern only when a note has a dot in it
            if "." not in text:
                return text
            names = sorted((n.name for n in self.graph.gates if n.generated), key=len, reverse=True)
            self.pattern = re.compile("|".join(re.escape(n) for n in names) + r"(?![\w.])") if names else None
            self.made = True
        if self.pattern is None:
            return text

        def spelled(name: str, depth: int = 0) -> str:  # nested: sum(l2.pow1) is sum(W ** 2)
            expr = self.graph.nodes[name].expr
            if depth < 4:
                expr = self.pattern.sub(lambda m: spelled(m.group(0), depth + 1), expr)
            return f"({cut(expr, 20)})" if depth == 0 else expr

        return self.pattern.sub(lambda m: spelled(m.group(0)), text)
