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
