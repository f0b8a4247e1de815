"""gradcheck's scalar leaves are judged all at once (verify/verdicts.py: classify, record_passing): the same
verdicts, errors and worst elements as judging each leaf's rows one by one (Judge.record), on graphs that pass,
that cross kinks and that fail; and the issue-19 shape (sums read twice by one gate) at hundreds of leaves."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import backprop_cli
from backprop_cli.verify import gradcheck, scalars

CASES = Path(__file__).parent / "verdict_cases"
GRAPHS = {
    "sums squared": "inputs: {a: 2.0, b: 3.0, c: -1.5}\nnodes:\n  s: a + b\n  t: s * s + c * s\noutput: t\n",
    "a kink": "inputs: {a: 0.0, b: 3.0}\nnodes:\n  t: relu(a) * b + abs(a - 0.0) + b * b\noutput: t\n",
    "a size-1 matrix": "params: {v: [[0.5]], w: 2.0}\nnodes:\n  t: sum(v * w) * w\noutput: t\n",
    "tiny gradients": "inputs: {a: 1e-200, b: 1e-160}\nnodes:\n  t: a * b * 1e300 + a * a\noutput: t\n",
}
OPTIONS = [{}, {"mode": "direction"}, {"method": "richardson"}, {"directions": 0}, {"method": "central"}]


def one_by_one(leaves, *_):
    return [False] * len(leaves)


def graphs():
    yield from ((name, backprop_cli.loads(text)) for name, text in GRAPHS.items())
    yield from ((path.name, backprop_cli.load(path)) for path in sorted(CASES.glob("*.yaml")))


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
def test_judged_at_once_as_one_by_one(monkeypatch, options):
    compared = 0
    for name, graph in graphs():
        at_once = gradcheck(graph, **options)
        with monkeypatch.context() as patch:
            patch.setattr(scalars, "record_passing", one_by_one)
            alone = gradcheck(graph, **options)
        assert at_once.status == alone.status, name
        for leaf in at_once.leaves:
            assert dataclasses.asdict(at_once.leaves[leaf]) == dataclasses.asdict(alone.leaves[leaf]), (name, leaf)
            compared += 1
    assert compared > 20


def test_a_wrong_rule_still_fails_among_many_scalar_leaves(monkeypatch):
    """The fast path records only passing leaves: a wrong gradient among them is still judged and fails."""
    graph = backprop_cli.loads(_squared_sums(4, 25))
    from backprop_cli.engines import reverse_mode as engine

    right = engine.reverse_mode

    def off_by_one_leaf(*args, **kwargs):
        gradients = right(*args, **kwargs)
        gradients["x2_7"] = gradients["x2_7"] * 1.01
        return gradients

    monkeypatch.setattr("backprop_cli.verify.check.reverse_mode", off_by_one_leaf)
    report = gradcheck(graph)
    assert report.status == "fail"
    assert [name for name, leaf in report.leaves.items() if leaf.status == "fail"] == ["x2_7"]


def test_hundreds_of_scalar_leaves_in_squared_sums_pass():
    report = gradcheck(backprop_cli.loads(_squared_sums(10, 30)))
    assert report.status == "pass" and len(report.leaves) == 300


def _squared_sums(sums: int, per_sum: int) -> str:
    """t = Σ s_j * s_j with s_j the sum of its own leaves (issue 19's shape; bench/many_leaves_bench.py)."""
    lines = ["inputs:"] + [f"  x{j}_{i}: {((i * 7 + j * 3) % 11 - 5) / 4}" for j in range(sums) for i in range(per_sum)]
    lines += ["nodes:"] + [f"  s{j}: " + " + ".join(f"x{j}_{i}" for i in range(per_sum)) for j in range(sums)]
    return "\n".join([*lines, "  t: " + " + ".join(f"s{j} * s{j}" for j in range(sums)), "output: t", ""])
