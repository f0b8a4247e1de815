"""Bad graph files: one clear line on stderr with file:line:column, exit code 2, never a traceback."""

from __future__ import annotations

import json

import pytest

import backprop_cli

CASES = [
    # (file text, expected line:col or None, words the message must contain)
    ("inputs: {x: 1}\nnodes:\n  f: x +\noutput: f\n", "3:9", "expected a number"),
    ("inputs: {x: 1\nnodes: {}\n", "1:9", "'{' is never closed"),
    ("inputs: {x: 1}\nnodez: {f: x}\nnodes: {f: x}\noutput: f\n", "2:1", "unknown top-level key 'nodez'"),
    ("inputs: {x: 1}\nnodes:\n  f: x\n  f: x\noutput: f\n", "4:3", "duplicate key 'f'"),
    ("inputs: {x: &a 1, y: *a}\nnodes: {f: x}\noutput: f\n", "1:", "anchors and aliases"),
    ("inputs: {x: !!python/object/apply:os.system [ls]}\nnodes: {f: x}\noutput: f\n", "1:", "tag"),
    ("inputs: {x: 1}\nnodes:\n  f: exq(x)\noutput: f\n", "3:6", "did you mean 'exp'"),
    ("inputs: {weight: 1}\nnodes:\n  f: 2 * wieght\noutput: f\n", "3:10", "did you mean 'weight'"),
    ("inputs: {x: 1}\nnodes:\n  f: exp(x, x)\noutput: f\n", "3:6", "takes 1 operand"),
    ("inputs: {x: 1}\nnodes:\n  a: b + x\n  b: a * x\noutput: b\n", None, "cycle: "),
    ("inputs: {x: 1}\nnodes:\n  a: a + x\noutput: a\n", None, "cycle: a → a"),
    ("inputs: {x: [1, 2, 3], y: [[1], [2], [3]]}\nnodes:\n  f: x + y\noutput: f\n", "3:8", "both be expanded"),
    ("inputs: {x: [1, 2, 3], w: [[1, 2]]}\nnodes:\n  f: x @ w\noutput: f\n", "3:8", "inner sizes"),
    ("inputs: {x: {shape: [100000, 100000], init: normal}}\nnodes: {f: sum(x)}\noutput: f\n", "1:21", "GiB"),
    ("inputs: {x: 1}\nnodes:\n  f: ().__class__\noutput: f\n", "3:8", "attribute access"),
    ("inputs: {x: 1}\nnodes:\n  f: x.T\noutput: f\n", "3:7", "attribute access"),
    ("inputs: {x: 1}\nnodes:\n  f: leaky_relu(x, slope=2)\noutput: f\n", "3:6", "no keyword argument 'slope'"),
    ("inputs: {x: 1}\nnodes:\n  f: x\noutput: g\n", "4:9", "not a node"),
    ("inputs: {x: 1}\nnodes:\n  f: x\noutput: x\n", "4:9", "is a leaf"),
    ("", None, "empty"),
    ("- 1\n- 2\n", "1:1", "a graph file is a mapping"),
    ("inputs: {x: {shape: [2, -1]}}\nnodes: {f: sum(x)}\noutput: f\n", "1:25", "whole numbers"),
    ("inputs: {x: {shape: [2.5]}}\nnodes: {f: sum(x)}\noutput: f\n", "1:22", "whole numbers"),
    ("inputs: {x: [[1, 2], [3]]}\nnodes: {f: sum(x)}\noutput: f\n", None, "rectangular"),
    ("inputs: {'my x': 1}\nnodes: {f: 1}\noutput: f\n", "1:10", "not a valid name"),
    ("inputs: {x: " + "[" * 100 + "1" + "]" * 100 + "}\nnodes: {f: x}\noutput: f\n", "1:", "nesting deeper"),
    ("inputs: {x: 1}\nnodes:\n  f: " + "(" * 500 + "x" + ")" * 500 + "\noutput: f\n", "3:", "nested deeper"),
    ("inputs: {x: 1}\nnodes:\n  f: \"x + 'no'\"\noutput: f\n", None, "strings are not allowed"),
]


@pytest.mark.parametrize("text, position, words", CASES)
def test_bad_graph_file_gives_one_line_and_exit_2(run, graph_file, text, position, words):
    path = graph_file(text)
    result = run("trace", str(path))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert words in lines[0]
    if position:
        assert f"{path}:{position}" in lines[0]


def test_non_utf8_file(run, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"inputs: {x: 1}\nnodes: {f: \xff}\n")
    result = run("trace", str(path))
    assert result.exit_code == 2
    assert f"{path}:2:12: file is not UTF-8" in result.stderr


def test_missing_file_and_unknown_example(run):
    result = run("trace", "no_such_graph")
    assert result.exit_code == 2 and "no such file or bundled example" in result.stderr
    result = run("trace", "missing/dir/g.yaml")
    assert result.exit_code == 2 and "no such file" in result.stderr


@pytest.mark.parametrize(
    "node, words",
    [("log(x - 1)", "log of a number ≤ 0"), ("x / (x - 1)", "divided by zero"), ("exp(1000 * x)", "overflowed")],
)
def test_evaluation_errors_exit_3_naming_the_node(run, graph_file, node, words):
    path = graph_file(f"inputs: {{x: 1}}\nnodes:\n  f: {node}\noutput: f\n")
    result = run("trace", str(path))
    assert result.exit_code == 3, result.output
    assert "node f" in result.stderr and words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_sqrt_at_zero_fails_in_the_gradient(run, graph_file):
    path = graph_file("inputs: {x: 0}\nnodes:\n  f: sqrt(x)\noutput: f\n")
    result = run("trace", str(path))
    assert result.exit_code == 3
    assert "gradient" in result.stderr and "sends to x" in result.stderr


@pytest.mark.parametrize(
    "below",
    ["arcsin(greater(x, y))", "sqrt(1 - greater(x, y))", "(less(x, y) * 1.0) ** 0.5", "arccos(where(x > y, 1.0, 0.5))"],
)
def test_an_infinite_slope_that_reaches_no_leaf_is_no_fault(run, graph_file, below):
    """Found by the generated graphs (seed 2811, the torch differential test): arcsin(greater(x1, x2)) is arcsin(1),
    whose slope is infinite, but x1 and x2 reach it only through a comparison: no gradient flows to them. trace
    stopped with exit 3 ("the gradient arcsin sends is -inf"); torch, where a comparison has no grad_fn, gives
    finite gradients. The infinite one is that node's own derivative, shown; the leaves have no gradient."""
    path = graph_file(f"inputs: {{x: 0.5, y: -0.9, g: 2.0}}\nnodes:\n  n: sigmoid({below})\n  f: n * g\noutput: f\n")
    result = run("trace", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    gradients = json.loads(result.stdout)["gradients"]
    assert gradients["x"] is None and gradients["y"] is None and gradients["n"] == 2.0
    assert run("gradcheck", str(path)).exit_code == 0
    wrong = graph_file("inputs: {x: 1.0, g: 2.0}\nnodes:\n  n: arcsin(x)\n  f: n * g\noutput: f\n", "w.yaml")
    assert run("trace", str(wrong)).exit_code == 3  # where the gradient does reach a leaf, still the fault


def test_sigmoid_of_minus_1000_is_stable():
    import backprop_cli

    g = backprop_cli.loads("inputs: {x: -1000}\nnodes: {f: sigmoid(x), s: softplus(-x)}\noutput: f\n")
    assert g.forward()["f"] == 0.0
    assert g.backward()["x"] == 0.0


def test_unused_leaf_is_a_warning_not_an_error(run, graph_file):
    path = graph_file("inputs: {x: 1, unused: 2}\nnodes: {f: 2 * x}\noutput: f\n")
    result = run("trace", str(path))
    assert result.exit_code == 0
    assert "warning: leaf 'unused' is not used" in result.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["trace", "circuit", "--mode", "sideways"], "Invalid value for '--mode'"),
        (["nosuch"], "No such command 'nosuch'"),
        (["trace", "circuit", "--frobnicate"], "No such option '--frobnicate'"),
        (["train", "rosenbrock", "--steps", "0"], "Invalid value for '--steps'"),
        (["gradcheck"], "Missing argument 'GRAPH...'"),
    ],
)
def test_usage_errors_are_one_line_too(args, words):
    """click's own usage errors (four lines with a blank one) are folded into the project's one-line form."""
    from click.testing import CliRunner

    from backprop_cli.cli import main

    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("backprop: error: "), result.stderr
    assert words in result.stderr and "--help" in result.stderr


TOP_LEVEL_KEYS = ["name", "about", "inputs", "params", "nodes", "output", "seed", "dtype", "expect", "ops"]


@pytest.mark.parametrize("key", TOP_LEVEL_KEYS)
@pytest.mark.parametrize("value", ["{a: 1}", "[1, 2]", "3", "null", "''"])
def test_every_top_level_key_with_a_value_of_the_wrong_kind(key, value):
    """Found by the long fuzz run: `dtype: {a: 1}` was a TypeError traceback. Every key, every kind of value:
    either it loads or it is one GraphFileError with a position, never anything else."""
    base = {"inputs": "{x: 1}", "nodes": "{f: x}", "output": "f"}
    text = "\n".join(f"{k}: {value if k == key else v}" for k, v in {**base, key: value}.items()) + "\n"
    try:
        backprop_cli.loads(text, "g.yaml")
    except backprop_cli.GraphFileError as err:
        assert str(err).startswith("g.yaml:") and "\n" not in str(err)


def test_an_internal_error_is_one_line_with_exit_4(monkeypatch):
    """A bug of ours must not print a traceback either; BACKPROP_DEBUG=1 shows it."""
    from click.testing import CliRunner

    import backprop_cli.engines.trace as trace_module
    from backprop_cli.cli import main

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(trace_module, "run_trace", broken)
    result = CliRunner().invoke(main, ["trace", "circuit"])
    assert result.exit_code == 4 and result.stderr.count("\n") == 1
    assert "internal error: ZeroDivisionError: a bug" in result.stderr and "BACKPROP_DEBUG=1" in result.stderr
    monkeypatch.setenv("BACKPROP_DEBUG", "1")
    assert isinstance(CliRunner().invoke(main, ["trace", "circuit"]).exception, ZeroDivisionError)


@pytest.mark.parametrize("value", ["null", "[]"])
def test_every_top_level_key_left_empty_through_the_command_line(run, graph_file, value):
    """`ops: null` loaded, then broke the command (exit 4: the files a run reads were listed from None). Every key
    of the format, left empty: it runs, or is one line naming the place, exit 2."""
    from backprop_cli.fileformat.builder import TOP_LEVEL

    base = {"params": "{x: 1.0}", "nodes": "{f: x * x}", "output": "f"}
    for key in TOP_LEVEL:
        text = "\n".join(f"{k}: {value if k == key else v}" for k, v in {**base, key: value}.items()) + "\n"
        path = graph_file(text)
        result = run("trace", str(path))
        assert result.exit_code in (0, 2), (key, result.stderr)
        if result.exit_code:
            assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"backprop: error: {path}:"), key


def test_an_empty_file_says_what_a_graph_file_holds(run, graph_file):
    for text in ("", "\n  \n", "# nothing yet\n"):
        result = run("trace", str(graph_file(text)))
        assert result.exit_code == 2
        assert "file is empty: a graph file has inputs or params, nodes and output" in result.stderr
