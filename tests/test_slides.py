"""Diagrams that go on a slide: every bundled example readable placed whole on a 1280 × 720 slide (its
smallest text at 12 px or more) with no wire running against the layout, networks in columns with no more
crossings than the lecture's figure, labels on their wires, titles wrapped outside formulas, short tensor
labels, notes for unused leaves, a graph's diagram in a notebook, and big graphs drawn fast by collapsing
each node's gates."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from test_render import SVG, parse  # the SVG reader (tests/ is on sys.path)

import backprop_cli
from backprop_cli.engines.trace import run_trace
from backprop_cli.outputs.diagram import Look, build_dot
from backprop_cli.outputs.diagram_fit import fit_to_slide
from backprop_cli.outputs.diagram_layout import backward, crossings, plain_size
from backprop_cli.outputs.dot_text import tensor_lines, wrapped
from backprop_cli.outputs.graphviz_program import run_dot

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
GRAPHS = Path(__file__).resolve().parent.parent / "graphs"
EXAMPLES = sorted(p.stem for p in GRAPHS.glob("*.yaml"))
SLIDE_PX = (1280, 720)
READABLE_PX = 12  # the smallest text on the slide


def svg_size(svg: bytes) -> tuple[float, float]:
    root = ET.fromstring(svg)
    return tuple(float(root.get(key).removesuffix("pt")) for key in ("width", "height"))


def slide_text_px(svg: bytes, slide: tuple[int, int] = SLIDE_PX) -> float:
    """The smallest text of an SVG from dot, in pixels, when the drawing is placed whole on the slide (scaled
    to fit, keeping its aspect): each font size, in the drawing's units, times the points a unit takes (the
    root's scale transform, width over viewBox) times the slide's pixels per point."""
    root = ET.fromstring(svg)
    width, height = svg_size(svg)
    view = [float(v) for v in root.get("viewBox").split()]
    group = root.find(f"{SVG}g")
    scale = re.search(r"scale\(([\d.]+)", group.get("transform", "")) if group is not None else None
    points_per_unit = (float(scale.group(1)) if scale else 1.0) * width / view[2]
    fit = min(slide[0] / width, slide[1] / height)
    fonts = [float(t.get("font-size")) for t in root.iter(f"{SVG}text") if (t.text or "").strip()]
    return min(fonts) * points_per_unit * fit


def wires_against_the_layout(svg: bytes) -> list[str]:
    """Edges whose path ends behind where it starts: right to left in a left-to-right drawing (the root's
    class says LR or TB), upwards in a top-to-bottom one (SVG's y grows downwards); a point of slack."""
    root = ET.fromstring(svg)
    direction = "TB" if "TB" in root.find(f"{SVG}g").get("class", "").split() else "LR"
    back = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class", "").startswith("edge"):
            path = g.find(f"{SVG}path")
            points = [tuple(map(float, p.split(","))) for p in re.findall(r"-?[\d.]+,-?[\d.]+", path.get("d"))]
            (x0, y0), (x1, y1) = points[0], points[-1]
            if (x1 < x0 - 1) if direction == "LR" else (y1 < y0 - 1):
                back.append(g.findtext(f"{SVG}title"))
    return back


# ------------------------------------------------------------ slides
@needs_dot
@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_reads_on_a_slide(run, tmp_path, example):
    """Rendered with default options and placed whole on a 1280 × 720 slide, the smallest text is 12 px or
    more (1 pt = 4/3 px at natural size); and no wire runs back against the layout's direction."""
    out = tmp_path / f"{example}.svg"
    result = run("render", example, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    svg = out.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # exactly the path given
    assert slide_text_px(svg) >= READABLE_PX, (example, svg_size(svg), slide_text_px(svg))
    assert wires_against_the_layout(svg) == [], example


def test_the_slide_measure_reads_scale_and_view_box():
    text = '<text font-size="10.00">a</text><text font-size="14.00">b</text><text font-size="8.00"> </text>'
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1280pt" height="360pt" viewBox="0 0 640 180">'
        f'<g class="graph LR" transform="scale(0.5 0.5)">{text}</g></svg>'
    ).encode()
    # a unit is 2 pt (width / viewBox) at half scale: 1 pt; 1280 pt wide on 1280 px: 1 px a pt; the blank text
    # (8) does not count
    assert slide_text_px(svg) == pytest.approx(10.0)
    edge = '<g class="edge"><title>a-&gt;b</title><path d="M100,-10C80,-10 60,-10 40,-10"/></g>'
    backwards = svg.replace(b"</g></svg>", f"{edge}</g></svg>".encode())
    assert wires_against_the_layout(backwards) == ["a->b"]
    assert wires_against_the_layout(backwards.replace(b"graph LR", b"graph TB")) == []  # level: not upwards


@needs_dot
@pytest.mark.parametrize(
    ("example", "layout", "flag"),
    [("two_layer", "LR", "--expand"), ("two_layer", "TB", "--expand"), ("sigmoid_chain", "TB", None),
     ("softmax_l2", "TB", None)],
)  # fmt: skip
def test_no_wire_runs_back_where_wrapped_rows_did(run, tmp_path, example, layout, flag):
    """The layouts of the issue (a chain wrapped into rows sent a2 -> f2, log -> mul, w2's matmul back under the
    figure), drawn each way (auto: the test above)."""
    out = tmp_path / f"{example}.svg"
    result = run("render", example, "-o", str(out), "--layout", layout, *([flag] if flag else []))
    assert result.exit_code == 0, result.stderr
    assert wires_against_the_layout(out.read_bytes()) == [], (example, layout)


def test_backward_wires_are_counted_from_the_coordinates():
    plain = "\n".join(
        [
            "graph 1 4 4",
            "edge a b 4 0 0 1 0 2 0 3 0 solid black",  # left to right
            "edge c d 4 3 1 2 1 1 1 0 1 solid black",  # right to left
            "edge e f 4 0 3 0 2 0 1 0 0 solid black",  # downwards
            "stop",
        ]
    )
    assert backward(plain, "LR") == 1 and backward(plain, "TB") == 0


def laid_out(name: str) -> tuple[str, Look]:
    trace = run_trace(backprop_cli.load(name))
    look = fit_to_slide(trace, Look())
    return run_dot(build_dot(trace, look), "plain").decode(), look


@needs_dot
def test_npfl114_is_drawn_as_the_lecture_draws_it():
    """NPFL114's network view: x1, x2 on the left, the units i1..i3 and h1..h3 in columns, o, then L; the
    weights on the wires; its wires cross 3 times, as in the lecture's figure; every partial of its table."""
    from backprop_cli.outputs.network import drawing_of
    from backprop_cli.outputs.routes import trace_routes

    plain, look = laid_out("npfl114_relu")
    assert look.network and look.rankdir == "LR"
    assert crossings(plain) <= 3
    x = {}  # node id -> x (left to right)
    for line in plain.splitlines():
        parts = line.split()
        if parts[0] == "node":
            x[parts[1]] = float(parts[2])
    trace = run_trace(backprop_cli.load("npfl114_relu"))
    place = drawing_of(trace, trace_routes(trace), look).place
    column = {name: x[place.shown_id(name)] for name in ("x1", "x2", "i1", "i2", "i3", "h1", "h2", "h3", "o", "L")}
    assert column["x1"] == column["x2"] == min(x.values())  # inputs on one side
    assert column["i1"] == column["i2"] == column["i3"] and column["h1"] == column["h2"] == column["h3"]
    assert column["x1"] < column["i1"] < column["h1"] < column["o"] < column["L"]  # the loss on the other
    d = parse(run_dot(build_dot(trace, look), "svg"))
    table = {"o": "∂ 6", "h1": "∂ -6", "h2": "∂ 18", "h3": "∂ 12", "i1": "∂ -6", "i3": "∂ 12", "x2": "∂ 18"}
    for unit, gradient in table.items():  # the lecture's table of partials, each on its unit
        assert gradient in d.box(unit), (unit, d.box(unit))
    assert d.box("i2")[-1] == "∂ 0 · killed" and d.box("x1")[-1] == "∂ 0 · cancels"  # -12 + 0 + 12
    weights = {label: w for w in re.findall(r"(w\d) = (-?\d+)\n(∂ -?\d+)", d.text) for label in [w[0]]}
    assert {k: v[2] for k, v in weights.items()} == {
        "w1": "∂ -6", "w2": "∂ -12", "w3": "∂ 0", "w4": "∂ 0", "w5": "∂ 12", "w6": "∂ 24",
        "w7": "∂ 24", "w8": "∂ 0", "w9": "∂ 30",
    }  # fmt: skip


@needs_dot
def test_the_circuit_stays_a_circuit_and_networks_are_chosen_only_when_layered():
    _, circuit = laid_out("circuit")
    assert (circuit.rankdir, circuit.network) == ("LR", False)  # fits as the lecture draws it
    _, neuron = laid_out("sigmoid_neuron")
    assert not neuron.network and not neuron.collapse  # the cs231n neuron, gate by gate


def test_crossings_are_counted_from_the_coordinates():
    # two straight edges a->b and c->d crossing in an X, and one parallel edge that crosses nothing
    plain = "\n".join(
        [
            "graph 1 4 4",
            "edge a b 4 0 0 1 1 2 2 3 3 solid black",
            "edge c d 4 0 3 1 2 2 1 3 0 solid black",
            "edge e f 4 0 5 1 5 2 5 3 5 solid black",
            "edge a g 4 0 0 0 1 0 2 0 3 solid black",  # shares a with a->b; touches c->d's end only
            "edge h i 4 2 -1 2 1 2 3 2 6 solid black",  # x = 2: through a->b, c->d and e->f
            "stop",
        ]
    )
    assert crossings(plain) == 4  # a->b with c->d (at a sampled point: counted once), and h->i with three
    assert plain_size(plain) == (288.0, 288.0)


# ------------------------------------------------------------ labels, titles, numbers
@needs_dot
def test_each_number_sits_on_its_own_wire():
    """maxout: b1 and b2 converge on their gates; each wire runs through its own label node, whose text is
    that wire's, and no edge is decorated with a line to a label elsewhere."""
    trace = run_trace(backprop_cli.load("maxout"))
    dot = build_dot(trace, Look())
    assert "decorate" not in dot
    d = parse(run_dot(dot, "svg"))
    assert d.wire("b2", "z2")["texts"] == ["-0.2", "∂ 1"]
    assert d.wire("b1", "z1")["texts"] == ["0.1", "∂ 0 · routed away"]
    for tail, head in d.wires:
        assert len(d.wires[(tail, head)]) == 1  # one label each


def test_titles_wrap_at_word_boundaries_never_inside_a_formula():
    about = "The lecture's 20-line NumPy network: h = σ(x·w1), y_pred = h·w2, loss = Σ(y_pred - y)², N=64, D_in=1000"
    for width in (30, 40, 50, 60):
        lines = wrapped(about, width)
        assert " ".join(lines) == about
        for line in lines:
            assert line.count("(") == line.count(")"), line  # no formula cut inside its brackets
            assert not line.endswith(("-", "=", "·", "+")) and not line.startswith(("-", "=", "+", "y)")), line


def test_small_tensors_show_their_numbers_and_big_ones_a_short_label():
    matrix = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
    assert tensor_lines(matrix) == ["[1, -2, 0.5,", " 3, 0.25, -1]"]
    assert tensor_lines(np.arange(9.0).reshape(3, 3)) == ["[0, 1, 2,", " 3, 4, 5,", " 6, 7, 8]"]
    assert tensor_lines(np.array([1.0, 2.0])) == ["[1, 2]"]
    assert tensor_lines(np.array([0.196612, -0.393224, 0.0])) == ["[0.20, -0.39, 0]"]  # as the lectures write them
    assert tensor_lines(np.arange(12.0).reshape(3, 4)) == ["0…11", "8% zero"]  # which entries are 0
    assert tensor_lines(np.array([3.0, 4.0, 2.0, 5.0, 1.0, 6.0, 7.0])) == ["1…7"]
    assert tensor_lines(np.arange(7.0), zeros=False) == ["0…6"]  # class labels: 0 is a class, not a zero
    assert tensor_lines(np.full(8, 0.25)) == ["all 0.25"]
    rng = np.random.default_rng(22)
    for _ in range(200):  # generated tensors: the label of a big one is at most 2 short lines
        shape = tuple(rng.integers(1, 9, size=rng.integers(1, 4)))
        value = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 7)
        value[rng.random(shape) < 0.3] = 0
        lines = tensor_lines(value)
        assert len(lines) <= (4 if value.size <= 9 else 2) and max(map(len, lines)) <= 28, (shape, lines)


@needs_dot
def test_an_unused_leaf_gets_a_note_and_generated_names_stay_out_of_sight():
    graph = backprop_cli.loads("inputs: {x: 2, spare: 1}\nnodes:\n  f: 3 * x + 1\noutput: f\n")
    d = parse(run_dot(build_dot(run_trace(graph)), "svg"))
    assert d.box("spare") == ["spare", "unused: no gate reads it"]
    assert "f.mul1" not in d.text  # the generated gate's name: only in its tooltip
    assert d.box("f.mul1")[0] == "×3" and d.box("f")[:2] == ["+1", "f"]
    rosenbrock = parse(run_dot(build_dot(run_trace(backprop_cli.load("rosenbrock"))), "svg"))
    assert rosenbrock.box("loss.sub2") == ["−", "×-1 to (x ** 2)"]  # not "to loss.pow2"
    assert rosenbrock.tips["loss.sub2"].endswith("distributor: ×-1 to (x ** 2)")
    assert "loss.pow" not in rosenbrock.text


@needs_dot
def test_a_collapsed_group_keeps_its_title_clear_of_the_border():
    from test_render import GROUPED

    from backprop_cli.outputs.groups import collapse_names

    graph = backprop_cli.loads(GROUPED)
    dot = build_dot(run_trace(graph), Look(collapse=collapse_names(graph, "layer1")))
    box = next(line for line in dot.splitlines() if "layer1 (collapsed)" in line)
    assert 'margin="0.2,0.1"' in box and "box3d" in box


# ------------------------------------------------------------ notebooks
@needs_dot
def test_a_graph_shows_its_diagram_in_a_notebook():
    svg = backprop_cli.load("circuit")._repr_svg_()
    d = parse(svg.encode())
    assert d.wire("x", "q")["texts"] == ["-2", "∂ -4"]


def test_without_graphviz_or_values_a_notebook_shows_the_text(monkeypatch):
    from backprop_cli.outputs import notebook

    bad = backprop_cli.loads("inputs: {x: -1}\nnodes: {f: log(x)}\noutput: f\n")
    if shutil.which("dot") is not None:
        assert bad._repr_svg_() is None  # log(-1): an evaluation error, shown when the user runs the graph
    monkeypatch.setattr(notebook.shutil, "which", lambda name: None)
    assert backprop_cli.load("circuit")._repr_svg_() is None


def test_the_graph_module_imports_nothing_from_outputs():
    text = (Path(backprop_cli.__file__).parent / "graph.py").read_text()
    assert not re.search(r"^\s*from \.(outputs|commands|cli)|import backprop_cli\.outputs", text, re.M)


# ------------------------------------------------------------ big graphs
def many_readers(gates: int) -> str:
    """One param read by every node: s_i = w * s_{i-1} + tanh(s_{i-1}), three gates per node."""
    nodes = ["  s0: w * x"] + [f"  s{i}: w * s{i - 1} + tanh(s{i - 1})" for i in range(1, gates // 3)]
    return "inputs: {x: 0.5}\nparams: {w: 0.9}\nnodes:\n" + "\n".join(nodes) + f"\noutput: s{gates // 3 - 1}\n"


@needs_dot
def test_a_big_graph_collapses_each_nodes_gates_and_says_so(run, graph_file, tmp_path):
    path = graph_file(many_readers(330))
    result = run("render", str(path), "-o", str(tmp_path / "big.svg"))
    assert result.exit_code == 0, result.stderr
    assert "over 200" in result.stderr and "--expand" in result.stderr
    d = parse((tmp_path / "big.svg").read_bytes())
    assert d.boxes["s5"] == ["s5 = w * s4 + tanh(s4)", "3 gates (collapsed)"]
    dot = run("render", str(path), "-o", str(tmp_path / "all.dot"), "--expand")
    assert dot.exit_code == 0 and "over 200" not in dot.stderr
    assert "s5.mul1" in (tmp_path / "all.dot").read_text()


@needs_dot
def test_fitting_says_what_it_collapsed_and_the_flags_override_it(run, tmp_path):
    fitted = run("render", "activations", "-o", str(tmp_path / "a.svg"))
    assert fitted.exit_code == 0 and "total drawn as one box each" in fitted.stderr and "--expand" in fitted.stderr
    assert "7 gates (collapsed)" in parse((tmp_path / "a.svg").read_bytes()).boxes["total"]
    expanded = run("render", "activations", "-o", str(tmp_path / "b.svg"), "--expand")
    assert expanded.exit_code == 0 and expanded.stderr == f"wrote {tmp_path / 'b.svg'}\n"  # no note, only the file
    assert "(collapsed)" not in parse((tmp_path / "b.svg").read_bytes()).text
    network = run("render", "npfl114_relu", "-o", str(tmp_path / "n.svg"))
    assert network.exit_code == 0 and "drawn as a network" in network.stderr and "--view circuit" in network.stderr
    gates = run("render", "npfl114_relu", "-o", str(tmp_path / "g.svg"), "--view", "circuit")
    assert (
        gates.exit_code == 0
        and gates.stderr == f"wrote {tmp_path / 'g.svg'}\n"
        and "i2.mul1" in parse((tmp_path / "g.svg").read_bytes()).boxes
    )
    chosen = run("render", "circuit", "-o", str(tmp_path / "c.dot"), "--layout", "TB")
    assert chosen.exit_code == 0 and "rankdir=TB" in (tmp_path / "c.dot").read_text()


def test_gate_symbols_with_constants_and_indices_from_the_op_table():
    from backprop_cli.graph import Const, Node
    from backprop_cli.ops import OPS
    from backprop_cli.outputs.diagram_layout import symbol

    def gate(op: str, *inputs: object, expr: str = "") -> Node:
        return Node(name="g", kind="gate", shape=(), op=op, inputs=inputs, expr=expr, operation=OPS.get(op))

    assert symbol(gate("mul", "a", "b")) == "×" and symbol(gate("mul", Const(0.5), "a")) == "×0.5"
    assert symbol(gate("sub", Const(1.0), "a")) == "1−" and symbol(gate("sub", "a", Const(1.0))) == "−1"
    assert symbol(gate("pow", "a", Const(2.0))) == "x²" and symbol(gate("pow", "a", Const(1.5))) == "x^1.5"
    assert symbol(gate("div", Const(1.0), "a")) == "1/x" and symbol(gate("sigmoid", "a")) == "σ"
    assert symbol(gate("maximum", Const(0.0), "a")) == "max(0,·)"  # hinge's max(0, ·) shows its 0
    assert symbol(gate("index", "w", expr="w[0]")) == "w[0]"  # which element it picks
    assert symbol(gate("concat", "a", "b")) == "concat"  # an op without a symbol in the table: its name
    for op in OPS.values():  # every op's mark comes from its entry: a new op needs no table here
        assert symbol(gate(op.name, *(f"x{i}" for i in range(op.arity_range[0])))) == op.mark


@needs_dot
def test_the_lectures_constants_and_indices_on_their_gates():
    hinge = parse(run_dot(build_dot(run_trace(backprop_cli.load("hinge"))), "svg"))
    assert hinge.box("l") == ["max(0,·)", "l", "to 1 of 3"]  # only the margin violator gets a gradient
    assert hinge.box("l.sub1") == ["1−", "×-1"]  # not only "distributor"
    neuron = parse(run_dot(build_dot(run_trace(backprop_cli.load("neuron_2d"))), "svg"))
    picks = sorted(box[0] for name, box in neuron.boxes.items() if name.startswith("dot.index"))
    assert picks == ["w[0]", "w[1]", "w[2]", "x[0]", "x[1]"]


# ------------------------------------------------------------ generated graphs, every way they can be drawn
@needs_dot
def test_generated_graphs_draw_in_every_view():
    """Graphs over the whole op table (tests/generated_graphs.py) draw as a circuit, as a network, as a
    worksheet and as a --steps frame without an error, and dot reads every one; each gate's mark and the
    notes on it come from the op table and the local derivatives, whatever the op."""
    from dataclasses import replace

    from generated_graphs import graphs, hypothesis_run
    from hypothesis import given

    from backprop_cli.errors import EvaluationError
    from backprop_cli.outputs.diagram import Moment
    from backprop_cli.outputs.routes import trace_routes

    @hypothesis_run(12)
    @given(graphs())
    def draw(generated):
        try:
            trace = run_trace(backprop_cli.loads(generated.text))
        except EvaluationError:
            return  # a value out of an op's domain: nothing to draw
        routes = trace_routes(trace)
        gates = frozenset(row.node.name for row in trace.rows[: len(trace.rows) // 2])
        looks = [Look(), Look(network=True), Look(blank=frozenset({"gradients"})), Look(network=True, digits=6)]
        texts = [build_dot(trace, look, routes=routes) for look in looks]
        texts.append(build_dot(trace, Look(), Moment(gates, next(iter(gates), None), "a frame"), routes))
        svg = run_dot(texts[len(generated.text) % len(texts)], "svg")  # dot reads them (one, for the time)
        ET.fromstring(svg)
        assert all(text.startswith("digraph backprop {") for text in texts)
        assert replace(looks[1], network=False) == Look()

    draw()
