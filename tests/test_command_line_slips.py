"""Slips on the command line (issue 20): an option given twice, both sides of a pair, an empty value or an
empty list, a duplicate in a list, options that another choice makes pointless. click keeps the last of two
values; backprop refuses, naming the option, exit 2. Swept over every option of every command."""

from __future__ import annotations

import json

import click
import numpy as np
import pytest

from backprop_cli.cli import COMMANDS, main

ARGUMENT = {"examples": [], "ops": []}  # commands that take no graph


def _options() -> list[tuple[str, click.Option]]:
    ctx = click.Context(main)
    found = []
    for name in COMMANDS:
        for param in main.get_command(ctx, name).params:
            if isinstance(param, click.Option) and not param.hidden:
                found.append((name, param))
    return found


OPTIONS = _options()
VALUED = [(c, p) for c, p in OPTIONS if not p.is_flag]


def _one_error_line(result, words: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr


@pytest.mark.parametrize(
    "command, param", [(c, p) for c, p in VALUED if not p.multiple], ids=lambda x: getattr(x, "opts", [x])[0]
)
def test_every_option_given_twice_with_two_values_is_refused(run, command, param):
    flag = param.opts[0]
    args = [command, *ARGUMENT.get(command, ["circuit"]), flag, "1", flag, "2"]
    _one_error_line(run(*args), f"{flag} is given twice ('1', '2'): give it once")


@pytest.mark.parametrize("command, param", VALUED, ids=lambda x: getattr(x, "opts", [x])[0])
def test_every_option_given_an_empty_value_is_refused(run, command, param):
    flag = param.opts[-1] if param.opts[-1].startswith("--") else param.opts[0]
    result = run(command, *ARGUMENT.get(command, ["circuit"]), flag, "")
    _one_error_line(result, f"{flag} '': the value is empty")


@pytest.mark.parametrize("command, param", [(c, p) for c, p in OPTIONS if p.secondary_opts], ids=str)
def test_both_sides_of_a_pair_contradict(run, command, param):
    args = [command, *ARGUMENT.get(command, ["circuit"]), param.opts[0], param.secondary_opts[0]]
    _one_error_line(run(*args), f"{param.opts[0]} and {param.secondary_opts[0]} contradict each other")


def test_the_same_value_twice_and_repeatable_options_stay_accepted(run):
    assert run("train", "rosenbrock", "--steps", "2", "--steps=2", "-q").exit_code == 0
    assert run("gradcheck", "circuit", "-q", "--wrt", "x", "--wrt", "y").exit_code == 0
    assert run("trace", "circuit", "--json", "--json").exit_code == 0  # a flag twice changes nothing


@pytest.mark.parametrize(
    "args, words",
    [
        (["gradcheck", "circuit", "--wrt", ","], "--wrt ',': names nothing"),  # was: every leaf checked
        (["gradcheck", "circuit", "--wrt", "x,,y"], "an empty entry"),
        (["gradcheck", "circuit", "--wrt", "x,x"], "--wrt: x is given twice"),
        (["gradcheck", "circuit", "--wrt", "x", "--wrt", "x"], "--wrt: x is given twice"),
        (["hessian", "rosenbrock", "--wrt", "x,"], "an empty entry"),
        (["render", "two_layer", "--collapse", ",", "-o", "c.svg"], "--collapse ',': names nothing"),
        (["train", "rosenbrock", "--compare", ","], "--compare ',': names nothing"),  # was: sgd
        (["train", "rosenbrock", "--compare", "adam:lr=1:lr=2"], "adam sets lr twice"),  # was: lr=2
        (["train", "rosenbrock", "--compare", "adam,adam"], "--compare: adam is given twice"),
        (["jacobian", "circuit", "--no-check", "--rtol", "1e-3"], "--rtol sets the check's tolerance"),
        (["hessian", "rosenbrock", "--no-check", "--atol", "1"], "--atol sets the check's tolerance"),
        (["gradcheck", "circuit", "--elements", "full", "--samples", "3"], "--samples sets how many elements"),
        (["render", "circuit", "-o", "c.svg", "--dpi", "300"], "--dpi sets the resolution of PNG drawings"),
    ],
)
def test_lists_and_pairs_that_say_nothing_or_contradict(run, tmp_path, args, words):
    _one_error_line(run(*[str(tmp_path / a) if a == "c.svg" else a for a in args]), words)


def test_different_settings_of_one_optimizer_still_race(run):
    result = run("train", "rosenbrock", "--steps", "3", "--json", "--compare", "adam:lr=0.1,adam:lr=0.01")
    assert result.exit_code == 0 and [r["hyper"]["lr"] for r in json.loads(result.stdout)["runs"]] == [0.1, 0.01]


# ------------------------------------------------------------ the second-order optimizers say what happened
def test_newton_on_a_singular_hessian_says_it_did_not_move(run, graph_file):
    path = graph_file("params: {x: 1.0, y: 1.0}\nnodes:\n  loss: relu(x) + relu(y)\noutput: loss\n")
    result = run("train", str(path), "--optimizer", "newton", "--damping", "0", "--steps", "3", "--json")
    assert result.exit_code == 0, result.stderr
    note = json.loads(result.stdout)["runs"][0]["notes"]
    assert len(note) == 1 and "singular at 3 steps (first at step 1): θ did not move" in note[0]
    assert result.stderr.count("backprop: warning: newton:") == 1
    clean = run("train", "rosenbrock", "--optimizer", "newton", "--steps", "3", "--json")
    assert json.loads(clean.stdout)["runs"][0]["notes"] == [] and "warning" not in clean.stderr


def test_lbfgs_with_products_beyond_float64_neither_warns_nor_stalls(graph_file):
    """A curvature pair whose products overflow (found by a fuzzer: x²·1e150 at x = 1e5) printed numpy's
    RuntimeWarning; here a warning is an error."""
    import backprop_cli
    from backprop_cli.training.loop import train
    from backprop_cli.training.optimizers import make_optimizer

    graph = backprop_cli.loads("params: {x: 1e5, y: 1.5e5}\nnodes:\n  loss: x*x*1e150 + y*y*1e-150\noutput: loss\n")
    run = train(graph, make_optimizer("lbfgs"), 60)
    assert np.isfinite(run.final_loss) and run.final_loss < run.losses[0]
