"""The network view, as NPFL114 draws its ReLU network: one unit per node of the file (i1 = w1·x1 + w2·x2
is one Σ unit, not two × gates and a +), its value and its gradient written in it, and each weight on the
wire it multiplies (w1 on x1 → i1: its value above, its gradient under it). A param is drawn on a wire when
it is read once, times one operand (w·x, x @ W); a bias or a param read twice stays a box of its own.

It draws reverse mode; the page and --steps step through it as through the circuit (a unit is a box made
of its gates, as --collapse makes them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..engines.trace import Trace
from ..graph import Const, Graph
from ..ops import GateKind
from . import diagram_style as style
from .diagram import Diagram, Look, Moment
from .diagram_gates import CURRENT_MARK, file_expression
from .diagram_layout import symbol
from .dot_text import attributes, cut, html_rows, padded, quoted
from .groups import OUTPUT_ID, Shown
from .routes import Routes, Wire, merge_wires

PRODUCTS = ("mul", "matmul")
SUMS = ("add", "sub", "mul", "matmul")  # a unit ending in one of these, with weights on its wires, is a Σ
SUM_ROLE = GateKind.DISTRIBUTOR.role  # a weighted sum's fill: it hands ∂ on, times each weight
UNIT_TEXT = 14  # characters of a unit's formula before it is shown by its op's symbol only


@dataclass(frozen=True)
class Weight:
    param: str
    operand: str  # what it multiplies
    unit: str  # the node of the file it is part of


def weights(graph: Graph) -> dict[str, Weight]:
    """The params drawn on a wire: read once, by a product (w·x, x @ W) whose other operand comes from
    outside the node of the file (a leaf, or another node)."""
    consumers = graph.consumers()
    found = {}
    for gate in graph.gates:
        if gate.op not in PRODUCTS or len(gate.inputs) != 2 or any(isinstance(x, Const) for x in gate.inputs):
            continue
        for param, other in (gate.inputs, gate.inputs[::-1]):
            node = graph.nodes[param]
            outside = graph.nodes[other].is_leaf or graph.nodes[other].origin != gate.origin
            if node.kind == "param" and consumers[param] == [gate.name] and outside and param != other:
                found[param] = Weight(param, graph.nodes[other].origin or other, gate.origin)
                break
    return found


def layered(graph: Graph) -> bool:
    """A network, as the lectures draw one: two or more nodes of the file that are weighted sums of two or
    more terms (NPFL114's i1, i2, i3 and o). Only then is the network view the first choice."""
    terms: dict[str, int] = {}
    for weight in weights(graph).values():
        terms[weight.unit] = terms.get(weight.unit, 0) + 1
    return sum(n >= 2 for n in terms.values()) >= 2


def units(graph: Graph) -> frozenset[str]:
    """The nodes of the file made of several gates: each is drawn as one unit."""
    counts: dict[str, int] = {}
    for gate in graph.gates:
        counts[gate.origin] = counts.get(gate.origin, 0) + 1
    return frozenset(name for name, n in counts.items() if n > 1)


class Network(Diagram):
    """The DOT text of the network view (Diagram's header, legend and wire styles; its own boxes)."""

    def __init__(self, trace: Trace, routes: Routes, look: Look, moment: Moment | None = None) -> None:
        super().__init__(trace, routes, replace(look, collapse=look.collapse | units(trace.graph)), moment)
        self.weights = weights(self.graph)
        self.on_wire: dict[tuple[str, str], list[Weight]] = {}
        for weight in self.weights.values():
            key = (self.place.shown_id(weight.operand), self.place.shown_id(weight.unit))
            self.on_wire.setdefault(key, []).append(weight)

    # ---------------------------------------------------------------- what a unit holds
    def gradient_of(self, name: str) -> np.ndarray | None:
        return None if self.trace.gradients is None else self.trace.gradients[name]

    def gradient_known(self, name: str) -> bool:
        """In a --steps frame: once every gate that reads it has sent its gradient back."""
        m = self.moment
        if m is None or m.sizing or name == self.graph.output:
            return True
        return all(w.head is None or w.head in m.done for w in self.routes.out.get(name, []))

    def zero_reason(self, name: str) -> str | None:
        """Why a node's whole gradient is 0: what zeroed every wire it feeds, or they cancel."""
        if np.any(self.gradient_of(name)):
            return None
        leaving = self.routes.out.get(name, [])
        if leaving and all(w.zero for w in leaving):
            return " / ".join(sorted({w.zero for w in leaving}))
        return "cancels" if leaving else "does not reach the output"

    def weighted_sum(self, name: str) -> bool:
        """Σ w·x (+ b): a unit with weights on its wires whose last gate sums (NPFL114's i1 and o)."""
        return self.graph.nodes[name].op in SUMS and any(w.unit == name for w in self.weights.values())

    def roles_drawn(self) -> list[tuple[str, str, str]]:
        out = []
        for node in self.graph.gates:
            if node.generated:
                continue
            if self.weighted_sum(node.name):
                out.append(("Σ", "Σ", "weighted sum: ∂ × weight to each input, ∂ × input to each weight"))
            else:
                kind = node.operation.gate_kind
                mark = symbol(node)
                out.append((node.op if mark == "Σ" else mark, kind.role, f"{kind.role}: {kind.legend}"))
        return out

    def drawn(self, name: str) -> bool:
        return name not in self.weights

    def unit_rows(self, name: str, head: list[tuple[str, str, int]]) -> tuple[list[tuple[str, str, int]], int]:
        """A unit's or a leaf's rows: its head (name, symbol), its value, its gradient; and how many rows
        the head and the value take (the page dims the rest until the gradient is known)."""
        colours, node = self.colours, self.graph.nodes[name]
        rows = list(head)
        size = style.FONT_SIZE
        leaving = self.routes.out.get(name, [])
        differentiable = not leaving or any(w.differentiable for w in leaving)
        if "values" in self.look.blank and not node.is_leaf:
            rows.append((style.BLANK, colours.value, size))
        else:
            rows += [(line, colours.value, size) for line in self.numbers(self.trace.values[name], differentiable)]
        known = len(rows)
        gradient = self.gradient_of(name)
        if not differentiable:
            rows.append(("∂ none: not differentiable", colours.zero, size))
        elif gradient is not None:
            if "gradients" in self.look.blank and name != self.graph.output:
                rows.append((f"∂ {style.BLANK}", colours.gradient, size))
            else:
                lines = self.numbers(gradient)
                reason = self.zero_reason(name)
                colour = colours.zero if reason else colours.gradient
                lines = [f"∂ {lines[0]}"] + lines[1:]
                if reason:
                    lines[-1] += f" · {reason}"
                if not self.gradient_known(name):
                    rows += [
                        (padded(line, "∂ ?" if i == 0 else ""), colours.muted, size) for i, line in enumerate(lines)
                    ]
                else:
                    rows += [(line, colour, size) for line in lines]
        return rows, known

    def unit_statement(self, name: str) -> str:
        """A unit: its name over its symbol (Σ for a weighted sum), then its value and gradient."""
        node = self.graph.nodes[name]
        box_id = self.place.shown_id(name)
        key = self.place.collapse_key(name)
        gates = self.place.members.get(key, [name]) if key else [name]
        formula = file_expression(self.graph, name)
        weighted = self.weighted_sum(name)
        mark = "Σ" if weighted else (formula if len(formula) <= UNIT_TEXT and len(gates) > 1 else symbol(node))
        if mark == "Σ" and not weighted:
            mark = node.op or mark  # Σ is the weighted sums' mark here: a plain sum is "sum"
        head = [(name, self.colours.text, style.FONT_SIZE), (mark, self.colours.muted, style.FONT_SIZE)]
        rows, known = self.unit_rows(name, head)
        role = SUM_ROLE if weighted else node.operation.gate_kind.role
        current, first = self.is_current(gates), len(head)
        if current:
            rows.insert(0, (CURRENT_MARK, self.colours.current, style.FONT_SIZE))
            known, first = known + 1, first + 1
        tooltip = quoted([f"{name} = {formula}", f"{len(gates)} gate{'s' * (len(gates) > 1)}"])
        classes = f"unit {role}" + "".join(f" f{i}" for i in range(first, known))  # the page: its value, after its step
        return self._unit_box(box_id, rows, known, classes, style.gate_fill(self.colours, role), name, tooltip)

    def leaf_unit(self, name: str) -> str:
        node, colours = self.graph.nodes[name], self.colours
        rows, known = self.unit_rows(name, [(name, colours.text, style.FONT_SIZE)])
        fill = colours.param_fill if node.kind == "param" else colours.leaf_fill
        verdict = (self.look.verdicts or {}).get(name)
        border = None
        if verdict is not None:  # render --check: gradcheck's verdict, and the border in its colour
            rows.append((f"gradcheck: {verdict}", colours.muted, style.FONT_SIZE))
            kind = style.VERDICT.get(str(verdict).split(" ")[0].lower())
            border = getattr(colours, kind) if kind else colours.muted
        return self._unit_box(self.ids[name], rows, known, f"leaf {node.kind}", fill, name, None, border)

    def _unit_box(self, box_id, rows, known, classes, fill, name, tooltip, border=None) -> str:
        """The rows from `known` on are the gradient: the page shows them once every reader has run."""
        shape = "circle" if len(rows) <= 4 and all(len(text) <= 6 for text, _, _ in rows) else "box"
        backward = [i for i in range(known, len(rows)) if not rows[i][0].startswith("gradcheck")]
        return self._box(
            box_id, rows, f"{classes}{self.readers(name)}", fill, border, 2.0 if border else 1.0, shape=shape,
            tooltip=tooltip, backward=backward,
        )  # fmt: skip

    # ---------------------------------------------------------------- wires: the weights on them
    def weight_statements(self, shown: Shown, index: int) -> tuple[str | None, list[str]]:
        colours = self.colours
        wire = merge_wires(shown.parts, "gradient")
        on = self.on_wire.get((shown.tail_id, shown.head_id), [])
        told = "gradients" not in self.look.blank and all(self.flow_known(w) for w in shown.parts)  # else: plain
        zero = told and wire.gradient is not None and not np.any(wire.gradient)
        look = {
            "color": f'"{colours.zero if zero else colours.wire}"',
            "style": "dashed" if zero else "solid",
            "penwidth": f"{self.pen(wire) if told else style.PEN_WIDTH[0] + 0.3:.2f}",
            "class": f'"wire to-{shown.head_id} from-{shown.tail_id}{" zero" if zero else ""}"',
        }
        if zero:
            self.styles_used.add("zero")
        if not on:
            return None, [f"  {shown.tail_id} -> {shown.head_id} " + attributes(**look)]
        rows: list[tuple[str, str]] = []
        for weight in on:
            value = ", ".join(self.numbers(self.trace.values[weight.param]))
            rows.append((f"{weight.param} = {value}", colours.value))
        for weight in on:
            gradient = self.gradient_of(weight.param)
            if gradient is None:
                continue
            text = f"∂ {style.BLANK}" if "gradients" in self.look.blank else f"∂ {', '.join(self.numbers(gradient))}"
            readers = self.routes.out.get(weight.param, [])
            known = self.moment is None or self.moment.sizing or all(w.head in self.moment.done for w in readers)
            if not known:  # a frame before the gate that reads it ran: a "?", in no colour that would tell
                rows.append((padded(text, "∂ ?"), colours.muted))
            elif "gradients" in self.look.blank or np.any(gradient):
                rows.append((text, colours.gradient))
            else:
                rows.append((text, colours.zero))
        label_id = f"l{index}"
        params = " ".join(f"from-{self.ids[w.param]}" for w in on[:1])
        params += "".join(f" by-{r.head}" for w in on for r in self.routes.out.get(w.param, []))  # its gate
        sizes = self.moment.sizes if self.moment is not None and self.moment.sizes else {}
        size = {"width": 0, "height": 0}
        if label_id in sizes:  # frames: the size measured on the fullest drawing
            size = {"width": f"{sizes[label_id][0]:.3f}", "height": f"{sizes[label_id][1]:.3f}", "fixedsize": "true"}
        node = attributes(
            label=html_rows(rows, rule_after=len(on) - 1, rule=colours.wire),
            shape="plaintext",
            margin=0,
            **size,
            **{"class": f'"wire to-{shown.head_id} {params} v{len(on)}"'},
        )
        return f"  {label_id} {node}", [
            f"  {shown.tail_id} -> {label_id} " + attributes(dir="none", **look),
            f"  {label_id} -> {shown.head_id} " + attributes(**look),
        ]

    def pen(self, wire: Wire) -> float:
        low, high = style.PEN_WIDTH
        size, largest = (
            (float(np.max(np.abs(wire.gradient))) if wire.gradient is not None else 0.0),
            self.routes.largest,
        )
        if size <= 0 or largest <= 0:
            return low
        self.styles_used.add(f"width {size:.3g}")
        return low + (high - low) * min(1.0, max(0.0, 1 + np.log10(size / largest) / style.PEN_DECADES))

    # ---------------------------------------------------------------- the whole drawing
    def text(self) -> str:
        body, edges = [], []
        shown = [s for s in self.place.shown_wires() if self.graph.nodes[s.parts[0].tail].name not in self.weights]
        for i, wire in enumerate(shown):
            node, lines = self.weight_statements(wire, i)
            edges += lines
            if node is not None:
                body.append(node)
        for name, node in self.graph.nodes.items():
            if node.is_leaf and name not in self.weights:
                body.append(self.leaf_unit(name))
            elif not node.is_leaf and (not node.generated):
                body.append(self.unit_statement(name))
        output = attributes(label=quoted(["output"]), shape="plaintext", fontcolor=f'"{self.colours.muted}"')
        body.append(f"  {OUTPUT_ID} {output}")
        inputs = sorted(
            self.ids[x.name] for x in self.graph.leaves if x.kind == "input" and self.routes.out.get(x.name)
        )
        if inputs:
            body.append("  { rank=min; " + " ".join(inputs) + " }")
        body += self.layers()
        title = title_for(self)
        return "\n".join([*self.header(title), *body, "  }", *edges, "}"]) + "\n"

    def layers(self) -> list[str]:
        """The units of one layer (alike in depth and symbol, like h1, h2, h3) side by side."""
        depth: dict[str, int] = {}
        for gate in self.graph.gates:
            reads = [x for x in gate.inputs if isinstance(x, str) and x not in self.weights]
            depth[gate.name] = max(
                (depth.get(x, 0) + (self.graph.nodes[x].origin != gate.origin) for x in reads), default=0
            )
        alike: dict[tuple, list[str]] = {}
        for gate in self.graph.gates:
            if not gate.generated:
                alike.setdefault((depth[gate.name], symbol(gate)), []).append(self.place.shown_id(gate.name))
        return ["  { rank=same; " + " ".join(ids) + " }" for ids in alike.values() if len(ids) > 1]


def title_for(network: Network) -> list[str]:
    from .diagram_words import title_lines

    return title_lines(network.trace, network.look)


def network_dot(trace: Trace, look: Look, routes: Routes, moment: Moment | None = None) -> str:
    return Network(trace, routes, look, moment).text()


def drawing_of(trace: Trace, routes: Routes, look: Look) -> Diagram:
    """The drawing object of a look (its placement says which box each node is drawn in)."""
    return Network(trace, routes, look) if look.network else Diagram(trace, routes, look, None)


__all__ = ["Network", "cut", "drawing_of", "layered", "network_dot", "units", "weights"]
