"""`backprop gradcheck` for scripts (issue 3): exit codes, one line per file, JSON, --quiet, and the
students' answers of an `expect:` block with the lecture's explanation of each wrong one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import backprop_cli
from backprop_cli.cli import main

ROOT = Path(__file__).resolve().parent.parent
CIRCUIT = "inputs: {x: -2, y: 5, z: -4}\nnodes:\n  q: x + y\n  f: q * z\noutput: f\n"


def gradcheck(*args: str):
    return CliRunner().invoke(main, ["gradcheck", *args])


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_passing_graph_exits_0_with_a_table_and_a_verdict_line():
    result = gradcheck("circuit")
    assert result.exit_code == 0, result.output
    assert "gradcheck circuit: PASS" in result.output
    assert result.output.strip().splitlines()[-1].startswith("PASS  circuit  3 leaves")


def test_json_is_versioned_with_per_leaf_verdicts():
    result = gradcheck("npfl114_relu", "--json")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert (report["schema"], report["version"], report["passed"], report["status"]) == (
        "backprop.gradcheck",
        1,
        True,
        "pass",
    )
    leaf = report["leaves"]["w7"]
    for key in ("status", "max_abs_error", "max_rel_error", "worst_index", "reverse", "forward", "numeric", "method"):
        assert key in leaf
    assert leaf["reverse"] == 24 and leaf["numeric"] == pytest.approx(24)


def test_quiet_is_one_line():
    result = gradcheck("circuit", "-q")
    assert result.exit_code == 0 and len(result.output.strip().splitlines()) == 1


def test_several_files_one_line_each_a_summary_and_the_largest_exit_code(tmp_path):
    bad = write(tmp_path, "bad.yaml", "nodes: {f: x +}\noutput: f\n")
    nan = write(tmp_path, "nan.yaml", "inputs: {x: 0}\nnodes: {f: log(x)}\noutput: f\n")
    kink = write(tmp_path, "kink.yaml", "inputs: {x: 0.0}\nnodes: {f: relu(x)}\noutput: f\n")
    result = gradcheck("circuit", kink)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("PASS  circuit") and lines[1].startswith(f"KINK  {kink}")
    assert lines[-1] == "2 files: 1 pass, 1 kink"
    assert gradcheck("circuit", kink, "--strict").exit_code == 1
    result = gradcheck("circuit", bad, nan)
    assert result.exit_code == 3
    assert f"ERROR  {bad}  {bad}:1:" in result.output and f"ERROR  {nan}" in result.output
    data = json.loads(gradcheck("circuit", bad, "--json").output)
    assert data["passed"] is False and [f["status"] for f in data["files"]] == ["pass", "error"]
    assert data["files"][1]["exit_code"] == 2


def test_bad_input_and_evaluation_errors_of_one_file_are_one_line_with_the_documented_code(tmp_path):
    result = gradcheck(write(tmp_path, "g.yaml", "nodes: {f: x +}\noutput: f\n"))
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert gradcheck(write(tmp_path, "n.yaml", "inputs: {x: 0}\nnodes: {f: log(x)}\noutput: f\n")).exit_code == 3
    assert gradcheck("circuit", "--wrt", "nope").exit_code == 2


# ------------------------------------------------------------------ students' answers


def test_right_answers_pass_and_rounded_ones_within_the_tolerance_too(tmp_path):
    text = CIRCUIT + "expect:\n  values: {q: 3, f: -12}\n  gradients: {x: -4, y: -4, z: 3}\n"
    assert gradcheck(write(tmp_path, "g.yaml", text)).exit_code == 0
    neuron = (ROOT / "graphs" / "sigmoid_neuron.yaml").read_text()
    rounded = neuron + "expect:\n  values: {f: 0.73}\n  gradients: {w0: -0.20, x0: 0.39, w2: 0.2}\n"
    assert gradcheck(write(tmp_path, "n.yaml", rounded)).exit_code == 0
    assert gradcheck(write(tmp_path, "t.yaml", rounded + "  tolerance: 0.001\n")).exit_code == 1


@pytest.mark.parametrize(
    "graph, answer, slip, why",
    [
        ("circuit", "x: 4", "sign", "df/dx = df/dq · ∂q/∂x = -4 · 1 = -4"),
        ("circuit", "z: -4", "switch", "df/dz = df/df · ∂f/∂z = 1 · q = 1 · 3 = 3"),
        ("sin_fork", "x2: 2", "fork", "= 1 · cos x2 + 1 · x1 = 1 · -0.989992 + 1 · 2 = 1.01001"),
        ("npfl114_relu", "w3: 18", "dead_relu", "dL/dw3 = dL/di2 · ∂i2/∂w3 = 0 · x1 = 0 · 1 = 0"),
        ("npfl114_relu", "w7: 6", "no_local", "dL/dw7 = dL/do · ∂o/∂w7 = 6 · h1 = 6 · 4 = 24"),
        ("sigmoid_chain", "a1: 0.0125", None, "dL/da1 = dL/df1 · ∂f1/∂a1"),
    ],
)
def test_a_wrong_answer_is_explained_in_the_lectures_terms(tmp_path, graph, answer, slip, why):
    text = (ROOT / "graphs" / f"{graph}.yaml").read_text() + f"expect:\n  gradients: {{{answer}}}\n"
    result = gradcheck(write(tmp_path, "g.yaml", text), "--json")
    assert result.exit_code == 1, result.output
    (item,) = json.loads(result.output)["expect"]
    assert item["ok"] is False and item["slip"] == slip and why in item["why"], item


def test_sigma_prime_from_x_is_recognised(tmp_path):
    text = "inputs: {x: 0.5}\nnodes:\n  s: sigmoid(x)\n  L: 2 * s\noutput: L\n"
    wrong = 2 * 0.5 * (1 - 0.5)  # x(1 - x) instead of σ(x)(1 - σ(x))
    result = gradcheck(write(tmp_path, "g.yaml", text + f"expect:\n  gradients: {{x: {wrong}}}\n"), "--json")
    assert json.loads(result.output)["expect"][0]["slip"] == "sigma_of_x"


def test_tanh_slope_from_x_is_the_same_slip(tmp_path):
    """Any gate whose slope is written with its output (Op.slope_from_output), not only sigmoid."""
    text = "inputs: {x: 0.5}\nnodes:\n  t: tanh(x)\n  L: 3 * t\noutput: L\n"
    wrong = 3 * (1 - 0.5**2)  # 1 - x² instead of 1 - tanh²(x)
    result = gradcheck(write(tmp_path, "g.yaml", text + f"expect:\n  gradients: {{x: {wrong}}}\n"), "--json")
    (item,) = json.loads(result.output)["expect"]
    assert item["slip"] == "sigma_of_x" and "from the input (x)" in item["hint"], item


def test_tensor_slips_transpose_and_batch_sum(tmp_path):
    text = (
        "inputs: {x: [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]}\nparams: {w: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], "
        "b: [0.1, 0.2, 0.3]}\nnodes:\n  L: sum((x @ w + b) ** 2)\noutput: L\n"
    )
    graph = backprop_cli.loads(text)
    g = graph.backward()
    upstream = 2 * (graph.forward()["L.add1"])
    answers = {"w": g["w"].T.tolist(), "b": upstream.tolist()}
    result = gradcheck(write(tmp_path, "g.yaml", text + f"expect:\n  gradients: {json.dumps(answers)}\n"), "--json")
    slips = {e["name"]: e["slip"] for e in json.loads(result.output)["expect"]}
    assert slips == {"w": "transpose", "b": "batch_sum"}


def test_the_human_output_shows_what_is_right_and_the_likely_slip(tmp_path):
    text = CIRCUIT + "expect:\n  values: {q: 3}\n  gradients: {x: 4}\n"
    result = gradcheck(write(tmp_path, "g.yaml", text))
    assert result.exit_code == 1
    assert "✓ expected q = 3" in result.output
    assert "✗ expected gradient of x = 4, but it is -4" in result.output
    assert "likely slip: the sign is flipped" in result.output
    assert "1/2 expected answers right" in result.output


@pytest.mark.parametrize(
    "block, words, where",
    [
        (
            "expect:\n  gradients: {xx: 1}\n",
            "expect gradients: 'xx' is not a leaf or node of the graph; did you mean 'x'",
            "7:15",
        ),
        ("expect:\n  valuez: {x: 1}\n", "unknown key 'valuez' in expect; did you mean 'values'", "7:3"),
        ("expect:\n  values: {q: [1, [2]]}\n", "must be a number or a list of numbers", "7:15"),
        ("expect:\n  tolerance: -1\n", "tolerance must be a number between 0 and 1", "7:14"),
        # A tolerance of 1 or more makes 0 right for every name (.inf: every answer): a student could forge a pass.
        ("expect:\n  gradients: {x: 0}\n  tolerance: 1\n", "0 would be a right answer for every name", "8:14"),
        ("expect:\n  gradients: {x: 99}\n  tolerance: .inf\n", "tolerance must be a number between 0 and 1", "8:14"),
        ("expect:\n  gradients: {x: 99}\n  tolerance: 1e300\n", "tolerance must be a number between 0 and 1", "8:14"),
    ],
)
def test_a_malformed_expect_block_is_bad_input_with_a_position(tmp_path, block, words, where):
    path = write(tmp_path, "g.yaml", CIRCUIT + block)
    result = gradcheck(path)
    assert result.exit_code == 2 and words in result.output and f"{path}:{where}" in result.output, result.output


def test_python_api():
    report = backprop_cli.gradcheck(backprop_cli.load("circuit"))
    assert report.passed and report.leaves["z"].status == "pass"


def test_a_nan_reference_is_not_summed_up_as_a_perfect_match(tmp_path):
    """log(w) at w = 1e-6 with --eps 1: every retried step leaves log's domain, the reference is NaN. The verdict
    line said "max rel error 0.0e+00, 1 failing: w (rel nan at w[1])" (w[1] was fine); it now says what happened."""
    path = write(tmp_path, "g.yaml", "params: {w: [0.000001, 1.0]}\nnodes:\n  L: sum(log(w))\noutput: L\n")
    result = gradcheck(path, "--eps", "1", "--method", "central", "-q")
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert "max rel error nan" in line and "the numerical reference is NaN" in line and "0.0e+00" not in line, line
