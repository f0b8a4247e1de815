"""What `trace --explain` (and render's page, Markdown, LaTeX) says happens to a gradient's shape on its way to an
operand, swept over the op table: "summed back to" only where reverse mode really summed a broadcast gradient
(the rule's gradient had more elements than the operand), and a word on a change of shape only where the shape
changes. Found: log_loss said "summed back to (4)" of a gradient that nothing sums."""

from __future__ import annotations

import re

import numpy as np
from test_ops_sweep import cases, operands  # the op table's cases and operands (tests/ is on sys.path)

from backprop_cli.engines.trace import run_trace
from backprop_cli.graph import Graph, Node
from backprop_cli.ops import OPS, GateKind
from backprop_cli.ops.shapes import fmt
from backprop_cli.outputs.explain import RESHAPED, explain_lines

SHAPE_WORDS = ("summed back to", *RESHAPED.values())


def one_gate(op, xs: list[np.ndarray], attrs: dict) -> Graph:
    leaves = {f"a{i}": Node(f"a{i}", "input", np.shape(x)) for i, x in enumerate(xs)}
    out_shape = tuple(op.shape(*[np.shape(x) for x in xs], **attrs))
    gate = Node("g", "gate", out_shape, op=op.name, inputs=tuple(leaves), attrs=attrs, origin="g", operation=op)
    values = {name: np.asarray(x, float) for name, x in zip(leaves, xs, strict=True)}
    return Graph({**leaves, "g": gate}, values, "g")


def test_the_explanation_says_what_happens_to_each_shape_of_every_op():
    said = {words: 0 for words in SHAPE_WORDS}
    for param in cases():
        name, case = param.values
        op = OPS[name]
        if case is None or op.tensor_rule or op.stops_gradient:  # matmul says its rule in full
            continue
        xs, attrs, _ = operands(op, case, "explain")
        graph = one_gate(op, xs, attrs)
        lines = explain_lines(run_trace(graph))
        out = np.asarray(op.forward(*xs, **attrs), float)
        for i, x in enumerate(xs):
            line = next((t for t in lines if t.lstrip().startswith(f"dg/da{i} ")), None)
            if op.vjp[i] is None or line is None:
                continue
            raw = np.asarray(op.vjp[i](np.ones_like(out), out, *xs, **attrs))
            summed = raw.size > np.size(x)  # what reverse mode's unbroadcast does with it
            where = f"{name} {case} operand {i}: {line}"
            assert ("summed back to" in line) == summed, where
            for words in RESHAPED.values():
                if words in line:
                    assert not summed and np.shape(x) != out.shape, where
                    assert RESHAPED[op.gate_kind] == words, where
            if np.shape(x) != out.shape and not summed and op.gate_kind in RESHAPED:
                assert RESHAPED[op.gate_kind] in line, where
            shown = re.search(
                r", (?:summed back to|scattered into|copied to every element of|rearranged into) (.+?) =", line
            )
            if shown:
                said[line[shown.start() + 2 : shown.start(1) - 1]] += 1
                assert shown.group(1) == fmt(np.shape(x)), where
    assert all(said.values()), said  # every wording is met by some op of the table


def test_log_loss_says_nothing_is_summed(run, graph_file):
    path = graph_file(
        "inputs: {z: [-0.3, 0.5, -0.05, -0.4], y: [1, 0, 1, 0], b: 0.3}\n"
        "nodes:\n  s: z + b\n  L: log_loss(s, y)\noutput: L\n"
    )
    result = run("trace", str(path), "--explain")
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if line.startswith("  d")]
    assert not any("summed" in line for line in lines if "/ds" in line.split("=")[0]), lines
    assert any(line.startswith("  dL/db") and "summed back to scalar" in line for line in lines), lines
    assert GateKind.LOSS not in RESHAPED
