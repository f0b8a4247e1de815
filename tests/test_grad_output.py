"""The upstream gradient at a non-scalar output: trace/render --grad-output and Graph.backward(grad_output=).

Oracle: the PyTorch tutorial's vector-Jacobian product, `y.backward(v)` with v = [0.1, 1.0, 0.0001]
(torch when installed; its closed form vᵀ·J otherwise).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import backprop_cli

X = [0.3, -1.2, 2.5]
V = [0.1, 1.0, 0.0001]
# The tutorial doubles x until ‖y‖ ≥ 1000; here y = x·2^k for the k it stops at, then something nonlinear too.
GRAPH = f"""
inputs:
  x: {X}
nodes:
  y: x * 1024 + sin(x) * x
output: y
"""


def closed_form() -> np.ndarray:
    x, v = np.array(X), np.array(V)
    return v * (1024 + np.cos(x) * x + np.sin(x))  # J is diagonal: dy_i/dx_i


def torch_vjp() -> np.ndarray:
    torch = pytest.importorskip("torch")
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    y = x * 1024 + torch.sin(x) * x
    y.backward(torch.tensor(V, dtype=torch.float64))
    return x.grad.numpy()


def test_python_api_matches_the_closed_form_and_torch():
    graph = backprop_cli.loads(GRAPH)
    got = graph.backward(grad_output=V)["x"]
    np.testing.assert_allclose(got, closed_form(), rtol=1e-14)
    np.testing.assert_allclose(got, torch_vjp(), rtol=1e-14)
    # default: all ones, as before (the gradient of the sum)
    np.testing.assert_allclose(graph.backward()["x"], closed_form() / np.array(V), rtol=1e-14)


def test_trace_grad_output_json_records_it(run, graph_file):
    result = run("trace", str(graph_file(GRAPH)), "--grad-output", json.dumps(V), "--json")
    assert result.exit_code == 0, result.stderr
    obj = json.loads(result.stdout)
    assert obj["grad_output"] == V
    np.testing.assert_allclose(obj["gradients"]["x"], closed_form(), rtol=1e-14)
    plain = json.loads(run("trace", str(graph_file(GRAPH)), "--json").stdout)
    assert plain["grad_output"] == [1.0, 1.0, 1.0]


def test_a_number_fills_the_output_and_explain_says_so(run, graph_file):
    result = run("trace", str(graph_file(GRAPH)), "--grad-output", "2", "--explain")
    assert result.exit_code == 0, result.stderr
    assert "upstream gradient at y (--grad-output)" in result.stdout
    obj = json.loads(run("trace", str(graph_file(GRAPH)), "--grad-output", "2", "--json").stdout)
    np.testing.assert_allclose(obj["gradients"]["x"], 2 * closed_form() / np.array(V), rtol=1e-14)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("[1, 2]", "shape (2)"),
        ("nan", "finite"),
        ("[1, inf, 0]", "finite"),
        ("abc", "number"),
        ("[[1,2,3]]", "shape"),
        # as --at and graph files read values: true, quoted text and nothing are not numbers (true was 1, "3" was 3,
        # and an empty value said "must be finite, not NaN")
        ("true", "cannot read 'true' as a number"),
        ("[1, true, 0]", "as a number or a list of numbers"),
        ('"3"', "as a number or a list of numbers"),
        ("", "--grad-output '': the value is empty"),  # every option: an empty value is a slip (issue 20)
    ],
)
def test_bad_grad_output_is_one_line_and_exit_2(run, graph_file, value, words):
    result = run("trace", str(graph_file(GRAPH)), "--grad-output", value)
    assert result.exit_code == 2
    assert words in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_render_draws_the_given_upstream_gradient(run, graph_file, tmp_path):
    out = tmp_path / "g.dot"
    result = run("render", str(graph_file(GRAPH)), "--grad-output", json.dumps(V), "-o", str(out), "--digits", "6")
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert "102.4" in text  # dy/dx_0 ... starts from v: the x wire carries v·J, e.g. 0.1 · 1024 + ...
    assert "1e-4" in text or "0.0001" in text


def test_python_api_refuses_a_wrong_shape():
    with pytest.raises(backprop_cli.UsageError):
        backprop_cli.loads(GRAPH).backward(grad_output=[1, 2])


def test_forward_mode_alone_has_no_upstream_gradient(run, graph_file):
    path = str(graph_file(GRAPH))
    result = run("trace", path, "--direction", "x", "--grad-output", "2")
    assert result.exit_code == 2 and "--mode both" in result.stderr
    assert run("trace", path, "--direction", "x", "--mode", "both", "--grad-output", "2").exit_code == 0
