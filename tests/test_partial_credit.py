"""Error carried forward on hand-derived answers, and assert_gradients for notebook graders (issue 23)."""

from __future__ import annotations

import numpy as np
import pytest

import backprop_cli
from backprop_cli.verify.grading import grade


def _chain(a: float, b: float, c: float, answers: dict[str, float]) -> str:
    """L = c·(b·(a·x)): dL/dx = dL/dv · b... each step one local gradient, the student's answers in expect."""
    shown = ", ".join(f"{k}: {float(v)!r}" for k, v in answers.items())
    return (
        f"inputs: {{x: 1.5}}\nnodes:\n  u: {a} * x\n  v: {b} * u\n  L: {c} * v\noutput: L\n"
        f"expect:\n  gradients: {{{shown}}}\n  tolerance: 0.001\n"
    )


@pytest.mark.parametrize("seed", range(6))
def test_a_step_right_given_the_students_wrong_upstream_earns_its_points(seed):
    """Generated chains: the student gets dL/dv wrong; dL/du = (their dL/dv)·b earns its point, a dL/du that
    is wrong given their dL/dv too does not; the truth is computed, never typed."""
    rng = np.random.default_rng(seed)
    a, b, c = (float(v) for v in np.round(rng.uniform(0.5, 3, 3) * rng.choice([-1, 1], 3), 2))
    wrong_v = round(float(c + rng.choice([-1, 1]) * rng.uniform(0.5, 2)), 3)  # dL/dv is c
    for du, credited in ((wrong_v * b, True), (wrong_v * b + 1.0, False), (c * b, True)):
        graph = backprop_cli.loads(_chain(a, b, c, {"v": wrong_v, "u": round(du, 6)}))
        score = grade(graph, backprop_cli.gradcheck(graph))
        parts = {p.name: p for p in score.parts if p.kind == "gradient"}
        assert not parts["v"].passed and parts["u"].passed == credited, (a, b, c, wrong_v, du)
        answer = next(e for e in backprop_cli.gradcheck(graph).expect if e.name == "u")
        if du != c * b:  # wrong in absolute terms: the steps say how it was judged
            assert (
                answer.steps[0].startswith("with your dL/dv = ")
                and ("error carried forward" in answer.steps[-1]) == credited
            )


def test_the_command_says_so_step_by_step(run, graph_file):
    path = graph_file(_chain(2.0, -3.0, 0.5, {"v": 1.0, "u": -3.0}) + "points: {expect: {gradients: {v: 2, u: 3}}}\n")
    result = run("gradcheck", str(path))
    assert result.exit_code == 1  # the verdict still says the answers are not all right
    assert "with your dL/dv = 1 (the right one is 0.5)" in result.stdout
    assert "PASS expected gradient of u (3/3, error carried forward)" in result.stdout
    assert result.stdout.strip().endswith("score 4/6 (67%): 2 of 3 parts right")  # x's gradient check: 1 point


def test_assert_gradients_returns_the_points_or_raises_with_the_explanation(tmp_path):
    assert backprop_cli.assert_gradients("circuit") == 3.0  # three leaves, a point each
    path = tmp_path / "hw.yaml"
    path.write_text(
        "inputs: {x: -2, y: 5, z: -4}\nnodes:\n  q: x + y\n  f: q * z\noutput: f\nexpect:\n  gradients: {x: 4, z: 3}\n"
    )
    with pytest.raises(AssertionError) as raised:
        backprop_cli.assert_gradients(path)
    message = str(raised.value)
    assert message.startswith("score 4/5 (80%)") and "FAIL expected gradient of x (0/1)" in message
    assert "likely slip: the sign is flipped" in message
