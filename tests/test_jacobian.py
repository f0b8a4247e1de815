"""`backprop jacobian`: the full Jacobian, against closed forms, torch.autograd.functional.jacobian and
finite differences; both modes agree; the check catches a wrong rule."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import backprop_cli
from backprop_cli.ops import OPS
from backprop_cli.verify.jacobian import jacobian

RELU_LAYER = """
inputs: {h0: [1.0, -2.0, 0.5]}
params: {W: [[0.3, -0.2, 0.1], [-0.5, 0.4, 0.2], [0.7, 0.1, -0.3], [0.2, 0.6, 0.9]]}
nodes:
  a: W @ h0
  h1: relu(a)
  L: 0.5 * sum(h1 ** 2)
output: L
"""
W = np.array([[0.3, -0.2, 0.1], [-0.5, 0.4, 0.2], [0.7, 0.1, -0.3], [0.2, 0.6, 0.9]])
H0 = np.array([1.0, -2.0, 0.5])

SMOOTH = """
inputs: {x: [[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]]}
params: {w: [[0.3, -0.7], [1.1, 0.4], [-0.2, 0.9]]}
nodes:
  z: softmax(tanh(x @ w) * 2, axis=1)
output: z
"""


def test_relu_layer_is_diagonal_as_the_lecture_says():
    """CS 4803/7643: the full Jacobian of a ReLU layer is diagonal: 1 where the input is positive."""
    result = jacobian(backprop_cli.loads(RELU_LAYER), "h1", "a")
    a = W @ H0
    np.testing.assert_array_equal(result.array, np.diag((a > 0).astype(float)))
    assert result.nonzeros == int((a > 0).sum()) and result.status == "pass"


def test_linear_layer_wrt_w_is_the_sparse_tensor():
    """dh_i/dW is h0ᵀ in row i, zero elsewhere: the lecture's sparse Jacobian tensor."""
    result = jacobian(backprop_cli.loads(RELU_LAYER), "a", "W")
    expected = np.zeros((4, 4, 3))
    for i in range(4):
        expected[i, i] = H0
    assert result.shape == (4, 4, 3)
    np.testing.assert_array_equal(result.array, expected)
    assert result.nonzeros == 12


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_both_modes_match_torch(mode):
    torch = pytest.importorskip("torch")
    graph = backprop_cli.loads(SMOOTH)
    x = torch.tensor(graph.leaf_values["x"])
    w = torch.tensor(graph.leaf_values["w"])
    theirs = torch.autograd.functional.jacobian(lambda w: torch.softmax(torch.tanh(x @ w) * 2, dim=1), w).numpy()
    result = jacobian(graph, None, "w", mode)
    assert result.mode == mode and result.passes == (4 if mode == "reverse" else 6)  # z is 2×2, w 3×2
    np.testing.assert_allclose(result.array, theirs, rtol=1e-12, atol=1e-15)
    assert result.status == "pass" and result.check.method == "complex"


def test_auto_takes_fewer_passes():
    assert jacobian(backprop_cli.loads(SMOOTH), "z", "x").mode == "reverse"  # 4 outputs, 6 inputs
    assert jacobian(backprop_cli.loads(RELU_LAYER), "h1", "a").mode == "forward"  # 4 and 4: the batched mode
    wide = backprop_cli.loads("inputs: {x: [1.0, 2.0, 3.0, 4.0]}\nnodes:\n  s: sum(x ** 3)\noutput: s\n")
    result = jacobian(wide, None, "x")
    assert (result.mode, result.passes) == ("reverse", 1)
    np.testing.assert_allclose(result.array, 3 * np.array([1.0, 2.0, 3.0, 4.0]) ** 2)


def test_a_wrong_forward_rule_fails_the_check(monkeypatch):
    """An injected error in tanh's forward rule: forward mode computes a wrong Jacobian; the check says so."""
    from dataclasses import replace

    bad = replace(OPS["tanh"], jvp=(lambda t, out, x: t * (1 - out**2) * 1.001,))
    monkeypatch.setitem(OPS, "tanh", bad)
    result = jacobian(backprop_cli.loads(SMOOTH), None, "w", "forward")
    assert result.status == "fail" and result.check.failures > 0


def test_cli_prints_labels_and_json_has_the_documented_fields(run, graph_file, tmp_path):
    path = str(graph_file(RELU_LAYER))
    result = run("jacobian", path, "--of", "h1", "--wrt", "a")
    assert result.exit_code == 0, result.stderr
    assert "h1[0]" in result.stdout and "a[3]" in result.stdout and "PASS" in result.stdout
    obj = json.loads(run("jacobian", path, "--of", "a", "--wrt", "W", "--json").stdout)
    assert obj["schema"] == "backprop.jacobian" and obj["version"] == 1
    assert (obj["of"], obj["wrt"], obj["shape"], obj["nonzeros"]) == ("a", "W", [4, 4, 3], 12)
    assert np.shape(obj["jacobian"]) == (4, 4, 3) and obj["check"]["passed"]
    out = tmp_path / "j.svg"
    assert run("jacobian", path, "--of", "h1", "--wrt", "a", "-o", str(out)).exit_code == 0
    svg = ET.parse(out).getroot()
    cells = [
        e
        for e in svg.iter("{http://www.w3.org/2000/svg}rect")
        if e.find("{http://www.w3.org/2000/svg}title") is not None
    ]
    assert len(cells) == int((W @ H0 > 0).sum())  # one square per nonzero: the diagonal


def test_output_is_the_default_of_and_bad_names_are_usage_errors(run, graph_file):
    path = str(graph_file(RELU_LAYER))
    obj = json.loads(run("jacobian", path, "--wrt", "h0", "--json").stdout)
    assert obj["of"] == "L" and obj["shape"] == [3]
    for args, words in (
        (["--of", "nope"], "'nope' is not a node of the graph"),
        (["--wrt", "hh0"], "did you mean 'h0'"),
        (["-o", "x.gif"], "cannot tell the format"),  # .txt, .json, .md, .tex, .svg, .png: the formats
    ):
        result = run("jacobian", path, *args)
        assert result.exit_code == 2 and words in result.stderr


def test_a_node_that_does_not_depend_on_the_leaf_has_a_zero_jacobian():
    graph = backprop_cli.loads("inputs: {x: [1.0, 2.0], y: 3.0}\nnodes:\n  a: x * 2\n  f: sum(a) * y\noutput: f\n")
    result = jacobian(graph, "a", "y")
    assert result.nonzeros == 0 and result.shape == (2,) and result.notes


def test_bundled_relu_jacobian_example_is_diagonal_where_units_live(run):
    graph = backprop_cli.load("relu_jacobian")
    a = graph.leaf_values["W"] @ graph.leaf_values["x"]
    obj = json.loads(run("jacobian", "relu_jacobian", "--of", "h", "--wrt", "a", "--json").stdout)
    np.testing.assert_array_equal(obj["jacobian"], np.diag((a > 0).astype(float)))
    assert 0 < obj["nonzeros"] < 8  # some units dead, some alive: the lecture's picture


def test_bundled_zigzag_example_has_condition_number_50_and_sgd_zigzags(run):
    obj = json.loads(run("hessian", "zigzag", "--json").stdout)
    np.testing.assert_allclose(obj["hessian"], [[1, 0], [0, 50]], rtol=1e-15)
    np.testing.assert_allclose(obj["condition_number"], 50, rtol=1e-12)
    from backprop_cli.training.loop import train
    from backprop_cli.training.optimizers import make_optimizer

    path = train(backprop_cli.load("zigzag"), make_optimizer("sgd", lr=0.038), 10).path
    ys = [p[1] for p in path]
    assert all(a * b < 0 for a, b in zip(ys, ys[1:], strict=False))  # y flips sign every step: the zig-zag
    np.testing.assert_allclose(ys[1:], [1.0 * (1 - 50 * 0.038) ** t for t in range(1, 11)], rtol=1e-12)


def test_a_big_heat_map_embeds_one_pixel_per_entry(tmp_path):
    import base64
    import re

    from backprop_cli.outputs.matrices import heatmap_svg

    matrix = np.kron(np.eye(30), np.ones((10, 10)))  # 300×300 blocks: too many squares for an SVG
    matrix[0, 1] = -1
    svg = heatmap_svg(matrix, [str(i) for i in range(300)], [str(i) for i in range(300)], "blocks").decode()
    ET.fromstring(svg)  # well-formed
    png = base64.b64decode(re.search(r"base64,([^\"]+)", svg).group(1))
    pil = pytest.importorskip("PIL.Image")
    import io

    image = np.asarray(pil.open(io.BytesIO(png)).convert("RGB"))
    assert image.shape == (300, 300, 3)
    assert tuple(image[0, 0]) == (255, 0, 0) and tuple(image[0, 1]) == (0, 0, 255)  # +1 red, -1 blue
    assert tuple(image[0, 10]) == (255, 255, 255)  # zero: white, off the block


@pytest.mark.parametrize(
    "args", [("jacobian", "relu_jacobian"), ("hessian", "conv_small", "--no-check")]
)  # the display, not the check
def test_on_an_80_column_terminal_the_matrix_fits_and_shows_the_true_corners(run, args):
    """dh/dW of relu_jacobian printed 12 corner columns, 109 wide: an 80-column terminal wrapped every row. On a
    terminal, fewer corner columns are shown until the rows fit; each shown entry is still the computed one
    (JSON as the oracle) and piped output keeps its 12 columns."""
    matrix = np.asarray(json.loads(run(*args, "--json").stdout)["jacobian" if args[0] == "jacobian" else "hessian"])
    matrix = matrix.reshape(matrix.shape[0], -1)
    shown = run(*args, env={"TTY_COMPATIBLE": "1", "COLUMNS": "80"}).stdout.splitlines()
    piped = run(*args, env={"TTY_COMPATIBLE": "0", "COLUMNS": "80"}).stdout.splitlines()
    rows = [line for line in shown if line.split(" ", 1)[0].endswith("]")]
    assert rows and all(len(line) <= 80 for line in [shown[1], *rows])
    assert max(len(line) for line in piped[1:3]) > 80 and piped[1].count("[") == 12
    header = shown[1].split()
    cut = header.index("…")
    columns = [*range(cut), *range(matrix.shape[1] - (len(header) - cut - 1), matrix.shape[1])]
    for i, line in enumerate(rows[:3]):
        cells = [c for c in line.split()[1:] if c != "…"]
        expected = [0.0 if c == "." else float(c) for c in cells]
        np.testing.assert_allclose(expected, matrix[i, columns], rtol=1e-5)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_an_infinite_entry_is_exit_3_naming_the_node_in_either_mode(run, graph_file, mode):
    """sqrt at 0: forward mode made an inf entry and PASS with NaN errors while reverse mode was exit 3 (issue 20)."""
    path = graph_file("inputs: {x: [0.0, 1.0]}\nnodes:\n  y: sqrt(x)\noutput: y\n")
    result = run("jacobian", str(path), "--mode", mode)
    assert result.exit_code == 3 and "y = sqrt(x)" in result.stderr and " is inf" in result.stderr, result.stderr
