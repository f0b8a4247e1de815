"""`backprop render` through click's CliRunner: formats, paths, a missing or slow `dot`, --steps, --worksheet."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_render import parse  # the SVG reader (tests/ is on sys.path: pytest's prepend import mode)

GRAPHS = Path(__file__).resolve().parent.parent / "graphs"

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
SVG = "{http://www.w3.org/2000/svg}"


def one_line_error(result, code: int, *words: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


# ------------------------------------------------------------ formats
@needs_dot
@pytest.mark.parametrize(("name", "magic"), [("c.png", b"\x89PNG"), ("c.pdf", b"%PDF"), ("c.svg", b"<?xml")])
def test_format_from_the_suffix(run, tmp_path, name, magic):
    result = run("render", "circuit", "-o", str(tmp_path / name))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / name).read_bytes().startswith(magic)


@needs_dot
def test_format_option_and_stdout(run, tmp_path):
    result = run("render", "circuit", "--format", "png", "-o", str(tmp_path / "picture"))
    assert result.exit_code == 0 and (tmp_path / "picture").read_bytes().startswith(b"\x89PNG")
    result = run("render", "circuit", "-o", "-")
    assert result.exit_code == 0 and result.stdout.startswith("<?xml") and "∂ &#45;4" in result.stdout


@needs_dot
def test_at_overrides_a_leaf(run, tmp_path):
    out = tmp_path / "c.svg"
    assert run("render", "circuit", "--at", "x=3", "-o", str(out)).exit_code == 0
    assert parse(out.read_bytes()).wire("x", "q")["texts"] == ["3", "∂ -4"]


def test_format_dot_works_without_the_dot_program(run, tmp_path):
    out = tmp_path / "c.dot"
    result = run("render", "circuit", "-o", str(out), env={"PATH": str(tmp_path)})
    assert result.exit_code == 0, result.stderr
    assert out.read_text().startswith("digraph backprop {")


@pytest.mark.parametrize(
    "args", [["-o", "c.svg"], ["-o", "c.png"], ["--steps", "frames"], ["-o", "c.svg", "--worksheet"]]
)
def test_missing_dot_says_how_to_install_it(run, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    result = run("render", "circuit", *args, env={"PATH": str(tmp_path / "empty")})
    one_line_error(result, 2, "apt-get install graphviz", "brew install graphviz", "https://graphviz.org/download/")
    assert list(tmp_path.iterdir()) == []


def test_a_dot_that_hangs_is_stopped(run, tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nexec {shutil.which('sleep')} 30\n")  # exec: no child left holding the pipes
    fake.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    result = run("render", "circuit", "-o", "c.svg", "--timeout", "0.3", env={"PATH": str(fake.parent)})
    one_line_error(result, 2, "did not finish", "0.3 s", "--timeout")
    assert not (tmp_path / "c.svg").exists()


def test_a_dot_that_fails_is_one_line(run, tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Error: something broke' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    result = run("render", "circuit", "-o", "c.svg", env={"PATH": str(fake.parent)})
    one_line_error(result, 2, "dot failed (exit 1): Error: something broke")


# ------------------------------------------------------------ paths and usage
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "render needs -o FILE"),
        (["-o", "c.txt"], "cannot tell the format"),
        (["-o", "c.png", "--format", "svg"], "the name says png, --format says svg"),
        (["-o", "no/such/dir/c.svg"], "no such directory"),
        (["-o", "."], "is a directory"),
        (["-o", "-", "--worksheet"], "two files"),
        (["-o", "c.svg", "--collapse", "layer9"], "not a group"),
        (["-o", "c.svg", "--collapse"], "no groups"),
        (["-o", "c.svg", "--at", "nope=3"], "not a leaf"),
        (["--steps", "g.yaml"], "not a directory"),
        (["--steps", "no/such/frames"], "no such directory"),
    ],
)
def test_bad_usage_is_one_line_and_writes_nothing(run, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.yaml").write_text((GRAPHS / "circuit.yaml").read_text())
    result = run("render", "g.yaml", *args)
    one_line_error(result, 2, message)
    assert [p.name for p in tmp_path.iterdir()] == ["g.yaml"]


def test_an_evaluation_error_is_exit_3(run, graph_file, tmp_path):
    result = run("render", str(graph_file("inputs: {x: 0}\nnodes: {y: log(x)}\noutput: y\n")), "-o", "y.dot")
    one_line_error(result, 3, "y")


def test_trace_does_not_import_what_render_needs():
    code = (
        "import sys; from click.testing import CliRunner; from backprop_cli.cli import main;"
        "r = CliRunner().invoke(main, ['trace', 'circuit']); assert r.exit_code == 0;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('graphviz', 'subprocess', 'concurrent') "
        "or m.startswith('backprop_cli.outputs.') and m.rsplit('.', 1)[1] in "
        "('diagram', 'routes', 'steps', 'worksheet', 'groups', 'dot_text', 'graphviz_program')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# ------------------------------------------------------------ teaching outputs
@needs_dot
def test_steps_write_a_frame_per_gate_and_a_page(run, tmp_path):
    folder = tmp_path / "frames"
    result = run("render", "sin_fork", "--steps", str(folder))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == [
        "index.html",
        "step-0.svg",
        "step-1.svg",
        "step-2.svg",
        "step-3.svg",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["frames"]  # nothing outside DIR
    frames = [(folder / f"step-{k}.svg").read_bytes() for k in range(4)]
    first, middle, last = parse(frames[0]), parse(frames[2]), parse(frames[3])
    # frame 0: values, and only the output's gradient
    assert first.wire("x2", "a1")["texts"][0] == "3" and first.wire("x2", "a1")["texts"][1].startswith("∂ ?")
    assert first.wire("a3", "output")["texts"] == ["6.1", "∂ 1"]
    # frame 2: a2 = x1 * x2 ran; the fork at x2 has one of its two gradients
    assert "current" in middle.classes["a2"] and middle.boxes["a2"][0] == "▶ step"
    assert middle.box("x2")[-1] == "Σ∂ = ? + 2 = ?"
    assert middle.wire("x2", "a2")["texts"] == ["3", "∂ 2"] and "current" in middle.wire("x2", "a2")["class"]
    assert last.box("x2")[-1] == "Σ∂ = (-0.99) + 2 = 1.0"
    assert "Step 3 of 3: a1 = sin(x2) (scaler) sends ∂ -0.99 to x2" in last.text  # as on the wires
    sizes = {ET.fromstring(frame).get("width") for frame in frames}
    assert len(sizes) == 1  # one layout for every frame
    page = (folder / "index.html").read_text()
    assert "step-3.svg" in page and "ArrowRight" in page and "ArrowLeft" in page
    assert "http" not in page.replace("http-equiv", "")  # nothing from the network


@needs_dot
def test_steps_in_forward_mode_follow_the_forward_pass(run, tmp_path):
    result = run("render", "circuit", "--direction", "x", "--steps", str(tmp_path / "f"))
    assert result.exit_code == 0, result.stderr
    first = parse((tmp_path / "f" / "step-0.svg").read_bytes())
    assert first.wire("x", "q")["texts"] == ["-2", "ṫ 1"]
    assert first.wire("q", "f")["texts"][0].startswith("?")
    step = parse((tmp_path / "f" / "step-1.svg").read_bytes())
    assert "Step 1 of 2: q = x + y (distributor) gets value 3 and tangent ṫ 1" in step.text
    assert step.wire("q", "f")["texts"] == ["3", "ṫ 1"]


def test_steps_page_escapes_user_text(tmp_path):
    from backprop_cli.outputs.steps import index_html

    page = index_html('<script>alert("x")</script>', ["step-0.svg"], ["</script><script>alert(1)</script>"])
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "\\u003c/script>" in page


@needs_dot
def test_worksheet_and_its_answer_key(run, tmp_path):
    out = tmp_path / "sheet.svg"
    result = run("render", "circuit", "-o", str(out), "--worksheet")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sheet.key.svg", "sheet.svg"]
    sheet, key = parse(out.read_bytes()), parse((tmp_path / "sheet.key.svg").read_bytes())
    assert sheet.wire("x", "q")["texts"] == ["-2", "∂ [" + "\u00a0" * 8 + "]"]
    assert sheet.wire("f", "output")["texts"] == ["-12", "∂ 1"]  # where the student starts
    assert sheet.box("f") == ["×", "f"] and sheet.tips["f"] == "f = q * z\nswitcher"  # no factors: the answers
    assert "worksheet: fill in each" in sheet.text and "dashed" not in sheet.text  # a worksheet dashes nothing
    assert "-4" not in "".join(w["texts"][1] for ws in sheet.wires.values() for w in ws)
    assert key.wire("x", "q")["texts"] == ["-2", "∂ -4"] and "answer key" in key.text


@needs_dot
def test_worksheet_of_values(run, tmp_path):
    out = tmp_path / "values.svg"
    result = run("render", "gates", "-o", str(out), "--blank", "values")
    assert result.exit_code == 0, result.stderr
    sheet = parse(out.read_bytes())
    assert sheet.wire("x", "m")["texts"] == ["3", "∂ -8"]  # the leaves' values are given
    assert sheet.wire("m", "s")["texts"] == ["[" + "\u00a0" * 8 + "]", "∂ 2"]
    assert (tmp_path / "values.key.svg").exists()


@needs_dot
def test_dpi_sets_the_png_size(run, tmp_path):
    sizes = []
    for dpi in ("48", "96"):
        out = tmp_path / f"c{dpi}.png"
        assert run("render", "circuit", "-o", str(out), "--dpi", dpi).exit_code == 0
        sizes.append(int.from_bytes(out.read_bytes()[16:20], "big"))  # the PNG header's width
    assert sizes[1] > 1.8 * sizes[0]


def test_help_lists_the_options(run):
    result = run("render", "--help")
    assert result.exit_code == 0
    for option in (
        "--format",
        "--mode",
        "--direction",
        "--at",
        "--collapse",
        "--steps",
        "--worksheet",
        "--blank",
        "--timeout",
    ):
        assert option in result.stdout


# ------------------------------------------------------------ --check: gradcheck's verdict on each leaf
def test_check_writes_each_leafs_verdict(run, graph_file):
    result = run("render", "circuit", "--check", "--format", "dot", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("gradcheck: pass (rel") == 3  # x, y, z
    kink = graph_file("inputs: {x: [0.0, 2.0]}\nnodes:\n  L: sum(relu(x) * 3)\noutput: L\n")
    result = run("render", str(kink), "--check", "--format", "dot", "-o", "-")
    assert result.exit_code == 0 and "gradcheck: kink (rel" in result.stdout


# ------------------------------------------------------------ for a slide: digits, title, background, size, view
@needs_dot
def test_digits_title_and_background(run, tmp_path):
    default = run("render", "sigmoid_neuron", "-o", str(tmp_path / "a.svg"), "--collapse", "f")
    assert default.exit_code == 0, default.stderr
    d = parse((tmp_path / "a.svg").read_bytes())
    assert d.wire("w0", "f")["texts"] == ["2", "∂ -0.20"] and "sigmoid_neuron: The cs231n" in d.text
    exact = run("render", "sigmoid_neuron", "-o", str(tmp_path / "b.svg"), "--collapse", "f", "--digits", "4")
    assert exact.exit_code == 0 and parse((tmp_path / "b.svg").read_bytes()).wire("w0", "f")["texts"][1] == "∂ -0.1966"
    plain = run("render", "circuit", "-o", str(tmp_path / "c.svg"), "--no-title", "--no-legend")
    assert plain.exit_code == 0 and "cs231n" not in parse((tmp_path / "c.svg").read_bytes()).text
    texts = parse((tmp_path / "c.svg").read_bytes()).text.splitlines()
    assert texts[0] == "x" and "each wire" not in texts  # nothing but the drawing
    for background in ("transparent", "dark"):
        assert (
            run("render", "circuit", "-o", str(tmp_path / f"{background}.svg"), "--background", background).exit_code
            == 0
        )
    ground = ET.fromstring((tmp_path / "dark.svg").read_bytes()).find(f"{SVG}g/{SVG}polygon")
    assert ground.get("fill") == "#1e1e1e"  # the first thing drawn: the ground
    assert 'fill="white"' not in (tmp_path / "transparent.svg").read_text()  # no ground: the slide's shows
    dark = (tmp_path / "dark.svg").read_text()
    assert 'fill="#56b4e9"' in dark and 'fill="#0072b2"' not in dark  # values in a blue that reads on it
    bad = run("render", "circuit", "-o", str(tmp_path / "d.svg"), "--digits", "0")
    one_line_error(bad, 2, "--digits")


@needs_dot
def test_slide_sizes_the_drawing_to_the_slide(run, tmp_path):
    """--slide: the picture has the slide's shape (padded, the drawing whole and centred), 1280 × 720 pixels at
    --dpi 96 for 16:9, whatever the graph's own shape (a wide chain, a tall network)."""
    for example, slide, fmt, size in (
        ("two_layer", "16:9", "png", (1280, 720)),
        ("npfl114_relu", "16:9", "svg", (960, 540)),
        ("circuit", "4:3", "svg", (720, 540)),
    ):
        out = tmp_path / f"{example}.{fmt}"
        dpi = ["--dpi", "96"] if fmt == "png" else []  # --dpi with an SVG is refused: it sets no resolution there
        result = run("render", example, "-o", str(out), "--slide", slide, *dpi)
        assert result.exit_code == 0, result.stderr
        if fmt == "png":
            width, height = (int.from_bytes(out.read_bytes()[k : k + 4], "big") for k in (16, 20))
        else:
            root = ET.fromstring(out.read_bytes())
            width, height = (float(root.get(k).removesuffix("pt")) for k in ("width", "height"))
        assert abs(width - size[0]) <= 2 and abs(height - size[1]) <= 2, (example, width, height)


@needs_dot
def test_view_circuit_or_network(run, tmp_path):
    net = run("render", "npfl114_relu", "-o", str(tmp_path / "n.dot"))
    assert net.exit_code == 0 and 'class="LR network"' in (tmp_path / "n.dot").read_text()  # .dot too: as drawn
    gates = run("render", "npfl114_relu", "-o", str(tmp_path / "g.dot"), "--view", "circuit")
    assert gates.exit_code == 0 and 'class="LR"' in (tmp_path / "g.dot").read_text()
    units = run("render", "circuit", "-o", str(tmp_path / "u.svg"), "--view", "network")
    assert units.exit_code == 0 and parse((tmp_path / "u.svg").read_bytes()).box("q") == ["q", "+", "3", "∂ -4"]
    forward = run("render", "npfl114_relu", "-o", str(tmp_path / "f.svg"), "--view", "network", "--direction", "x1")
    one_line_error(forward, 2, "--view network")


@needs_dot
def test_a_network_worksheet_and_its_frames_tell_no_gradient(run, tmp_path):
    """Blank or not yet computed, a gradient is never told by a wire's dash or a number's colour."""
    out = tmp_path / "sheet.svg"
    assert run("render", "npfl114_relu", "-o", str(out), "--worksheet").exit_code == 0
    sheet = out.read_text()
    assert "stroke-dasharray" not in sheet and "dashed" not in sheet and 'fill="#8c8c8c"' not in sheet
    assert "∂ 18" not in sheet and "∂ 0" not in sheet and "∂ 1" in sheet  # only the output's own 1
    assert run("render", "npfl114_relu", "--steps", str(tmp_path / "f")).exit_code == 0
    first = (tmp_path / "f" / "step-00.svg").read_text()
    assert "stroke-dasharray" not in first and 'fill="#8c8c8c"' not in first  # nothing is known to be 0 yet
    key = parse((tmp_path / "sheet.key.svg").read_bytes())
    assert "∂ 18" in key.box("x2") and "∂ 0 · killed" in key.box("i2")
    check = tmp_path / "check.svg"
    assert run("render", "npfl114_relu", "-o", str(check), "--check").exit_code == 0
    assert parse(check.read_bytes()).box("x2")[-1].startswith("gradcheck: pass")
