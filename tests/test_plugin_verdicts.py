"""Verdicts on plugin code beyond its kinks and state (issue 20): the commands that check derivatives of a student's
code check the code's own gradient against its forward, never only against itself."""

from __future__ import annotations

import json

GRAPH = "ops:\n  k: {module: m.py, forward: f, backward: b}\ninputs: {x: [1.5, -2.0]}\nnodes:\n  y: k(x)\n  L: sum(y)\n"
GRAPH += "output: L\n"


def test_hessian_checks_the_gradient_it_differentiates(run, tmp_path):
    """x³ with a backward of 2x²: the Hessian of that gradient (4x) agreed with differences of that gradient, and
    `hessian` said PASS for [6, -8] where x³'s is [9, -12]."""
    (tmp_path / "g.yaml").write_text(GRAPH)
    for slope, code in ((2, 1), (3, 0)):
        (tmp_path / "m.py").write_text(
            f"def f(x):\n    return x * x * x\n\ndef b(g, x):\n    return ({slope} * x * x * g,)\n"
        )
        result = run("hessian", str(tmp_path / "g.yaml"), "--allow-python", "--json")
        assert result.exit_code == code, result.stdout
        document = json.loads(result.stdout)
        assert document["check"]["status"] == ("fail" if code else "pass")
        if code:
            assert any("the gradient itself is wrong" in note for note in document["notes"])


def test_an_output_of_more_than_32_axes_is_refused_when_the_file_loads(run, tmp_path):
    """The checks add a batch axis to every value, and NumPy takes 64 axes at most: 40 axes is one line, exit 2."""
    (tmp_path / "g.yaml").write_text(GRAPH)
    (tmp_path / "m.py").write_text(
        "import numpy as np\n\ndef f(x):\n    return np.zeros((1,) * 40) + x.sum()\n\n"
        "def b(g, x):\n    return (np.full(x.shape, g.sum()),)\n"
    )
    result = run("gradcheck", str(tmp_path / "g.yaml"), "--allow-python")
    assert result.exit_code == 2 and "f's output has 40 axes; at most 32" in result.stderr
