"""Slips a student makes, each answered with its fix at the right line and column (issue 11).
The positions are counted by hand on the text below (line 3 is the node; its expression starts at column 6)."""

from __future__ import annotations

import pytest


def _node(expression: str) -> str:
    return f"inputs: {{x: 3, y: 2, weight: 1}}\nnodes:\n  f: {expression}\noutput: f\n"


EXPRESSIONS = [
    # (expression, column, words of the fix)
    ("x^2", 7, "write x ** 2"),
    ("2x", 7, "write 2*x"),
    ("3.5y", 9, "write 3.5*y"),
    ("2(x + 1)", 7, "write 2*(...)"),
    ("(x + 1)(x - 1)", 13, "missing an operator before '(...)'"),
    ("x y", 8, "write x * y"),
    ("exp x", 10, "write exp(x)"),
    ("ln(x)", 6, "write log(x)"),
    ("sqr(x)", 6, "write square(x)"),
    ("detach(x)", 6, "write stop_gradient(x)"),
    ("clamp(x, 0, 1)", 6, "write clip(x, lo, hi)"),
    ("sigmiod(x)", 6, "did you mean 'sigmoid'"),
    ("2 * wieght", 10, "did you mean 'weight'"),
    ("sum(x, axes=0)", 6, "did you mean 'axis'"),
    ("x && y", 8, "'&&' is not an operator: to combine masks write &"),
    ("x & y", 6, "'&' combines masks (comparisons such as x > 0), and x is a number"),
    ("x || y", 8, "'||' is not an operator: to combine masks write |"),
    ("x and y", 8, "'and' is not an operator here: write &"),
    ("~x", 7, "'~' combines masks"),
    ("x => y", 8, "write >= for a comparison"),
    ("x < y < 1", 12, "comparisons do not chain"),
    ("2 * x if x > 0", 20, "a conditional needs 'else'"),
    ("x[(x > 0) * (y > 0)]", 7, "a product of masks is a number here"),
    ("np.exp(x)", 6, "'np.' is not needed: ops are called without their module"),
    ("x = y", 8, "`name: expression`"),
    ("x % 2", 8, "'%' (remainder) is not an op"),
    ("x // 2", 8, "'//' (floor division)"),
    ("x ** * 2", 11, "one operator between two operands"),
    ("x ×  y", 8, "write * for a product"),
    ("x ÷ y", 8, "write / for a quotient"),
    ("x − y", 8, "write - (the ASCII minus)"),
    ("x²", 7, "write x ** 2"),
    ("√x", 6, "write sqrt(x)"),
    ("(x + 1", 6, "this '(' is never closed"),
    ("exp((x)", 9, "this '(' is never closed"),
    ("sum(x, axis=0", 9, "this '(' is never closed"),
    ("x + 1)", 11, "this ')' closes nothing"),
    ("x + 2 *", 13, "after '*', but the expression ends"),
    ("x, y", 7, "',' outside a call"),
    ("x; y", 7, "one expression per node"),
    ("sum(x axis=0)", 12, "separate arguments with ','"),
    ("1.2.3 * x", 9, "a number has one decimal point"),
]


@pytest.mark.parametrize("expression, column, words", EXPRESSIONS, ids=[e for e, _, _ in EXPRESSIONS])
def test_expression_slip_names_the_fix(run, graph_file, expression, column, words):
    path = graph_file(_node(expression))
    result = run("trace", str(path))
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"backprop: error: {path}:3:{column}: "), line
    assert words in line, line


FILES = [
    # (file text, line:column, words of the fix)
    ("inputs: {x: 1}\nnodes:\n\tf: x\noutput: f\n", "3:1", "a tab: YAML indents with spaces"),
    ("inputs: {x: 1}\nnodes:\n  f: x\n  \tg: x\noutput: f\n", "4:3", "a tab"),
    ("inputs: {x: 1}\nnodes:\n  f: x\n    g: x\noutput: f\n", "4:5", "'g' is indented deeper than 'f' on line 3"),
    ("inputs: {x: 1}\nnodes:\n  f: x\n output: f\n", "4:2", "indented by 1 space, which matches no key"),
    ("inputs: {x: 1}\n  nodes:\n  f: x\noutput: f\n", "2:3", "indented by 2 spaces"),
    ("inputs: {x: 1}\nnodes:\n  f: x\n  output: f\n", "1:1", "'output' is indented under nodes: (line 4)"),
    ("inputs: {x: 1}\nz: 2\nnodes:\n  f: x * z\noutput: f\n", "2:1", "indent it under inputs: (values you give)"),
    ("inputs: {x: 1}\nz: [1, 2]\nnodes:\n  f: x\noutput: f\n", "2:1", "or params: (values to train)"),
    ("inputs: {x: 1}\nnodes:\n  f: x\ng: f + 1\noutput: g\n", "4:1", "a node? indent it under nodes:"),
    ("inputs: {x: 1}\nparams:\nw: 2\nnodes:\n  f: w * x\noutput: f\n", "3:1", "params: above is empty"),
    ("inputs: {x: 1}\ninit: normal\nnodes:\n  f: x\noutput: f\n", "2:1", "init: belongs inside a leaf"),
    ("inputs: {x: 1}\nop: add\nnodes:\n  f: x\noutput: f\n", "2:1", "op: belongs inside a node"),
    ("inputs: {x: 1}\nouput: f\nnodes:\n  f: x\noutput: f\n", "2:1", "did you mean 'output'"),
    ("inputs: {x: 1}\nnodes:\n  f = x * 2\noutput: f\n", "3:3", "`name: expression`"),
    ("inputs: {x: 1}\nnodes:\n  f:x * 2\noutput: f\n", "3:3", "a space after ':'"),
    ("inputs: {x: 1,\n  y: 2\nnodes:\n  f: x\noutput: f\n", "1:9", "this '{' is never closed"),
    ("inputs: {x: [1, 2}\nnodes:\n  f: x\noutput: f\n", "1:13", "this '[' is never closed"),
    ("inputs:\n  x: [1, 2,\n  y: 3\nnodes:\n  f: x\noutput: f\n", "2:6", "this '[' is never closed"),
    ('inputs: {x: 1}\nnodes:\n  f: "x * 2\noutput: f\n', "3:6", "this quote is never closed"),
    ("inputs: {x: 1}\nnodes:\n  f: x : 2\noutput: f\n", "3:8", "a second ':' on one line"),
    ("inputs: {x: 1}\nnodes:\n  f: |x|\noutput: f\n", "3:6", "write abs(x)"),
    ("inputs: {x: 1}\nnodes:\n  f: !x\noutput: f\n", "3:6", "there is no 'not'"),
    ("inputs: {x: 1}\nnodes:\n  f: @x\noutput: f\n", "3:6", "a value cannot start with '@'"),
    ("inputs: {x: {shape: [3], int: normal}}\nnodes:\n  f: sum(x)\noutput: f\n", "1:26", "did you mean 'init'"),
    ("inputs: {x: {shape: [3], init: normall}}\nnodes:\n  f: sum(x)\noutput: f\n", "1:32", "did you mean 'normal'"),
    ("inputs: {x: 1}\nnodes:\n  f: {op: add, input: [x, x]}\noutput: f\n", "3:16", "did you mean 'inputs'"),
    ("inputs: {x: 1}\nnodes:\n  f: x\noutput: [f]\n", "4:9", "output must be the name of one node"),
    ("inputs: {x: 1}\nnodes:\n  f: X * 2\noutput: f\n", "3:6", "did you mean 'x'"),
    ("inputs: {x: 1}\nnodes:\n  f: x\noutput: F\n", "4:9", "did you mean 'f'"),
    ("inputs: {x: 1}\nnodes:\n  f: e ** x\noutput: f\n", "3:6", "write exp(x)"),
    ("inputs: {x: 1}\nnodes:\n  f: pi * x\noutput: f\n", "3:6", "write the number 3.14159"),
    ("inputs: {x: 1}\nnodes:\n  f: Exp(x)\noutput: f\n", "3:6", "did you mean 'exp'"),
    ("inputs: {x: 1}\nnodes:\n  f:\n  x * 2\noutput: f\n", "4:3", "indent it deeper than that key"),
    ("inputs: {x: 1}\nnodes:\n  f: x\noutput f\n", "4:1", "'output f' has no ':'"),
    ("inputs: {x: 1}\nnodes:\n  f: x\noutput:f\n", "4:1", "put a space after ':'"),
    ("inputs: {x: 1}\nnodes:\n   f: x\n  g: x\noutput: f\n", "4:3", "indented by 2 spaces"),
    ("inputs: {x: 1}}\nnodes:\n  f: x\noutput: f\n", "1:15", "this '}' closes nothing"),
    ("inputs: {x: 1}\nnodes:\n  f: x\noutput: f\n]\n", "5:1", "this ']' closes nothing"),
    ("inputs: {x: 1]\nnodes:\n  f: x\noutput: f\n", "1:9", "end it with '}' (found ']' at line 1, column 14)"),
    ("inputs: {x: 1}\nnodes:\n  f: [x]\noutput: f\n", "3:6", "group with ( )"),
    ("inputs:\n  - x: 1\nnodes:\n  f: x\noutput: f\n", "2:3", "without '- '"),
    ("inputs: {x: 1}\nnodes:\n  - f: x\noutput: f\n", "3:3", "no '- '"),
]


@pytest.mark.parametrize("text, where, words", FILES, ids=[w for _, _, w in FILES])
def test_file_slip_names_the_fix(run, graph_file, text, where, words):
    path = graph_file(text)
    result = run("trace", str(path))
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"backprop: error: {path}:{where}: "), line
    assert words in line, line


def test_a_node_that_does_not_reach_the_output_is_named(run, graph_file):
    path = graph_file("inputs: {x: 3}\nnodes:\n  q: x * 2\n  f: q + 1\n  g: f * 2\noutput: q\n")
    result = run("trace", str(path), "--json")
    assert result.exit_code == 0
    assert f"{path}:4:3: warning: nodes f, g do not reach the output 'q'" in result.stderr


def test_every_node_reaching_the_output_gives_no_warning(run):
    for example in ("circuit", "relu_layer", "two_layer"):
        assert "warning" not in run("trace", example, "--json").stderr
