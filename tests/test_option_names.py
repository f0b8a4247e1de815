"""One meaning per option name: renamed flags, their old spellings for one release, and library errors in
the library's words with the CLI naming the flag."""

from __future__ import annotations

import json

import pytest

import backprop_cli
from backprop_cli.errors import UsageError

QUADRATIC = "params: {w: 3.0}\nnodes: {L: (w - 1) ** 2}\noutput: L\n"

RENAMED = [  # command and arguments, old spelling, new spelling, value
    (["trace", "circuit", "--json"], "--wrt", "--direction", "y"),
    (["render", "circuit", "--format", "dot", "-o", "-"], "--wrt", "--direction", "z"),
    (["gradcheck", "circuit", "--json"], "--mode", "--elements", "sample"),
    (["train", "{graph}", "--optimizer", "adam", "--steps", "3", "--json"], "--eps", "--epsilon", "0.5"),
]


@pytest.mark.parametrize(("args", "old", "new", "value"), RENAMED, ids=[f"{r[0][0]} {r[1]}" for r in RENAMED])
def test_old_spelling_works_with_one_warning_line(run, graph_file, args, old, new, value):
    args = [a.format(graph=graph_file(QUADRATIC)) for a in args]
    renamed, kept = run(*args, new, value), run(*args, old, value)
    default = run(*args)
    assert renamed.exit_code == kept.exit_code == 0, renamed.stderr + kept.stderr
    assert kept.stdout == renamed.stdout  # the same run
    assert renamed.stdout != default.stdout  # and the value was used, not the default
    assert renamed.stderr == ""
    lines = kept.stderr.splitlines()
    assert len(lines) == 1 and old in lines[0] and new in lines[0] and "deprecated" in lines[0]


@pytest.mark.parametrize(("args", "old", "new", "value"), RENAMED, ids=[f"{r[0][0]} {r[1]}" for r in RENAMED])
def test_both_spellings_at_once_is_bad_usage(run, graph_file, args, old, new, value):
    args = [a.format(graph=graph_file(QUADRATIC)) for a in args]
    for order in ([old, value, new, value], [new, value, old, value]):
        result = run(*args, *order)
        assert result.exit_code == 2
        assert f"{old} is the old name of {new}" in result.stderr and "Traceback" not in result.stderr


def test_help_shows_only_the_new_names(run):
    for command, old, new in (("trace", "--wrt", "--direction"), ("gradcheck", "--mode", "--elements")):
        text = run(command, "--help").stdout
        assert new in text and old not in text
    assert "--epsilon" in run("train", "--help").stdout and "--eps " not in run("train", "--help").stdout


def test_json_field_names_are_kept(run):
    forward = json.loads(run("trace", "circuit", "--direction", "x", "--json").stdout)
    assert forward["wrt"] == "x"
    report = json.loads(run("gradcheck", "circuit", "--elements", "full", "--json").stdout)
    assert report["mode"] == "full"


# ------------------------------------------------------------ library words, CLI flags
LIBRARY_ERRORS = [  # the library call, the argument at fault, the flag the CLI names, CLI arguments
    (lambda g: backprop_cli.gradcheck(g, wrt=["nope"]), "wrt", "--wrt", ["gradcheck", "circuit", "--wrt", "nope"]),
    (
        lambda g: backprop_cli.gradcheck(g, mode="direction", directions=0),
        "directions",
        "--directions",
        ["gradcheck", "circuit", "--elements", "direction", "--directions", "0"],
    ),
    (lambda g: backprop_cli.gradcheck(g, mode="sideways"), "mode", "--elements", None),
    (lambda g: g.with_values({"nope": 1}), "values", "--at", ["trace", "circuit", "--at", "nope=1"]),
    (lambda g: g.with_values({"x": [1, 2]}), "values", "--at", ["trace", "circuit", "--at", "x=[1,2]"]),
    (lambda g: g.jvp({"nope": 1}), "tangents", None, ["trace", "circuit", "--direction", "nope"]),
    (lambda g: g.with_values({"x": "[1,"}), "values", "--at", ["trace", "circuit", "--at", "x=[1,"]),
    (lambda g: g.jvp({"x": "abc"}), "tangents", None, ["trace", "circuit", "--direction", "x=abc"]),
]


@pytest.mark.parametrize(("call", "parameter", "flag", "args"), LIBRARY_ERRORS)
def test_library_errors_name_the_argument_and_the_cli_names_the_flag(run, call, parameter, flag, args):
    with pytest.raises(UsageError) as caught:
        call(backprop_cli.load("circuit"))
    assert caught.value.parameter == parameter
    assert "--" not in str(caught.value)  # no command-line words in the library
    if args is not None:
        result = run(*args)
        assert result.exit_code == 2
        expected = flag or "--direction"
        assert result.stderr.startswith(f"backprop: error: {expected}: "), result.stderr


def test_divergence_suggests_the_flag_in_the_cli_and_the_argument_in_the_library(run, graph_file):
    from backprop_cli.errors import EvaluationError
    from backprop_cli.training.loop import train
    from backprop_cli.training.optimizers import make_optimizer

    graph = backprop_cli.loads(QUADRATIC)
    with pytest.raises(EvaluationError) as caught:
        train(graph, make_optimizer("sgd", lr=100.0), 1000)
    assert caught.value.parameter == "lr" and "lr=10" in str(caught.value) and "--" not in str(caught.value)
    result = run("train", str(graph_file(QUADRATIC)), "--lr", "100", "--steps", "1000")
    # the CLI tries the rates it suggests: 10 diverges, 1 leaves the loss where it was (w jumps 3 -> -1 -> 3)
    assert result.exit_code == 3 and result.stderr.rstrip().endswith("--steps 1000 --lr 0.1")
