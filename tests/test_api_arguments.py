"""The Python API validates its arguments as the CLI does (issue 20): every public function, swept with generated
bad values (negative, zero, NaN, inf, huge, wrong types), raises UsageError naming the parameter, never another
exception and never a verdict made with an argument the CLI would refuse."""

from __future__ import annotations

import math

import numpy as np
import pytest

import backprop_cli
from backprop_cli import UsageError
from backprop_cli.arguments import RULES

TEXT = "inputs: {x: [1.5, -2.0], y: 0.5}\nparams: {w: [0.3, -0.7]}\nnodes:\n  h: tanh(w * x) * y\n  L: sum(h * h)\noutput: L\n"


def graph():
    return backprop_cli.loads(TEXT)


class Odd:
    """An object that is no number, no text, no flag."""


NOT_A_NUMBER = ["3", None, [1], {}, Odd(), 1 + 2j, b"1"]
REALS = [-1.0, 0.0, -0.0, math.nan, math.inf, -math.inf, 1e308, -1e-300, np.float64("nan"), 2.0**70, 1.5]
WHOLES = [-1, 0, 2**70, -(2**70), True, False, 1.5, math.nan, math.inf, np.int64(-3), np.float64(2.0)]


def bad_values(parameter: str) -> list[object]:
    """Generated: every value the shared rule for the parameter refuses, among numbers and other types."""
    rule = RULES[parameter]
    candidates = [*NOT_A_NUMBER, *REALS, *WHOLES, rule.low - 1, rule.high + 1, rule.high * 10**6]
    return [v for v in candidates if not rule.accepts(v)]


# function, the keyword arguments it is called with, the numeric parameters of the shared rules it takes
CALLS = {
    "gradcheck": (
        lambda g, **kw: backprop_cli.gradcheck(g, **kw),
        ["samples", "directions", "eps", "rtol", "atol", "seed", "order"],
    ),
    "jacobian": (lambda g, **kw: backprop_cli.jacobian(g, of="h", wrt="w", **kw), ["rtol", "atol"]),
    "hessian": (lambda g, **kw: backprop_cli.hessian(g, **kw), ["rtol", "atol"]),
}
NUMERIC = [(name, p) for name, (_, ps) in CALLS.items() for p in ps]


@pytest.mark.parametrize("function, parameter", NUMERIC, ids=[f"{f}-{p}" for f, p in NUMERIC])
def test_bad_numbers_are_usage_errors_naming_the_parameter(function, parameter):
    call, _ = CALLS[function]
    values = bad_values(parameter)
    assert len(values) >= 10
    g = graph()
    for value in values:
        with pytest.raises(UsageError) as caught:
            call(g, **{parameter: value})
        assert caught.value.parameter == parameter, (value, caught.value)
        assert str(caught.value).count("\n") == 0


@pytest.mark.parametrize("function, parameter", NUMERIC, ids=[f"{f}-{p}" for f, p in NUMERIC])
def test_the_edges_the_rules_accept_give_a_verdict_on_a_correct_graph(function, parameter):
    """The smallest and largest values each rule accepts (where a check with them finishes fast) still judge a
    correct graph as correct: no accepted value forges a failure (eps=1 too: a step of the user's means
    Richardson differences, which estimate their own truncation error)."""
    call, _ = CALLS[function]
    rule = RULES[parameter]
    edges = {rule.low if not rule.low_open else rule.low + 1e-6, min(rule.high, 10.0 if rule.kind is float else 50)}
    for value in edges:
        value = rule.kind(value)
        result = call(graph(), **{parameter: value})
        assert result.status in ("pass", "kink"), (parameter, value)


CHOICES = {
    "gradcheck": {"method": "complex", "mode": "full"},
    "jacobian": {"mode": "forward", "method": "richardson"},
    "hessian": {"method": "central"},
}
CHOICE_CASES = [(f, p) for f, ps in CHOICES.items() for p in ps]


@pytest.mark.parametrize("function, parameter", CHOICE_CASES, ids=[f"{f}-{p}" for f, p in CHOICE_CASES])
def test_choices_refuse_other_words_and_types(function, parameter):
    call, _ = CALLS[function]
    for value in ["", "FULL", "nope", None, 1, ["full"], Odd(), b"full"]:
        with pytest.raises(UsageError) as caught:
            call(graph(), **{parameter: value})
        assert caught.value.parameter == parameter


FLAGS = {"gradcheck": ["strict", "nodes"], "jacobian": ["check"], "hessian": ["check"]}
FLAG_CASES = [(f, p) for f, ps in FLAGS.items() for p in ps]


@pytest.mark.parametrize("function, parameter", FLAG_CASES, ids=[f"{f}-{p}" for f, p in FLAG_CASES])
def test_flags_take_true_or_false(function, parameter):
    call, _ = CALLS[function]
    for value in ["no", "", 0, 1, None, [], 2.0, Odd()]:
        with pytest.raises(UsageError) as caught:
            call(graph(), **{parameter: value})
        assert caught.value.parameter == parameter
    assert call(graph(), **{parameter: np.bool_(True)}).status in ("pass", "kink")


@pytest.mark.parametrize(
    "call, parameter",
    [
        (lambda g, v: backprop_cli.gradcheck(g, wrt=v), "wrt"),
        (lambda g, v: backprop_cli.hessian(g, wrt=v), "wrt"),
        (lambda g, v: backprop_cli.jacobian(g, wrt=v), "wrt"),
        (lambda g, v: backprop_cli.jacobian(g, of=v), "of"),
        (lambda g, v: g.backward(wrt=v), "wrt"),
    ],
    ids=["gradcheck-wrt", "hessian-wrt", "jacobian-wrt", "jacobian-of", "backward-wrt"],
)
def test_names_are_text(call, parameter):
    for value in [1, 1.5, Odd(), [1], ["x", None], {"x": 1}, b"x", [["x"]]]:
        with pytest.raises(UsageError) as caught:
            call(graph(), value)
        assert caught.value.parameter == parameter, (value, caught.value)


def test_a_single_name_is_one_name_as_in_backward():
    g = graph()
    assert list(backprop_cli.gradcheck(g, wrt="w").leaves) == ["w"]
    assert backprop_cli.hessian(g, wrt="w").wrt == ["w"]


@pytest.mark.parametrize(
    "call, parameter",
    [
        (lambda v: backprop_cli.load(v), "path"),
        (lambda v: backprop_cli.loads(v), "text"),
        (lambda v: backprop_cli.loads(TEXT, source=v), "source"),
        (lambda v: backprop_cli.load("circuit", allow_python=v), "allow_python"),
        (lambda v: backprop_cli.loads(TEXT, allow_python=v), "allow_python"),
        (lambda v: graph().jvp(v), "tangents"),
        (lambda v: graph().with_values(v), "values"),
    ],
    ids=["load-path", "loads-text", "loads-source", "load-allow_python", "loads-allow_python", "jvp", "with_values"],
)
def test_loading_and_the_graph_methods_refuse_wrong_types(call, parameter):
    for value in [None, 1, 1.5, Odd(), ["circuit"], ("x",)] + ([{}] if parameter not in ("tangents", "values") else []):
        with pytest.raises(UsageError) as caught:
            call(value)
        assert caught.value.parameter == parameter, (value, caught.value)


def test_the_cli_and_the_api_share_the_ranges():
    """The options of the commands are made from the same rules: the CLI's range is the API's."""
    from click.testing import CliRunner

    from backprop_cli.cli import main

    runner = CliRunner()
    for flag, parameter in (("--samples", "samples"), ("--directions", "directions"), ("--seed", "seed")):
        rule = RULES[parameter]
        for value in (rule.low - 1, rule.high + 1):
            result = runner.invoke(main, ["gradcheck", "circuit", "-q", flag, str(value)])
            assert result.exit_code == 2, (flag, value, result.output)
            with pytest.raises(UsageError):
                backprop_cli.gradcheck(graph(), **{parameter: value})
    for flag in ("--rtol", "--atol", "--eps"):
        for value in ("-1", "nan", "inf", "2" if flag != "--atol" else "-0.5"):
            result = runner.invoke(main, ["gradcheck", "circuit", "-q", flag, value])
            assert result.exit_code == 2, (flag, value, result.output)
            with pytest.raises(UsageError):
                backprop_cli.gradcheck(graph(), **{flag[2:]: float(value)})
