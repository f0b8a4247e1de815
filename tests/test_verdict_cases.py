"""Every crash and false verdict the generated graphs found (issue 19), as a fixed case: tests/verdict_cases/.

Each file is the smallest graph that showed it, with what went wrong in its first lines. Each must pass
gradcheck (or find a kink) with every --method (on every element and on directions alone) and every --elements, with --nodes (each method, with and without directions), --order 2 and a small sample;
jacobian with respect to each leaf must pass and hessian pass or find a kink; gradcheck --order 3 and `derivatives` along each leaf,
backwards too, pass or find a kink; and all of them at once through the CLI exit 0.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import backprop_cli
from backprop_cli.cli import main
from backprop_cli.ops import OPS
from backprop_cli.verify.check import METHODS, MODES, gradcheck
from backprop_cli.verify.derivatives import derivatives
from backprop_cli.verify.hessian import hessian, is_labels
from backprop_cli.verify.jacobian import jacobian

CASES = sorted((Path(__file__).parent / "verdict_cases").glob("*.yaml"))
# every method on element rows (full) and on directions alone, and every mode under auto: the modes' logic is the
# method's (sample and auto take full's rows, a subset or all of them), so each pair adds little
OPTIONS = [{"method": m, "mode": e} for m in METHODS for e in ("full", "direction")]
OPTIONS += [{"method": "auto", "mode": e} for e in MODES if e not in ("full", "direction")]
OPTIONS += [{"nodes": True, "method": m, "directions": d} for m in METHODS for d in (0, 3)]
OPTIONS += [{"order": 2}, {"mode": "sample", "samples": 1}, {"mode": "direction", "directions": 5}]
OPTIONS += [{"order": 2, "mode": "sample"}]


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_each_case_passes_every_check(case):
    assert case.read_text().startswith("#"), f"{case.name}: say in its first lines what went wrong"
    graph = backprop_cli.load(case)
    for options in OPTIONS:
        report = gradcheck(graph, **options)
        assert report.status in ("pass", "kink"), (options, {n: leaf.findings for n, leaf in report.leaves.items()})
        assert all(e.ok for e in report.expect), [e for e in report.expect if not e.ok]
    for leaf in (n for n in graph.leaf_values if not is_labels(graph, n)):  # (compared-only leaves have none)
        assert jacobian(graph, wrt=leaf).status == "pass", leaf
        assert jacobian(graph, wrt=leaf, mode="reverse").status == "pass", leaf
    differentiable = [n for n in graph.leaf_values if not is_labels(graph, n)]
    assert hessian(graph, differentiable).status in ("pass", "kink")  # a case may sit on kinks


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_each_case_has_its_higher_derivatives(case):
    graph = backprop_cli.load(case)
    report = gradcheck(graph, order=3)  # a scalar leaf's third derivative along +1
    assert report.status in ("pass", "kink"), {n: leaf.findings for n, leaf in report.higher_order.items()}
    for leaf in graph.leaf_values:  # and along -1 (gradcheck's random directions go either way)
        if not is_labels(graph, leaf):
            found = derivatives(graph, wrt=leaf, order=3, direction=-1.0)
            assert found.status in ("pass", "kink"), (leaf, found.check and found.check.findings)


def test_all_cases_in_one_run_exit_0():
    result = CliRunner().invoke(main, ["gradcheck", "-q", *map(str, CASES)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{len(CASES)} files: {len(CASES)} pass"


@pytest.mark.parametrize("method", ["richardson", "central"])
def test_a_wrong_rule_still_fails_where_the_differences_do_not_settle(monkeypatch, method):
    """cos(sinh(11)): differences that never settle to 1e-8 are judged within their own error (5e-4 there), not as
    kinks; a rule off by 25% is far outside it, and fails. (In float64: the case's float32 rounding, magnified by
    sinh, is larger than the 25%, and the check rightly judges float32 gradients at that size.)"""
    text = (Path(__file__).parent / "verdict_cases" / "unsettled_differences_of_cos_sinh.yaml").read_text()
    text = text.replace("dtype: float32\n", "")
    assert gradcheck(backprop_cli.loads(text), method=method).status == "pass"
    cos = OPS["cos"]
    monkeypatch.setitem(OPS, "cos", replace(cos, vjp=(lambda *args, **attrs: 1.25 * cos.vjp[0](*args, **attrs),)))
    report = gradcheck(backprop_cli.loads(text), method=method)
    assert report.status == "fail" and {"x1", "x2"} <= {n for n, leaf in report.leaves.items() if leaf.status == "fail"}


def test_the_jacobian_of_a_named_node_evaluates_each_entry_at_its_own_step():
    """tests/verdict_cases/jacobian_column_retried_at_two_steps.yaml: one column's entries retried at two steps."""
    graph = backprop_cli.load(Path(__file__).parent / "verdict_cases" / "jacobian_column_retried_at_two_steps.yaml")
    for mode in ("auto", "reverse", "forward"):
        found = jacobian(graph, of="n1", wrt="x1", mode=mode)
        assert found.status == "pass", (mode, found.check.findings)
