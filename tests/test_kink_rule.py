"""At a kink the derivative must lie between the one-sided slopes (issue 20): a student's forward with a tiny kink at
the checked values and a backward returning 0 was KINK, passed. The rule is one place (verify/verdicts.Judge) that
every check goes through; here it is driven with generated slopes and values, then through every command that
reports kinks, with student code and with built-in ops."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backprop_cli import gradcheck, load, loads
from backprop_cli.verify.jacobian import jacobian
from backprop_cli.verify.numerical import Derivative
from backprop_cli.verify.tolerances import tolerance_for
from backprop_cli.verify.verdicts import BUILT_IN_KINKS, Judge, LeafCheck


def judged(reverse, left, right, *, gate="", jumps=False, index=True, forward=None, untrusted=False):
    """The status Judge gives one row at a kink (the stencil crossed gate, or did not fit a smooth function);
    untrusted: plugin code on the path."""
    leaf = LeafCheck("x", "input", (1,), "richardson", "full")
    judge = Judge(tolerance_for("float64"), max(abs(left), abs(right), 1.0), leaf, untrusted=untrusted)
    value = np.array([(left + right) / 2])
    numeric = Derivative(
        value, np.zeros(1), np.array([left]), np.array([right]), np.array([gate != ""]), np.zeros(1), np.array([jumps])
    )
    judge.add(
        np.array([0]) if index else None,
        np.array([reverse]),
        None if forward is None else np.array([forward]),
        numeric,
        np.array([gate], dtype=object),
    )
    return leaf.status, leaf


def test_generated_slopes_and_values_follow_the_rule():
    """With plugin code on the path, between the slopes (within the tolerance): kink; outside: fail. Either slope
    may be the larger. On a built-in path a built-in gate's kink whose slopes differ has no derivative: a kink."""
    rng = np.random.default_rng(20)
    for _ in range(400):
        left, right = rng.normal(0, 10, 2)
        low, high = min(left, right), max(left, right)
        reverse = rng.uniform(low - (high - low), high + (high - low))
        gate = str(rng.choice(["", "h"]))
        status, _ = judged(reverse, left, right, gate=gate, untrusted=True)
        assert status == ("kink" if low <= reverse <= high else "fail"), (left, right, reverse, gate)
        both = rng.uniform(low - 1, high + 1)  # forward mode is held to the same rule
        status, _ = judged(both, left, right, gate=gate, forward=both, untrusted=True)
        assert status == ("kink" if low <= both <= high else "fail"), (left, right, both)
        status, _ = judged(reverse, left, right, gate=gate)  # built-in ops only
        assert status == ("kink" if low <= reverse <= high or gate else "fail"), (left, right, reverse, gate)


def test_the_edges_hold_within_the_tolerance():
    assert judged(0.0, 0.0, 1.0, gate="h")[0] == "kink"  # relu at 0: reverse 0 is the left slope
    assert judged(1.0, 0.0, 1.0, gate="h")[0] == "kink"
    assert judged(1.0 + 1e-9, 0.0, 1.0, gate="h")[0] == "kink"  # rtol 1e-7 of 1
    assert judged(1.0 + 1e-5, 0.0, 1.0, gate="h", untrusted=True)[0] == "fail"
    assert judged(1.0 + 1e-5, 0.0, 1.0, gate="h")[0] == "kink"  # built-in ops only: no derivative, no error
    assert judged(0.0, 1.0, 1.0, gate="h")[0] == "kink"  # relu(x) - relu(-x) at 0: AD's limit, no rule wrong
    assert judged(0.0, 1.0, 1.0, gate="h", untrusted=True)[0] == "fail"  # the student's code: held to the slopes
    assert judged(0.0, 1.0, 1.0)[0] == "fail"  # no gate's kink was crossed: a wrong value
    assert judged(0.0, 2.999, 3.001)[0] == "fail"  # the finding: 0 outside [2.999, 3.001]
    assert judged(0.0, np.nan, 1.0, gate="h")[0] == "fail"  # an unknown slope confirms nothing


def test_a_jump_is_a_kink_only_where_a_built_in_op_declares_it():
    assert judged(0.0, 1e6, 1e6, gate="h", jumps=True)[0] == "kink"  # sign at 0
    assert judged(0.0, -1e6, 1e6, jumps=True)[0] == "fail"  # a spike only the student's code makes


def test_a_random_direction_outside_its_slopes_leaves_the_verdict_to_the_elements():
    """relu(a) - relu(b) at 0 along (1, -1): 0 is right for each element, yet outside the slopes along the
    direction. So a direction is never failed by the rule; it is counted, and the caller checks every element."""
    status, leaf = judged(0.0, 0.5, 0.8, gate="h", index=False)
    assert status == "kink" and leaf.unresolved == 1
    status, leaf = judged(0.6, 0.5, 0.8, gate="h", index=False)
    assert status == "kink" and leaf.unresolved == 0


# ------------------------------------------------------------------ built-in ops, through gradcheck


@pytest.mark.parametrize("mode", ["auto", "direction", "sample"])
def test_mixed_kinks_along_a_direction_are_still_kinks(mode):
    graph = loads("inputs: {x: [0.0, 0.0]}\nparams: {w: [1.0, -1.0]}\nnodes:\n  L: sum(w * relu(x))\noutput: L\n")
    report = gradcheck(graph, mode=mode, samples=1, directions=4)
    assert report.status == "kink", {n: (c.status, c.notes) for n, c in report.leaves.items()}
    assert report.leaves["x"].elements == 2
    if mode == "direction":  # the directions could not decide: every element was checked
        assert "every element checked one by one" in report.leaves["x"].notes[-1]


def test_a_reverse_value_outside_the_slopes_of_built_in_kinks_is_a_kink_that_says_so():
    """relu(x) - relu(-x) is x: its derivative at 0 is 1, and reverse mode's 0 (relu'(0) = 0 twice) is not
    between the one-sided slopes 1 and 1. No rule is wrong (each op's choice is a subgradient of that op): a
    known limit of automatic differentiation at kinks, so a kink whose finding and note say why, not a FAIL that
    blames correct rules. Found by the generated graphs: min over a max_pool2d of ties (greater(x, x))."""
    report = gradcheck(loads("inputs: {x: 0.0}\nnodes:\n  L: relu(x) - relu(-x)\noutput: L\n"))
    assert report.status == "kink"
    (finding, *_) = report.leaves["x"].findings
    assert finding.status == "kink" and (finding.left, finding.right, finding.reverse) == (1.0, 1.0, 0.0)
    assert "not between them" in finding.note and BUILT_IN_KINKS in report.leaves["x"].notes
    ties = loads(
        "inputs: {x: [[[0.3, -1.2], [0.7, 2.0], [1.1, -0.4]]]}\nparams: {w: [0.8]}\n"
        "nodes:\n  L: sum(w @ min(max_pool2d(greater(x, x), size=2, stride=1), axis=[0, 1]))\noutput: L\n"
    )
    assert gradcheck(ties, nodes=True).status == "kink"


def test_the_hessian_judges_its_kinks_by_the_same_rule():
    """relu(x)·x at 0: the gradient 2·relu(x) bends there; H = 1 (central differences) lies between 0 and 2."""
    from backprop_cli import hessian

    result = hessian(loads("inputs: {x: [0.0, 1.0]}\nnodes:\n  L: sum(relu(x) * x)\noutput: L\n"))
    assert result.status == "kink"
    (finding, *_) = result.check.findings
    assert (finding.left, finding.right, finding.reverse) == pytest.approx((0.0, 2.0, 1.0), abs=1e-6)


# ------------------------------------------------------------------ student code, through every command

GRAPH = "ops:\n  k: {module: m.py, forward: f, backward: b%s}\ninputs: {x: [1.5, -2.0, 0.7, 3.0]}\n"
GRAPH += "nodes:\n  y: k(x)\n  L: sum(y)\noutput: L\n"
KINKED = "import numpy as np\n\ndef f(x):\n    r = np.round(x * 10) / 10\n    return x * x + %s\n\n"
KINKED += "def b(g, x):\n    return (np.zeros_like(x),)\n\ndef t(dx, x):\n    return np.zeros_like(x)\n"
FORGERIES = {
    "a 1e-3 kink at the checked values": "1e-3 * np.abs(x - r)",
    "a spike at the checked values": "1e-3 * (x != r)",
    "a step at the checked values": "1e-3 * (x >= r)",
    "kinks so steep that 0 lies between their slopes": "1000 * np.abs(x - r)",
}


@pytest.fixture(params=FORGERIES, ids=list(FORGERIES))
def forged(request, tmp_path):
    (tmp_path / "m.py").write_text(KINKED % FORGERIES[request.param])
    (tmp_path / "g.yaml").write_text(GRAPH % ", jvp: t")
    return tmp_path / "g.yaml"


def test_a_forged_kink_fails_gradcheck_in_every_mode(forged):
    graph = load(forged, allow_python=True)
    for options in ({}, {"mode": "direction"}, {"mode": "sample", "samples": 1}, {"order": 2}):
        report = gradcheck(graph, **options)
        assert report.status == "fail", (options, {n: c.status for n, c in report.leaves.items()})


def test_a_forged_kink_fails_jacobian_and_render_check(forged, run):
    assert jacobian(load(forged, allow_python=True), of="y", wrt="x").status == "fail"
    result = run("jacobian", str(forged), "--of", "y", "--allow-python", "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["check"]["status"] == "fail"
    result = run("render", str(forged), "--check", "--allow-python", "--format", "dot", "-o", "-")
    assert "gradcheck: fail" in result.stdout and "gradcheck: kink" not in result.stdout


def test_an_honest_student_relu_at_0_is_a_kink_and_a_wrong_one_fails(tmp_path):
    values = "[0.0, 1.0, -1.0, 0.0]"
    relu = "import numpy as np\n\ndef f(x):\n    return np.maximum(x, 0)\n\ndef b(g, x):\n    return (g * %s,)\n"
    for name, slope, status in (("honest", "(x > 0)", "kink"), ("wrong", "((x > 0) + 2 * (x == 0))", "fail")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "m.py").write_text(relu % slope)
        (tmp_path / name / "g.yaml").write_text((GRAPH % "").replace("[1.5, -2.0, 0.7, 3.0]", values))
        graph = load(tmp_path / name / "g.yaml", allow_python=True)
        for options in ({}, {"mode": "direction"}):
            assert gradcheck(graph, **options).status == status, (name, options)


def test_a_wrong_backward_behind_a_built_in_kink_fails_beside_it(tmp_path):
    """relu(k(x)) where the student's k is 0 at the checked values: relu'(0) = 0 hides k's backward (any value
    times 0 lies between relu's slopes). Beside the kink, where relu passes the gradient, the 5 of k's
    backward meets the numerical 1."""
    (tmp_path / "m.py").write_text(
        "import numpy as np\n\ndef f(x):\n    return x - 1\n\ndef b(g, x):\n    return (5 * g,)\n"
    )
    (tmp_path / "g.yaml").write_text(
        "ops:\n  k: {module: m.py, forward: f, backward: b}\ninputs: {x: [1.0, 1.0, 1.0]}\n"
        "nodes:\n  h: relu(k(x))\n  L: sum(h * h + h)\noutput: L\n"
    )
    report = gradcheck(load(tmp_path / "g.yaml", allow_python=True))
    assert report.status == "fail"
    assert any("half a step beside its kink" in f.note for f in report.leaves["x"].findings)
