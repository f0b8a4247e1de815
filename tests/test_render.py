"""Diagrams read back from the SVG dot draws: the lecture numbers on the right wires (as the lectures write
them: 0.20, -0.39), roles, zero and vanishing gradients, forks, tangents, tensors, groups, verdicts, and user
text that stays text."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import pytest

import backprop_cli
from backprop_cli.engines.trace import run_trace
from backprop_cli.outputs.diagram import Look, build_dot
from backprop_cli.outputs.dot_text import quoted
from backprop_cli.outputs.graphviz_program import run_dot
from backprop_cli.outputs.groups import collapse_names
from backprop_cli.outputs.routes import trace_routes

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"

GROUPED = """
name: grouped
inputs: {x1: 1.0, x2: -2.0, t: 1.0}
params: {a: 0.5, b: -1.0, w: 2.0}
nodes:
  z: {expr: "a * x1 + b * x2", group: layer1}
  h: {expr: "relu(z)", group: layer1}
  y: {expr: "w * h", group: layer2}
  L: {expr: "(y - t) ** 2", group: loss}
output: L
"""


@dataclass
class Drawing:
    """An SVG from dot, by what is drawn: boxes by node name (a gate's name is in its tooltip, a
    leaf's is its first line), wires by (tail, head) with the texts of the label they run through."""

    boxes: dict[str, list[str]] = field(default_factory=dict)  # name -> all lines
    classes: dict[str, str] = field(default_factory=dict)  # name -> class attribute
    tips: dict[str, str] = field(default_factory=dict)  # name -> tooltip (a gate's expression and what it does)
    wires: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    clusters: list[str] = field(default_factory=list)  # their labels
    text: str = ""  # every text of the drawing, joined by newlines

    def box(self, name: str) -> list[str]:
        """A box's lines, without the current step's marker."""
        return [line for line in self.boxes[name] if line != "▶ step"]

    def wire(self, tail: str, head: str, index: int = 0) -> dict:
        return self.wires[(tail, head)][index]

    def says(self, name: str) -> str:
        """A box's lines joined by spaces: a gate's role note, wrapped at its commas, reads as one."""
        return " ".join(self.box(name))


def texts(group: ET.Element) -> list[str]:
    return [t.text or "" for t in group.iter(f"{SVG}text")]


def box_name(g: ET.Element, lines: list[str]) -> str:
    link = next((a for a in g.iter(f"{SVG}a") if a.get(f"{XLINK}title")), None)
    if link is not None:
        return link.get(f"{XLINK}title").split(" = ")[0]
    first = next(line for line in lines if line != "▶ step")
    return first.split(" (")[0]


def parse(svg: bytes) -> Drawing:
    root = ET.fromstring(svg)
    drawing = Drawing(text="\n".join(texts(root)))
    names: dict[str, str] = {}  # dot id -> name
    labels: dict[str, tuple[list[str], str]] = {}  # label node id -> its texts and class
    for g in root.iter(f"{SVG}g"):
        kind = g.get("class", "")
        title = g.findtext(f"{SVG}title") or ""
        if kind.startswith("node"):
            lines = texts(g)
            if re.fullmatch(r"l\d+", title):
                labels[title] = (lines, kind)
                continue
            names[title] = box_name(g, lines)
            drawing.boxes[names[title]] = lines
            drawing.classes[names[title]] = kind
            link = next((a for a in g.iter(f"{SVG}a") if a.get(f"{XLINK}title")), None)
            drawing.tips[names[title]] = link.get(f"{XLINK}title") if link is not None else ""
        elif kind == "cluster" and title != "cluster_diagram":
            drawing.clusters.append(" ".join(texts(g)))
    legs: dict[str, str] = {}  # label id -> the tail of its wire
    ends: list[tuple[str, str, ET.Element]] = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class", "").startswith("edge"):
            tail, head = (g.findtext(f"{SVG}title") or "").split("->")
            if head in labels:
                legs[head] = tail
            else:
                ends.append((tail, head, g))
    for tail, head, g in ends:
        path = g.find(f"{SVG}path")
        lines, kind = labels[tail] if tail in labels else (texts(g), g.get("class", ""))
        wire = {
            "texts": lines,
            "class": kind,
            "dash": path.get("stroke-dasharray") if path is not None else None,
            "width": float(path.get("stroke-width", "1")) if path is not None else 1.0,
        }
        start = legs.get(tail, tail)
        drawing.wires.setdefault((names[start], names[head]), []).append(wire)
    return drawing


def draw(graph: str, mode: str = "reverse", wrt: str | None = None, look: Look | None = None, **kw) -> Drawing:
    trace = run_trace(backprop_cli.load(graph) if "\n" not in graph else backprop_cli.loads(graph), mode, wrt)
    return parse(run_dot(build_dot(trace, look, **kw), "svg"))


# ------------------------------------------------------------ escaping, without dot
def test_quoted_escapes_what_dot_would_interpret():
    assert quoted(['a"b']) == '"a\\"b"'
    assert quoted(["\\G \\N \\l"]) == '"\\\\G \\\\N \\\\l"'
    assert quoted(["one", "two\nthree"]) == '"one\\ntwo\\nthree"'
    assert quoted(["left"], justify="l") == '"left\\l"'
    assert quoted(["bell\x07tab\t"]) == '"bell\\\\x07tab "'  # shown as written (printable()), as in the terminal


def test_user_text_only_in_quoted_labels_under_generated_ids():
    graph = backprop_cli.loads(
        'name: "evil\\"]; n0 -> n1 [URL=\\"http://x\\"]\\nsecond line"\n'
        'about: "<b>bold</b> \\\\G \\\\N \\\\l ]; URL=javascript:alert(1)"\n'
        'inputs: {x: 1}\nnodes:\n  y: {expr: "x * 2", group: "g\\"]; subgraph cluster_x { z }"}\noutput: y\n'
    )
    dot = build_dot(run_trace(graph))
    statements = [line.strip() for line in dot.splitlines()]
    assert all(
        re.match(
            r"^(digraph backprop \{|\}|(graph|node|edge) \[|subgraph cluster_\w+ \{|\{ rank=|(n\d+|b\d+|l\d+|out)\b)", s
        )
        for s in statements
    ), statements
    outside_quotes = re.sub(r'"(\\.|[^"\\])*"', '""', dot)
    assert "URL" not in outside_quotes and "<b>" not in outside_quotes and "cluster_x" not in outside_quotes
    assert set(re.findall(r"<(\w+)", outside_quotes)) <= {"TABLE", "TR", "TD", "FONT", "HR", "BR"}  # HTML labels
    assert "\\\\G \\\\N \\\\l" in dot and 'evil\\"]; n0' in dot


@pytest.mark.parametrize(
    ("text", "gate", "note"),
    [
        (
            "inputs: {a: [1, 5, 3], b: [2, 2, 2]}\nnodes: {m: 'maximum(a, b)', f: sum(m)}",
            "m",
            "2 of 3 to a, 1 of 3 to b",
        ),
        ("inputs: {a: [[1, 5, 3], [4, 2, 0]]}\nnodes: {m: 'max(a, axis=1)', f: sum(m)}", "m", "to 2 of 6"),
        ("inputs: {x: [-1, 2, -3, 4]}\nnodes: {h: relu(x), f: sum(h)}", "h", "dead for 50% (input ≤ 0)"),
        ("inputs: {x: -2}\nnodes: {f: 'leaky_relu(x, alpha=0.1)'}", "f", "×0.1: x = -2 ≤ 0"),
        ("inputs: {x: [-1, 2, -3, 4]}\nnodes: {h: 'leaky_relu(x)', f: sum(h)}", "h", "×0.01 for 50% (input ≤ 0)"),
        ("inputs: {x: [-1, 2]}\nnodes: {h: 'elu(x)', f: sum(h)}", "h", "×0.367879 for 50% (input ≤ 0)"),
        ("inputs: {x: [1, 2, 3]}\nnodes: {h: 1 - x, f: sum(h)}", "h", "×-1"),
        ("inputs: {x: [1, 2, 3]}\nnodes: {f: mean(x)}", "f", "÷3"),
        ("inputs: {x: [1, 2]}\nnodes: {h: leaky_relu(x), f: sum(h)}", "h", "passes everywhere (input > 0)"),
        (  # prelu's x broadcast against its slope: the note reads the broadcast input (an IndexError once)
            "inputs: {x: [[-1, 2]]}\nparams: {a: [[0.1, 0.2], [0.3, 0.4]]}\n"
            "nodes: {h: 'prelu(x, a, broadcast=true)', f: sum(h)}",
            "h",
            "×0.1…0.3 for 50% (input ≤ 0)",
        ),
        ("inputs: {x: 0.5}\nnodes: {f: tanh(x)}", "f", "slope 0.786448"),
        ("inputs: {a: 3, b: 4}\nnodes: {f: a / b}", "f", "×0.25 to a, ×-0.1875 to b"),
        ("inputs: {a: 3, b: 4}\nnodes: {f: a - b}", "f", "×-1 to b"),
        ("inputs: {a: 3, b: 4}\nnodes: {f: a + b}", "f", ""),
    ],
)
def test_what_each_gate_does_here(text, gate, note):
    graph = backprop_cli.loads(f"{text}\noutput: f\n")
    assert trace_routes(run_trace(graph)).notes[gate] == note


@needs_dot
def test_injection_attempts_come_out_as_text():
    about = '<b>bold</b> \\\\G \\\\N \\\\l ]; URL=javascript:alert(1) \\" quote'
    text = (
        f'name: "n\\nsecond line"\nabout: "{about}"\ninputs: {{x: 1}}\n'
        'nodes:\n  y: {expr: "x * 2", group: "g<i>\\\\N"}\noutput: y\n'
    )
    svg = run_dot(build_dot(run_trace(backprop_cli.loads(text))), "svg")
    root = ET.fromstring(svg)  # well-formed XML
    assert not [e for e in root.iter() if e.tag.endswith("}b") or e.tag.endswith("}i")]
    links = [e for e in root.iter() if e.tag.endswith("}a")]  # the gates' tooltips: a name and its expression
    assert [e.get(f"{XLINK}title") for e in links] == ["y = x * 2\nswitcher: ×2"]
    assert not [e for e in root.iter() if any("href" in key for key in e.attrib)]
    drawing = parse(svg)
    assert 'second line: <b>bold</b> \\G \\N \\l ]; URL=javascript:alert(1) " quote' in drawing.text
    assert drawing.clusters == ["g<i>\\N"]
    assert len(drawing.boxes) == 3 and len(drawing.wires) == 2  # x, y, output: nothing injected


# ------------------------------------------------------------ the lecture numbers on the right wires
@needs_dot
def test_circuit_carries_the_cs231n_numbers():
    d = draw("circuit")
    expected = {("x", "q"): ("-2", "∂ -4"), ("y", "q"): ("5", "∂ -4"), ("z", "f"): ("-4", "∂ 3"),
                ("q", "f"): ("3", "∂ -4"), ("f", "output"): ("-12", "∂ 1")}  # fmt: skip
    for (tail, head), numbers in expected.items():
        assert tuple(d.wire(tail, head)["texts"]) == numbers, (tail, head)
    assert d.box("q") == ["+", "q"] and "gate distributor" in d.classes["q"]  # the symbol, the name; the role
    assert d.box("f") == ["×", "f"] and d.tips["f"] == "f = q * z\nswitcher: ×-4 to q, ×3 to z"  # the fill
    assert d.box("x") == ["x"]
    legend = d.text.split("\n")
    assert "distributor: ∂ to every input (×-1 where subtracted)" in legend and "+" in legend  # its swatch
    assert not any(word in d.text for word in ("dashed", "dotted", "router", "param"))  # what is not drawn


@needs_dot
def test_roles_and_zero_gradients_dashed_with_the_reason():
    d = draw("gates")
    assert d.box("n") == ["max", "n"] and d.tips["n"].endswith("router: z won")
    assert d.tips["m"].endswith("switcher: ×-4 to x, ×3 to y")
    assert "dashed grey: exactly 0, with the reason" in d.text
    lost = d.wire("w", "n")
    assert lost["texts"] == ["-1", "∂ 0 · routed away"] and lost["dash"] and "zero" in lost["class"]
    won = d.wire("z", "n")
    assert won["texts"] == ["2", "∂ 2"] and not won["dash"]


@needs_dot
def test_dead_relu_kills_its_gradient_and_everything_behind_it():
    d = draw("npfl114_relu")
    assert d.box("h2") == ["relu", "h2", "dead"] and d.tips["h2"] == "h2 = relu(i2)\nkiller: dead: i2 = -3 ≤ 0"
    assert d.box("h1") == ["relu", "h1"] and d.tips["h1"].endswith("killer: passes: i1 = 4 > 0")
    killed = d.wire("i2", "h2")
    assert killed["texts"] == ["-3", "∂ 0 · killed"] and killed["dash"]
    for tail in ("i2.mul1", "i2.mul2"):  # behind the dead ReLU: zero for the same reason
        assert d.wire(tail, "i2")["texts"][-1] == "∂ 0 · killed" and d.wire(tail, "i2")["dash"]
    assert d.wire("w8", "o.mul2")["texts"] == ["3", "∂ 0 · × 0"]  # h2 = 0 switches w8's gradient off
    assert d.wire("h2", "o.mul2")["texts"] == ["0", "∂ 18"]  # the dead unit itself still gets 18
    assert d.wire("o", "L.sub1")["texts"] == ["6", "∂ 6"]
    assert d.box("x2")[-1] == "Σ∂ = (-6) + 0 + 24 = 18"


@needs_dot
def test_no_gradient_off_the_output_path_nor_into_labels():
    d = draw("inputs: {x: 2}\nnodes:\n  a: x * 3\n  f: x + 1\noutput: f\n")
    assert d.wire("x", "a")["texts"] == ["2", "∂ 0 · does not reach the output"] and d.wire("x", "a")["dash"]
    assert d.box("x")[-1] == "Σ∂ = 0 + 1 = 1"
    labels = draw("inputs: {z: [[1.0, 2.0, 0.5]], y: [2]}\nnodes:\n  f: cross_entropy(z, y)\noutput: f\n")
    assert labels.wire("y", "f")["texts"] == ["[2]", "∂ none: not differentiable"] and labels.wire("y", "f")["dash"]


@needs_dot
def test_line_width_grows_with_the_gradient():
    d = draw("npfl114_relu")
    assert d.wire("w6", "i3.mul2")["width"] > d.wire("w1", "i1.mul1")["width"] > d.wire("w3", "i2.mul1")["width"]


@needs_dot
def test_fork_sums_the_gradients_arriving():
    d = draw("sin_fork")
    assert d.box("x2") == ["x2", "Σ∂ = (-0.99) + 2 = 1.0"]  # as the lecture writes them: 1.0, not 1
    assert d.wire("x2", "a1")["texts"] == ["3", "∂ -0.99"]
    assert d.wire("x2", "a2")["texts"] == ["3", "∂ 2"]
    exact = draw("sin_fork", look=Look(digits=6))
    assert (
        exact.box("x2") == ["x2", "Σ∂ = (-0.989992) + 2 = 1.01001"]
        and exact.wire("x2", "a1")["texts"][1] == "∂ -0.989992"
    )


@needs_dot
def test_squashing_gate_saturated_and_a_vanishing_gradient_dotted():
    d = draw("inputs: {x: 10}\nnodes: {s: sigmoid(x)}\noutput: s\n")
    assert d.box("s") == ["σ", "s", "saturated"] and d.tips["s"].endswith("squashing: saturated: slope 4.5e-5")
    wire = d.wire("x", "s")
    assert wire["texts"] == ["10", "∂ 4.5e-5 · vanishing"] and "vanishing" in wire["class"]
    assert wire["dash"] == "1,5"  # dotted, not dashed
    assert "dotted: vanishing" in d.text and "dashed" not in d.text
    assert "saturated 67%" in draw("sigmoid_saturation").box("s")


@needs_dot
def test_forward_mode_draws_tangents():
    d = draw("sin_fork", "forward", "x2")
    assert d.wire("x2", "a1")["texts"] == ["3", "ṫ 1"]
    assert d.wire("a1", "a3")["texts"] == ["0.14", "ṫ -0.99"]
    assert d.wire("a3", "output")["texts"] == ["6.1", "ṫ 1.0"]
    constant = d.wire("x1", "a2")
    assert constant["texts"] == ["2", "ṫ 0 · held constant"] and constant["dash"]
    assert "∂" not in d.text and "each wire: value above, ṫ = d(wire)/dx2 below" in d.text
    assert d.tips["a2"] == "a2 = x1 * x2\nswitcher: ×3 from x1, ×2 from x2"  # tangents come in
    both = draw("circuit", "both", "x")
    assert both.wire("x", "q")["texts"] == ["-2", "∂ -4", "ṫ 1"]


@needs_dot
def test_tensor_nodes_show_shape_and_summary():
    d = draw("two_layer")
    assert d.box("x") == ["x", "(64×1000)"]
    assert d.box("w1") == ["w1", "(1000×100)"] and "leaf param" in d.classes["w1"]
    assert d.box("h")[:3] == ["σ", "h", "saturated 88%"] and d.tips["h"].startswith("h = sigmoid(h.matmul1)\nsquashing")
    value, gradient = d.wire("x", "h.matmul1")["texts"]  # one line each: the range, never wide
    assert value == "-4.5…4.7" and gradient == "∂ -146…132"
    assert d.wire("h.matmul1", "h")["texts"][-1].strip() == "12% zero"  # which entries are 0, where some are
    assert d.wire("loss", "output")["texts"] == ["30075", "∂ 1"]


@needs_dot
def test_groups_become_clusters_and_collapse_into_boxes():
    d = draw(GROUPED)
    assert sorted(d.clusters) == ["layer1", "layer2", "loss"]
    graph = backprop_cli.loads(GROUPED)
    collapsed = draw(GROUPED, look=Look(collapse=collapse_names(graph, "*")))
    assert collapsed.clusters == []
    assert collapsed.box("layer1") == ["layer1 (collapsed)", "4 gates: add, mul, relu", "gives h"]
    assert "z.mul1 = a * x1" not in collapsed.boxes
    assert collapsed.wire("layer1", "layer2")["texts"] == ["2.5", "∂ 16"]  # h = 2.5, dL/dh = 2(y - t)·w = 16
    one = draw(GROUPED, look=Look(collapse=collapse_names(graph, "layer1")))
    assert sorted(one.clusters) == ["layer2", "loss"] and one.box("layer1")[0] == "layer1 (collapsed)"


@needs_dot
def test_collapsing_an_expanded_node_sums_the_wires_into_it():
    graph = backprop_cli.load("sigmoid_neuron")
    d = draw("sigmoid_neuron", look=Look(collapse=collapse_names(graph, "f")))
    assert " ".join(d.box("f")) == "f = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2))) 8 gates (collapsed)"  # as written
    assert d.wire("w0", "f")["texts"] == ["2", "∂ -0.20"]  # cs231n's dw0 = -0.20
    assert d.wire("x0", "f")["texts"] == ["-1", "∂ 0.39"]
    assert d.wire("f", "output")["texts"] == ["0.73", "∂ 1"]


def test_collapse_names_are_checked():
    graph = backprop_cli.loads(GROUPED)
    with pytest.raises(backprop_cli.UsageError, match="not a group.*did you mean 'layer"):
        collapse_names(graph, "layer")
    with pytest.raises(backprop_cli.UsageError, match="no groups"):
        collapse_names(backprop_cli.load("circuit"), "*")


@needs_dot
def test_verdicts_are_drawn_on_the_leaves():
    d = draw("circuit", look=Look(verdicts={"x": "pass (rel 3e-10)", "z": 'fail (rel 0.5) "\\G'}))
    assert d.box("x") == ["x", "gradcheck: pass (rel 3e-10)"]
    assert d.box("z") == ["z", 'gradcheck: fail (rel 0.5) "\\G']
    assert d.box("y") == ["y"]


@needs_dot
def test_no_legend():
    assert "dashed grey" in draw("gates").text and "each wire" in draw("gates").text
    quiet = draw("gates", look=Look(legend=False)).text
    assert "dashed grey" not in quiet and "each wire" not in quiet and "router" not in quiet


@needs_dot
def test_a_graph_of_300_gates_renders():
    lines = ["inputs: {x: 0.5}", "params: {" + ", ".join(f"w{k}: 0.{k + 1}" for k in range(5)) + "}", "nodes:"]
    lines += ["  a0: x * w0", "  a1: x * w1"]
    lines += [f"  a{i}: a{i - 1} * w{i % 5} + sin(a{i - 2})" for i in range(2, 102)]
    graph = backprop_cli.loads("\n".join(lines) + "\noutput: a101\n")
    assert len(graph.gates) >= 300
    trace = run_trace(graph)
    svg = run_dot(build_dot(trace), "svg")
    d = parse(svg)
    assert "Σ∂ of 21 = " in d.text  # on the first of w0's boxes: a param read all along is drawn
    assert d.box("w0")[-1] == "copy 21 of 21"  # once per wire, not with wires through every column
    assert len(d.boxes) == len(graph.nodes) + 1  # by name: every node, and the output
    wires = sum(len(trace_routes(trace).out[p]) for p in graph.params)
    assert svg.count(b'class="node leaf param') == wires
