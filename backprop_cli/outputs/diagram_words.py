"""The words around a diagram: its title (wrapped outside formulas) and, under it, a frame's
caption and the key to what the diagram uses: the wire styles, forks, and the gates' roles."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..engines.trace import Trace
from ..graph import Graph
from . import diagram_style as style
from .dot_text import cut, html_text, wrapped

if TYPE_CHECKING:
    from .diagram import Diagram, Look


def title_lines(trace: Trace, look: Look) -> list[str]:
    """The graph's name and `about` (not with --no-title), then a worksheet's or an answer key's line."""
    g = trace.graph
    lines = []
    if look.title:  # a drawing left to right is wide: its title may be too
        width = style.TITLE_CHARS * (3 if look.rankdir == "LR" else 2) // 2
        lines = wrapped(f"{g.name}: {g.about}" if g.about and g.name else g.about or g.name or "backprop", width)
    if look.blank:
        lines.append(f"worksheet: fill in each {style.BLANK}")
    if look.note:
        lines.append(look.note)
    return lines


def wire_key(trace: Trace) -> str:
    """What the numbers on a wire are."""
    out = trace.graph.output
    if trace.mode == "forward":
        return f"each wire: value above, ṫ = d(wire)/d{trace.wrt} below"
    key = f"each wire: value above, ∂ = d{out}/d(wire) below"
    return key + (f", then ṫ = d(wire)/d{trace.wrt}" if trace.mode == "both" else "")


def legend_label(diagram: Diagram) -> str | None:
    """Under the diagram: a frame's caption (a fixed number of lines: the boxes above keep their places, as a
    root label never moves them), then the key to what this diagram uses, and nothing it does not use: the
    wire styles drawn, a fork's sum, and a swatch per role of the gates drawn (and for params)."""
    trace, look, moment, colours = diagram.trace, diagram.look, diagram.moment, diagram.colours
    lines: list[tuple[str, str]] = []
    if moment is not None and not moment.sizing:
        caption = wrapped(moment.caption, style.CAPTION_CHARS)
        lines += [(line, colours.text) for line in caption + ["\u00a0"] * (moment.caption_lines - len(caption))]
    swatches: list[tuple[str, str, str]] = []
    if look.legend:
        mark = "∂" if diagram.routes.flow == "gradient" else "ṫ"
        key = wire_key(trace)
        if look.network:
            key = f"each unit and leaf: its value, then ∂ = d{trace.graph.output}/d(it) · each weight: its value above its wire, ∂ below"
        lines += [(line, colours.muted) for line in _joined(key.split(" · "))]
        used = diagram.styles_used
        styles = []
        if "zero" in used:
            styles.append("dashed grey: exactly 0, with the reason")
        if "vanishing" in used:
            styles.append(f"dotted: vanishing, 0 < |{mark}| < {style.VANISHING:g}")
        if len([u for u in used if u.startswith("width")]) > 1:
            styles.append(f"thicker: larger |{mark}|")
        if "fork" in used:
            styles.append(f"Σ{mark}: a fork adds up what its wires bring back")
        for line in _joined(styles):
            lines.append((line, colours.muted))
        swatches = role_swatches(diagram)
    if not lines and not swatches:
        return None
    rows = "".join(
        f'<TR><TD ALIGN="LEFT"><FONT COLOR="{colour}">{html_text(text)}</FONT></TD></TR>' for text, colour in lines
    )
    for chunk in _rows_of(swatches, style.LEGEND_CHARS * (3 if look.rankdir == "LR" else 2) // 2):
        cells = "".join(
            f'<TD BGCOLOR="{fill}" BORDER="1" COLOR="{colours.wire}">{html_text(mark)}</TD>'
            f'<TD ALIGN="LEFT"><FONT COLOR="{colours.muted}">{html_text(words)}</FONT></TD>'
            for mark, fill, words in chunk
        )
        width = sum(_width(mark) + _width(words) + 8 for mark, _, words in chunk)  # fixed: never stretched
        rows += (
            f'<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLSPACING="2" CELLPADDING="2" FIXEDSIZE="TRUE" '
            f'WIDTH="{width}" HEIGHT="{style.FONT_SIZE * 2}" ALIGN="LEFT"><TR>{cells}</TR></TABLE></TD></TR>'
        )
    return f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{rows}</TABLE>>'


def role_swatches(diagram: Diagram) -> list[tuple[str, str, str]]:
    """(symbol, fill, words) for each role among the gates drawn, in the order they first appear; params last."""
    seen: dict[str, tuple[str, str, str]] = {}
    for mark, role, words in diagram.roles_drawn():
        fill = style.gate_fill(diagram.colours, role if role != "Σ" else SUM_FILL_ROLE)
        seen.setdefault(role, (mark, fill, words))
    out = list(seen.values())
    if diagram.routes.flow != "gradient":  # the roles say what a gate does to the gradient: here, only their names
        out = [(mark, fill, words.split(":")[0]) for mark, fill, words in out]
    if any(diagram.graph.nodes[p].kind == "param" and diagram.drawn(p) for p in diagram.graph.params):
        first = next(p for p in diagram.graph.params if diagram.drawn(p))
        out.append((first, diagram.colours.param_fill, "param: what training changes"))
    return out


def _joined(phrases: list[str], width: int = style.LEGEND_CHARS) -> list[str]:
    """Phrases joined by " · " into lines of at most `width` characters."""
    lines: list[str] = []
    for phrase in phrases:
        if lines and len(lines[-1]) + 3 + len(phrase) <= width:
            lines[-1] += " · " + phrase
        else:
            lines.append(phrase)
    return lines


def _width(text: str) -> int:
    """A cell's width in points: its text at FONT_SIZE (at most about 0.62 em a character) and its padding."""
    return round(len(text) * 0.62 * style.FONT_SIZE) + 6


SUM_FILL_ROLE = "distributor"  # a weighted sum is filled as an adder


def _rows_of(swatches: list[tuple[str, str, str]], width: int = style.LEGEND_CHARS) -> list[list]:
    """Swatches in rows of at most `width` characters, so the legend is never what makes a drawing wide."""
    rows: list[list] = []
    length = 0
    for item in swatches:
        size = len(item[0]) + len(item[2]) + 6
        if rows and length + size <= width:
            rows[-1].append(item)
            length += size
        else:
            rows.append([item])
            length = size
    return rows


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
