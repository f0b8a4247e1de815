"""Plugin ops (issue 3): a student's layers.py checked by gradcheck. Correct code passes; classic student
bugs fail with a verdict naming the op; broken code never gives a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_cli import load
from backprop_cli.cli import main
from backprop_cli.errors import GraphFileError
from backprop_cli.verify import gradcheck

PLUGINS = Path(__file__).parent / "plugins"
AFFINE = (
    "affine: {module: layers.py, forward: affine_forward, backward: affine_backward, jvp: affine_jvp, gate: switcher}"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(PLUGINS / "layers.py", tmp_path / "layers.py")
    return tmp_path


def variant(folder: Path, old: str, new: str) -> Path:
    path = folder / "net.yaml"
    text = (PLUGINS / "net.yaml").read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def run(*args: str):
    return CliRunner().invoke(main, ["gradcheck", *args, "--allow-python"])


def test_the_students_correct_layers_pass_in_both_modes():
    report = gradcheck(load(PLUGINS / "net.yaml", allow_python=True))
    assert report.status == "pass"
    assert set(report.leaves) == {"x", "w1", "b1", "w2", "b2"} and "labels" in report.skipped["y"]
    assert all(c.elements == c.shape[0] * (c.shape[1] if len(c.shape) > 1 else 1) for c in report.leaves.values())


@pytest.mark.parametrize(
    "bug, leaf",
    [
        ("affine_backward_no_transpose", "w1"),  # dW without the transpose
        ("affine_backward_bias_mean", "b1"),  # db averaged over the batch instead of summed
    ],
)
def test_classic_bugs_in_a_backward_fail_at_the_wrong_leaf(folder, bug, leaf):
    path = variant(folder, "backward: affine_backward, jvp: affine_jvp", f"backward: {bug}")
    result = run(str(path), "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["passed"] is False and report["leaves"][leaf]["status"] == "fail"
    assert report["leaves"][leaf]["worst_index"] is not None


def test_relu_mask_on_the_wrong_side_fails(folder):
    path = variant(folder, "backward: relu_backward,", "backward: relu_backward_wrong_side,")
    report = gradcheck(load(path, allow_python=True))
    assert report.leaves["x"].status == "fail" and report.leaves["w1"].status == "fail"
    assert report.leaves["w2"].status == "pass"  # the ReLU is not on w2's path


def test_sigma_prime_from_x_instead_of_sigma_fails(folder):
    path = folder / "s.yaml"
    path.write_text(
        "ops:\n  sig: {module: layers.py, forward: sigmoid_forward, backward: sigmoid_backward_from_x}\n"
        "inputs: {x: [0.5, -1.0, 2.0]}\nnodes:\n  L: sum(sig(x))\noutput: L\n"
    )
    assert gradcheck(load(path, allow_python=True)).leaves["x"].status == "fail"
    path.write_text(path.read_text().replace("sigmoid_backward_from_x", "sigmoid_backward"))
    assert gradcheck(load(path, allow_python=True)).status == "pass"


@pytest.mark.parametrize(
    "bug, words",
    [
        ("affine_backward_bias_unsummed", "returned a gradient of shape (4, 3) for b of shape (3,)"),
        ("backward_two_of_three", "returned 2 gradients for 3 inputs (x, w, b)"),
        ("backward_raises", "backward_raises raised ValueError: shapes (4,3) and (2,3) not aligned"),
    ],
)
def test_a_broken_backward_is_a_verdict_naming_the_op_not_a_traceback(folder, bug, words):
    path = variant(folder, "backward: affine_backward, jvp: affine_jvp", f"backward: {bug}")
    result = run(str(path))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"op affine: {bug}" in result.output and words in result.output
    assert result.output.strip().splitlines()[-1].startswith("FAIL")


def test_a_forward_that_raises_is_an_evaluation_error_naming_the_op(folder):
    (folder / "bad.py").write_text("def f(x):\n    raise RuntimeError('oops')\n\ndef b(g, x):\n    return g\n")
    path = folder / "g.yaml"
    path.write_text(
        "ops:\n  mine: {module: bad.py, forward: f, backward: b}\ninputs: {x: 1}\nnodes: {y: mine(x)}\noutput: y\n"
    )
    result = run(str(path))
    assert result.exit_code == 2, result.output  # found while inferring shapes, before anything runs
    assert "op mine: f raised RuntimeError: oops" in result.output


def test_cs231n_cache_style_layers_work(folder):
    path = variant(
        folder,
        AFFINE,
        "affine: {module: layers.py, forward: affine_forward_cached, backward: affine_backward_cached, cache: true}",
    )
    assert gradcheck(load(path, allow_python=True)).status == "pass"


def test_keyword_arguments_come_from_the_forward_functions_defaults(folder):
    path = folder / "k.yaml"
    path.write_text(
        "ops:\n  scale: {module: layers.py, forward: scale_forward, backward: scale_backward}\n"
        "inputs: {x: [1.0, 2.0]}\nnodes:\n  y: scale(x, factor=3.0)\n  L: sum(y * y)\noutput: L\n"
    )
    graph = load(path, allow_python=True)
    assert graph.forward()["L"] == pytest.approx(45.0)
    assert gradcheck(graph).status == "pass"
    path.write_text(path.read_text().replace("factor=3.0", "size=3"))
    with pytest.raises(GraphFileError, match="takes no keyword argument 'size'"):
        load(path, allow_python=True)


def test_without_allow_python_nothing_is_imported(folder):
    (folder / "evil.py").write_text(f"open({str(folder / 'ran')!r}, 'w').close()\n")
    path = folder / "g.yaml"
    path.write_text(
        "ops:\n  e: {module: evil.py, forward: f, backward: b}\ninputs: {x: 1}\nnodes: {y: e(x)}\noutput: y\n"
    )
    result = CliRunner().invoke(main, ["gradcheck", str(path)])
    assert result.exit_code == 2 and "--allow-python" in result.output
    assert not (folder / "ran").exists()


@pytest.mark.parametrize(
    "entry, words",
    [
        ("{module: ../layers.py, forward: f, backward: b}", "outside the graph file's folder"),
        ("{module: nothere.py, forward: f, backward: b}", "no such Python file"),
        ("{module: layers.py, forward: affine_forwrd, backward: affine_backward}", "did you mean 'affine_forward'"),
        ("{module: layers.py, forward: affine_forward}", "missing 'backward'"),
        (
            "{module: layers.py, forward: affine_forward, backward: affine_backward, colour: red}",
            "unknown key 'colour'",
        ),
        (
            "{module: layers.py, forward: affine_forward, backward: affine_backward, gate: blender}",
            "gate must be one of",
        ),
    ],
)
def test_bad_plugin_entries_are_one_line_errors_with_a_position(folder, entry, words):
    sub = folder / "sub"
    sub.mkdir()
    shutil.copy(folder / "layers.py", sub / "layers.py")
    path = sub / "g.yaml"
    path.write_text(f"ops:\n  mine: {entry}\ninputs: {{x: 1}}\nnodes: {{y: mine(x)}}\noutput: y\n")
    result = run(str(path))
    assert result.exit_code == 2, result.output
    assert words in result.output and f"{path}:2:" in result.output


def test_a_plugin_may_not_replace_a_built_in_op(folder):
    path = folder / "g.yaml"
    path.write_text(
        "ops:\n  relu: {module: layers.py, forward: relu_forward, backward: relu_backward}\n"
        "inputs: {x: 1}\nnodes: {y: relu(x)}\noutput: y\n"
    )
    result = run(str(path))
    assert result.exit_code == 2 and "built-in op" in result.output


def test_a_plugin_kink_is_found_numerically(folder):
    """A plugin's kinks are unknown to the op table: a stencil that does not fit a smooth function is a kink."""
    path = folder / "r.yaml"
    path.write_text(
        "ops:\n  r: {module: layers.py, forward: relu_forward, backward: relu_backward}\n"
        "inputs: {x: [0.0, 1.5]}\nnodes:\n  L: sum(r(x) * 3)\noutput: L\n"
    )
    report = gradcheck(load(path, allow_python=True))
    assert report.status == "kink", report.leaves["x"].findings
    (finding,) = [f for f in report.leaves["x"].findings if f.index == (0,)]
    assert finding.status == "kink" and "not smooth" in finding.note


def test_a_plugin_kink_where_the_difference_agrees_is_a_kink_and_beside_it_the_backward_is_checked(folder):
    """3·|x| at 0: the central difference is 0, and so is a backward returning sign(0)·k. The built-in abs reports a
    kink there (issue 14); a plugin abs, whose kinks no table names, passed; then it was a kink whatever k was
    (5: wrong off 0). Now (issue 20) the leaf is also checked beside its kinks: k = 3 is a kink, k = 5 fails."""
    plugin, built_in = folder / "p.yaml", folder / "b.yaml"
    plugin.write_text(
        "ops:\n  k: {module: ab.py, forward: f, backward: b}\ninputs: {x: [0.0, 0.0]}\n"
        "nodes:\n  L: sum(k(x))\noutput: L\n"
    )
    built_in.write_text("inputs: {x: [0.0, 0.0]}\nnodes:\n  L: sum(3 * abs(x))\noutput: L\n")
    assert gradcheck(load(built_in)).status == "kink"
    for slope, status in ((3, "kink"), (5, "fail")):
        (folder / "ab.py").write_text(
            f"import numpy as np\n\ndef f(x):\n    return 3 * np.abs(x)\n\n\ndef b(g, x):\n    return g * np.sign(x) * {slope}\n"
        )
        report = gradcheck(load(plugin, allow_python=True))
        assert report.status == status, report.leaves["x"].findings
        if status == "kink":
            assert report.leaves["x"].kinks >= 2
            assert all("not smooth" in f.note for f in report.leaves["x"].findings)
        else:
            assert any("half a step beside its kink" in f.note for f in report.leaves["x"].findings)


def test_trace_runs_plugin_ops_too(folder):
    result = CliRunner().invoke(main, ["trace", str(PLUGINS / "net.yaml"), "--allow-python", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["values"]["L"] > 0


def test_a_student_sys_exit_is_a_failure_not_a_pass(folder):
    """An autograder must not be gamed: sys.exit(0) inside the student's backward is a failing verdict."""
    (folder / "sneaky.py").write_text(
        "import sys\nimport numpy as np\n\ndef f(x):\n    return np.sum(x * x)\n\ndef b(g, x):\n    sys.exit(0)\n"
    )
    path = folder / "g.yaml"
    path.write_text(
        "ops:\n  k: {module: sneaky.py, forward: f, backward: b}\ninputs: {x: [1.0, 2.0]}\n"
        "nodes: {y: k(x)}\noutput: y\n"
    )
    result = run(str(path), "--json")
    assert result.exit_code == 1 and json.loads(result.output)["passed"] is False
    assert "raised SystemExit" in result.output


def test_a_plugin_op_declared_a_stopper_is_refused_not_passed(folder):
    """gate: stopper made the numerical reference hold the student's op constant, so a backward returning zeros
    passed (reverse 1 = numeric 1 for x ↦ x³ + x). The gate is refused when the file loads, before any import."""
    (folder / "cube.py").write_text(  # says when it is imported (it cannot write a file: read-only, issue 20)
        "print('IMPORTED-CUBE')\n\ndef f(x):\n    return x ** 3\n\n\ndef b(g, x):\n    return g * 0\n"
    )
    graph = "ops:\n  cube: {module: cube.py, forward: f, backward: b, gate: %s}\ninputs: {x: [1.0, 2.0]}\n"
    graph += "nodes:\n  L: sum(cube(x)) + sum(x)\noutput: L\n"
    path = folder / "g.yaml"
    path.write_text(graph % "scaler")
    result = run(str(path), "--json")
    assert result.exit_code == 1  # the zero backward is wrong: an honest gate fails it
    assert "IMPORTED-CUBE" in json.loads(result.stdout)["stdout"]
    path.write_text(graph % "stopper")
    for args in (["gradcheck", str(path), "--allow-python"], ["trace", str(path)], ["jacobian", str(path)]):
        result = CliRunner().invoke(main, [*args, "--json"])
        assert result.exit_code == 2, result.output
        error = json.loads(result.stdout)["error"]
        assert "gate stopper is not allowed for a plugin op" in error["message"] and "stop_gradient" in error["message"]
        assert (error["line"], error["column"]) == (2, 58), error
        assert "IMPORTED-CUBE" not in result.output + result.stderr, "the student's module was imported"


def test_a_weight_declared_labels_is_refused_not_skipped(folder):
    """labels: [w] took w out of gradcheck ("not differentiable (labels)") and the file passed with w's gradient
    never checked. Labels are class labels, as for cross_entropy: a weight of 0.5 is not one (exit 3)."""
    (folder / "aff.py").write_text("def f(x, w):\n    return x @ w\n\n\ndef b(g, x, w):\n    return g @ w.T, None\n")
    path = folder / "g.yaml"
    path.write_text(
        "ops:\n  aff: {module: aff.py, forward: f, backward: b, labels: [w]}\ninputs: {x: [[1.0, 2.0]]}\n"
        "params: {w: [[0.5, -1.0], [0.25, 2.0]]}\nnodes:\n  L: sum(aff(x, w))\noutput: L\n"
    )
    result = run(str(path), "--json")
    assert result.exit_code == 3, result.output
    message = json.loads(result.stdout)["error"]["message"]
    assert "labels w must be class labels (whole numbers ≥ 0), not 0.5" in message, message
    assert gradcheck(load(PLUGINS / "net.yaml", allow_python=True)).status == "pass"  # y = [0, 2, 1, 2] are labels


def test_a_plugin_op_under_stop_gradient_is_named_as_never_checked(folder):
    """stop_gradient(cube(x)) keeps the student's backward out of every check, as gate: stopper did. The graph's
    own gradient is still right (x's path through sum(x)), so the verdict stands, but the report says so."""
    (folder / "cube.py").write_text("def f(x):\n    return x ** 3\n\n\ndef b(g, x):\n    return g * 0\n")
    path = folder / "g.yaml"
    path.write_text(
        "ops:\n  cube: {module: cube.py, forward: f, backward: b}\ninputs: {x: [1.0, 2.0]}\n"
        "nodes:\n  y: stop_gradient(cube(x))\n  L: sum(y) + sum(x)\noutput: L\n"
    )
    report = json.loads(run(str(path), "--json").stdout)
    assert report["skipped"] == {
        "y.cube1": "op cube's backward is never checked here: no gradient reaches it from the output"
    }
    assert gradcheck(load(PLUGINS / "net.yaml", allow_python=True)).skipped.keys() == {"y"}  # every op checked


def test_forward_mode_through_a_plugin_without_jvp_is_refused_not_zero(folder):
    path = folder / "g.yaml"
    path.write_text(
        "ops:\n  r: {module: layers.py, forward: relu_forward, backward: relu_backward}\n"
        "inputs: {x: [1.0, 2.0]}\nnodes:\n  L: sum(r(x))\noutput: L\n"
    )
    result = CliRunner().invoke(main, ["trace", str(path), "--allow-python", "--mode", "forward", "--direction", "x"])
    assert result.exit_code == 2 and "no forward rule (jvp)" in result.output
    assert gradcheck(load(path, allow_python=True)).status == "pass"  # reverse mode is still checked


def test_a_correct_plugin_near_its_domain_edge_passes(folder):
    """Steps scale with the leaf's own size: p = 0.001 is not stepped out of log's domain."""
    (folder / "lg.py").write_text(
        "import numpy as np\n\ndef lg(p):\n    return np.log(p)\n\ndef lgb(g, p):\n    return (g / p,)\n"
    )
    path = folder / "g.yaml"
    path.write_text(
        "ops:\n  lg: {module: lg.py, forward: lg, backward: lgb}\ninputs: {p: [0.001, 0.002]}\n"
        "nodes:\n  f: sum(lg(p))\noutput: f\n"
    )
    report = gradcheck(load(path, allow_python=True))
    assert report.status == "pass" and report.leaves["p"].max_rel_error < 1e-8


@pytest.mark.parametrize(
    "signature, words",
    [
        ("def f(x, *, k):", "keyword-only parameter k needs a default"),
        ("def f(x, k=1, /):", "must be passable by keyword"),
    ],
)
def test_odd_signatures_are_refused_when_the_file_loads(folder, signature, words):
    (folder / "odd.py").write_text(f"{signature}\n    return x\n\ndef b(g, x):\n    return (g,)\n")
    path = folder / "g.yaml"
    path.write_text(
        "ops:\n  o: {module: odd.py, forward: f, backward: b}\ninputs: {x: 1.0}\nnodes: {y: o(x)}\noutput: y\n"
    )
    result = run(str(path))
    assert result.exit_code == 2 and words in result.output
