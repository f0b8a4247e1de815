"""`backprop trace` through click's CliRunner: exit codes, tables, explanations, JSON, Markdown."""

from __future__ import annotations

import json

NPFL_LIKE = """
name: relu_net
about: a two-unit ReLU layer with a fork at x2
inputs: {x1: 1, x2: 2, gold: 0}
params: {w1: 1, w2: 1, w3: -1, w4: -1, w7: 2, w8: 3}
nodes:
  i1: w1 * x1 + w2 * x2
  i2: w3 * x1 + w4 * x2
  h1: relu(i1)
  h2: relu(i2)
  o: w7 * h1 + w8 * h2
  L: (o - gold) ** 2
output: L
"""


def test_trace_circuit_by_name(run):
    result = run("trace", "circuit")
    assert result.exit_code == 0
    for text in ("q", "x + y", "distributor", "switcher", "-12"):
        assert text in result.stdout


def test_explain_says_the_chain_rule_in_numbers(run, graph_file):
    result = run("trace", str(graph_file(NPFL_LIKE)), "--explain")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    # o = 2*3 + 3*0 = 6, dL/do = 2*6 = 12; dL/dw7 = 12 * h1 = 12 * 3 = 36
    assert "dL/dw7 = dL/do.mul1 · ∂o.mul1/∂w7 = 12 · h1 = 12 · 3 = 36" in out
    assert "relu kills the gradient" in out
    assert "dL/dx2 = 0 + 24 = 24   (gradients from 2 paths add at the fork x2)" in out
    assert "⇒ dL/dw7 = dL/do · ∂o/∂w7 = 12 · h1 = 12 · 3 = 36" in out


def test_json_has_the_documented_fields(run, graph_file):
    result = run("trace", str(graph_file(NPFL_LIKE)), "--json")
    assert result.exit_code == 0
    obj = json.loads(result.stdout)
    assert obj["schema"] == "backprop.trace" and obj["version"] == 2  # 2: null where no gradient exists (issue 23)
    assert obj["output"] == "L"
    assert obj["values"]["o"] == 6.0
    assert obj["gradients"]["w7"] == 36.0 and obj["gradients"]["w8"] == 0.0
    assert "tangents" not in obj
    names = [n["name"] for n in obj["nodes"]]
    assert names.index("i1") < names.index("h1") < names.index("o") < names.index("L")


def test_forward_mode_along_an_element_and_both_modes(run, graph_file):
    path = graph_file(
        "inputs: {x: [[1, 2], [3, 4]]}\nparams: {w: [[0.5], [-1]]}\nnodes:\n  s: sum(tanh(x @ w))\noutput: s\n"
    )
    forward = json.loads(run("trace", str(path), "--direction", "x[1,0]", "--json").stdout)
    both = json.loads(run("trace", str(path), "--mode", "both", "--direction", "x[1,0]", "--json").stdout)
    assert forward["mode"] == "forward" and forward["wrt"] == "x[1,0]"
    assert forward["tangents"]["s"] == both["gradients"]["x"][1][0]


def test_at_overrides_a_leaf(run, graph_file):
    result = run("trace", "circuit", "--at", "x=3", "--json")
    obj = json.loads(result.stdout)
    assert obj["values"]["f"] == (3 + 5) * -4


def test_markdown_for_write_ups(run):
    result = run("trace", "circuit", "--format", "markdown", "--explain")
    assert result.exit_code == 0
    assert "| q | add (distributor) | x + y | 3 |" in result.stdout
    assert "#### q\n" in result.stdout  # the explanation node by node (issue 23: was one ```text block)
    assert "- `df/dx = df/dq · ∂q/∂x = -4 · 1 = -4`" in result.stdout


def test_bad_usage_exits_2(run):
    for args in (["trace", "circuit", "--at", "nope=1"], ["trace", "circuit", "--direction", "x[3]"], ["trace"]):
        result = run(*args)
        assert result.exit_code == 2, args


def test_help_documents_exit_codes(run):
    result = run("trace", "--help")
    assert "Exit codes" in result.stdout and "evaluation error" in result.stdout


def test_examples_and_ops_list(run):
    result = run("examples")
    assert result.exit_code == 0 and "circuit" in result.stdout
    result = run("ops", "--json")
    document = json.loads(result.stdout)
    assert document["schema"] == "backprop.ops" and document["version"] == 1
    ops = {o["op"]: o for o in document["ops"]}
    assert ops["add"]["gate"] == "distributor" and ops["mul"]["gate"] == "switcher"
    assert ops["maximum"]["gate"] == "router" and ops["relu"]["gate"] == "killer"
    assert ops["sigmoid"]["gate"] == "squashing"


def test_large_graph_uses_plain_columns(run, graph_file):
    lines = ["inputs: {x: 1}", "nodes:", "  n1: x + 1"] + [f"  n{i}: n{i - 1} * 1" for i in range(2, 2500)]
    result = run("trace", str(graph_file("\n".join(lines) + "\noutput: n2499\n")))
    assert result.exit_code == 0
    assert "n2499" in result.stdout
