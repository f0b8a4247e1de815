"""Diagrams that go on a slide: every bundled example within 16:9 at full size, networks in columns
with no more crossings than the lecture's figure, labels on their wires, titles wrapped outside
formulas, small tensors' numbers, notes for unused leaves, a graph's diagram in a notebook, and big
graphs drawn fast by collapsing each node's gates."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from test_render import parse  # the SVG reader (tests/ is on sys.path)

import backprop_cli
from backprop_cli.engines.trace import run_trace
from backprop_cli.outputs.diagram import Look, build_dot
from backprop_cli.outputs.diagram_fit import fit_to_slide
from backprop_cli.outputs.diagram_layout import crossings, plain_size
from backprop_cli.outputs.dot_text import tensor_lines, wrapped
from backprop_cli.outputs.graphviz_program import run_dot

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
GRAPHS = Path(__file__).resolve().parent.parent / "graphs"
EXAMPLES = sorted(p.stem for p in GRAPHS.glob("*.yaml"))
SLIDE_PT = (2133, 1200)  # 60% of it is 1280×720: what a 16:9 slide shows


def svg_size(svg: bytes) -> tuple[float, float]:
    root = ET.fromstring(svg)
    return tuple(float(root.get(key).removesuffix("pt")) for key in ("width", "height"))


# ------------------------------------------------------------ slides
@needs_dot
@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_fits_a_slide_at_full_size(run, tmp_path, example):
    out = tmp_path / f"{example}.svg"
    result = run("render", example, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    width, height = svg_size(out.read_bytes())
    assert width <= SLIDE_PT[0] and height <= SLIDE_PT[1], (example, width, height)
    fonts = {float(size) for size in re.findall(rb'font-size="([\d.]+)"', out.read_bytes())}
    assert min(fonts) >= 10  # by layout, not by shrinking the text


def laid_out(name: str) -> tuple[str, Look]:
    trace = run_trace(backprop_cli.load(name))
    look = fit_to_slide(trace, Look())
    return run_dot(build_dot(trace, look), "plain").decode(), look


@needs_dot
def test_npfl114_is_drawn_in_columns_with_the_lectures_crossings():
    plain, _ = laid_out("npfl114_relu")
    assert crossings(plain) <= 3  # the lecture's figure: x1, x2 to three hidden units cross 3 times
    x = {}  # node id -> x (left to right)
    for line in plain.splitlines():
        parts = line.split()
        if parts[0] == "node":
            x[parts[1]] = float(parts[2])
    ids = {name: f"n{i}" for i, name in enumerate(backprop_cli.load("npfl114_relu").nodes)}
    column = {name: x[ids[name]] for name in ("x1", "x2", "i1", "i2", "i3", "h1", "h2", "h3", "o", "L")}
    assert column["x1"] == column["x2"] == min(x.values())  # inputs on one side
    assert column["i1"] == column["i2"] == column["i3"] and column["h1"] == column["h2"] == column["h3"]
    assert column["x1"] < column["i1"] < column["h1"] < column["o"] < column["L"]  # the loss on the other


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


@needs_dot
def test_a_long_chain_wraps_into_rows_and_a_wide_graph_turns():
    _, chain = laid_out("sigmoid_chain")
    assert chain.rows > 1 or chain.rankdir == "TB"
    _, circuit = laid_out("circuit")
    assert (circuit.rankdir, circuit.rows) == ("LR", 1)  # fits as the lecture draws it


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


def test_small_tensors_show_their_numbers():
    matrix = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
    assert tensor_lines(matrix) == ["[1, -2, 0.5,", " 3, 0.25, -1]"]
    assert tensor_lines(np.arange(9.0).reshape(3, 3)) == ["[0, 1, 2,", " 3, 4, 5,", " 6, 7, 8]"]
    assert tensor_lines(np.array([1.0, 2.0])) == ["[1, 2]"]
    big = tensor_lines(np.arange(12.0).reshape(3, 4))
    assert big[0].startswith("‖·‖=") and big[1] == "∈[0, 11]"


@needs_dot
def test_an_unused_leaf_gets_a_note_and_generated_names_stay_out_of_sight():
    graph = backprop_cli.loads("inputs: {x: 2, spare: 1}\nnodes:\n  f: 3 * x + 1\noutput: f\n")
    d = parse(run_dot(build_dot(run_trace(graph)), "svg"))
    assert d.box("spare") == ["spare", "unused: no gate reads it"]
    assert "f.mul1" not in d.text  # the generated gate's name: only in its tooltip
    assert d.box("f.mul1")[0] == "×3" and d.box("f")[:2] == ["+1", "f"]
    rosenbrock = parse(run_dot(build_dot(run_trace(backprop_cli.load("rosenbrock"))), "svg"))
    assert rosenbrock.says("loss.sub2") == "− distributor: ×-1 to (x ** 2)"  # not "to loss.pow2"
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
    assert "s5 (collapsed)" in d.boxes["s5"][0]
    dot = run("render", str(path), "-o", str(tmp_path / "all.dot"), "--expand")
    assert dot.exit_code == 0 and "over 200" not in dot.stderr
    assert "s5.mul1" in (tmp_path / "all.dot").read_text()


@needs_dot
def test_fitting_says_what_it_collapsed_and_the_flags_override_it(run, tmp_path):
    fitted = run("render", "activations", "-o", str(tmp_path / "a.svg"))
    assert fitted.exit_code == 0 and "total drawn as one box each" in fitted.stderr and "--expand" in fitted.stderr
    assert "total (collapsed)" in parse((tmp_path / "a.svg").read_bytes()).text
    expanded = run("render", "activations", "-o", str(tmp_path / "b.svg"), "--expand")
    assert expanded.exit_code == 0 and expanded.stderr == f"wrote {tmp_path / 'b.svg'}\n"  # no note, only the file
    assert "total (collapsed)" not in parse((tmp_path / "b.svg").read_bytes()).text
    chosen = run("render", "circuit", "-o", str(tmp_path / "c.dot"), "--layout", "TB")
    assert chosen.exit_code == 0 and "rankdir=TB" in (tmp_path / "c.dot").read_text()


def test_gate_symbols_with_constants_and_ops_without_a_symbol():
    from backprop_cli.graph import Const, Node
    from backprop_cli.outputs.diagram_layout import note_lines, symbol

    def gate(op: str, *inputs: object) -> Node:
        return Node(name="g", kind="gate", shape=(), op=op, inputs=inputs)

    assert symbol(gate("mul", "a", "b")) == "×" and symbol(gate("mul", Const(0.5), "a")) == "×0.5"
    assert symbol(gate("sub", Const(1.0), "a")) == "1−" and symbol(gate("sub", "a", Const(1.0))) == "−1"
    assert symbol(gate("pow", "a", Const(2.0))) == "x²" and symbol(gate("pow", "a", Const(1.5))) == "x^1.5"
    assert symbol(gate("div", Const(1.0), "a")) == "1/x" and symbol(gate("sigmoid", "a")) == "σ"
    assert symbol(gate("concat", "a", "b")) == "concat"  # a new op, or a plugin: its name
    note = "switcher: ×0.622459 to w2, ×-1.2 to f1"
    lines = note_lines(note)
    assert " ".join(lines) == note and len(lines) > 1  # broken after a colon or a comma, nowhere else
    assert all(len(line) <= 22 for line in lines) and all(line.endswith((",", ":")) for line in lines[:-1])
    assert note_lines("distributor") == ["distributor"]
