"""The bug in a student's backward code, named (issue 23): each classic bug tests/plugins/layers.py keeps is
recognised by name, generated bugs (sign, factor of 2, a dropped upstream gradient) on several ops are too, and
a right backward is never given a slip."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import backprop_cli
from backprop_cli.verify.grading import grade

PLUGINS = Path(__file__).parent / "plugins"
RIGHT = {"affine": "affine_backward", "relu_layer": "relu_backward"}


def _net(folder: Path, op: str, backward: str) -> Path:
    shutil.copy(PLUGINS / "layers.py", folder / "layers.py")
    text = (PLUGINS / "net.yaml").read_text().replace(f"backward: {RIGHT[op]},", f"backward: {backward},", 1)
    (folder / "net.yaml").write_text(text)
    return folder / "net.yaml"


def _slips(path: Path) -> dict[str, set[str]]:
    graph = backprop_cli.load(path, allow_python=True)
    score = grade(graph, backprop_cli.gradcheck(graph))
    return {p.name: {c.slip for c in p.checks if c.slip} for p in score.parts if p.kind == "op" and not p.passed}


@pytest.mark.parametrize(
    "op, backward, slip",
    [
        ("relu_layer", "relu_backward_wrong_side", "relu_mask"),
        ("affine", "affine_backward_bias_mean", "batch_mean"),
        ("affine", "affine_backward_no_transpose", "transpose"),
        ("affine", "affine_backward_bias_unsummed", "batch_sum"),
    ],
)
def test_each_classic_bug_of_layers_py_is_named(tmp_path, op, backward, slip):
    assert _slips(_net(tmp_path, op, backward)) == {op: {slip}}


def test_sigma_prime_from_x_is_named(tmp_path):
    shutil.copy(PLUGINS / "layers.py", tmp_path / "layers.py")
    (tmp_path / "g.yaml").write_text(
        "ops:\n  sig: {module: layers.py, forward: sigmoid_forward, backward: sigmoid_backward_from_x}\n"
        "inputs: {x: [0.5, -1.0, 2.0]}\nparams: {w: [0.3, 0.7, -0.2]}\n"
        "nodes:\n  s: sig(w * x)\n  L: sum(s * s)\noutput: L\n"
    )
    assert _slips(tmp_path / "g.yaml") == {"sig": {"sigma_of_x"}}


# generated bugs: each right backward, broken the way students break it
OPS = {  # op -> (forward, right backward) as Python source of one expression each
    "square": ("x * x", "g * 2 * x"),
    "wave": ("np.sin(x) * x", "g * (np.cos(x) * x + np.sin(x))"),
    "gram": ("x @ x.T", "(g + g.T) @ x"),
}
BREAKS = {  # slip -> how the backward is broken
    "sign": "-({})",
    "factor_2": "2 * ({})",
    "half": "0.5 * ({})",
    None: "({})",
}


def _module(forward: str, backward: str) -> str:
    return f"import numpy as np\n\ndef f(x):\n    return {forward}\n\ndef b(g, x):\n    return ({backward},)\n"


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("slip", ["sign", "factor_2", "half", "no_upstream", None])
def test_generated_bugs_are_named_and_a_right_backward_is_not(tmp_path, op, slip):
    forward, right = OPS[op]
    rng = np.random.default_rng(len(op) + 7)
    if slip == "no_upstream":
        backward = right.replace("g", "np.ones_like(g)")  # the local gradient alone
    else:
        backward = BREAKS[slip].format(right)
    (tmp_path / "m.py").write_text(_module(forward, backward))
    x = np.round(rng.uniform(0.3, 1.5, (3, 2)) * rng.choice([-1, 1], (3, 2)), 3).tolist()
    (tmp_path / "g.yaml").write_text(
        f"ops:\n  k: {{module: m.py, forward: f, backward: b}}\nparams: {{x: {x}}}\n"
        "nodes:\n  y: k(x)\n  L: sum(y * y)\noutput: L\n"
    )
    found = _slips(tmp_path / "g.yaml")
    assert found == ({} if slip is None else {"k": {slip}}), (op, slip, found)


# every branch visited: a backward wrong on one branch only, where the graph's values sit on the other
BRANCHES = {  # op -> (forward, a backward right only where the graph's values are, the right one)
    "relu": ("np.maximum(x, 0)", "g * (x > 0) + 0.5 * g * (x < 0)", "g * (x > 0)"),
    "abs": ("np.abs(x)", "g", "g * np.sign(x)"),
    "clip": ("np.clip(x, -1, 1)", "g", "g * (np.abs(x) < 1)"),
    "max": ("np.max(x, axis=1)", "(x == x[:, :1]) * g[:, None]", "(x == x.max(axis=1, keepdims=True)) * g[:, None]"),
}


@pytest.mark.parametrize("op", list(BRANCHES))
def test_a_backward_wrong_on_one_branch_cannot_pass(tmp_path, op):
    """The graph's values sit on one branch only (all positive, inside the clip bounds, the first column the
    largest): the op is checked at other points too (negated; shuffled with random signs and sizes), so the
    wrong branch is visited and the op fails; the right backward passes and the report says where it looked."""
    forward, wrong, right = BRANCHES[op]
    values = [[0.9, 0.5, 0.2], [0.8, 0.3, 0.4]]
    graph = f"ops:\n  k: {{module: m.py, forward: f, backward: b}}\nparams: {{x: {values}}}\n"
    graph += "nodes:\n  y: k(x)\n  L: sum(y * y)\noutput: L\n"
    (tmp_path / "g.yaml").write_text(graph)
    for backward, passes in ((wrong, False), (right, True)):
        (tmp_path / "m.py").write_text(_module(forward, backward))
        report = backprop_cli.gradcheck(backprop_cli.load(tmp_path / "g.yaml", allow_python=True))
        leaf = report.ops["y: x"]
        assert (leaf.status != "fail") == passes, (op, backward, leaf.findings)
        assert any("checked at 3 points" in n for n in leaf.notes)
        assert report.leaves["x"].status != "fail"  # at the graph's values alone the two cannot be told apart
