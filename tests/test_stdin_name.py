"""A graph piped in (`backprop COMMAND -`) is named <stdin> in every message and report of every command, as its
errors already were: gradcheck's verdict line and reports said `-`, derivatives' header `(-)`."""

from __future__ import annotations

import json

import pytest

QUADRATIC = "params: {w: 2.0}\ninputs: {x: 3.0}\nnodes:\n  f: (w * x + 1) ** 2\noutput: f\n"
BROKEN = "inputs: {x: 1}\nnodes: {f: x ^ 2}\noutput: f\n"
COMMANDS = [
    ["trace", "-"],
    ["gradcheck", "-"],
    ["jacobian", "-"],
    ["hessian", "-"],
    ["derivatives", "-", "--wrt", "w"],
    ["render", "-", "-o", "-", "--format", "dot"],
    ["train", "-", "--steps", "2"],
    ["worksheet", "-", "--variants", "1", "--secret", "s", "-o", "sheets"],
]


def _named_dash(text: str) -> list[str]:
    """Lines that name a file `-`: as a word between spaces, in parentheses, or before a colon."""
    return [line for line in text.splitlines() if " - " in f" {line} " or "(-)" in line or " -:" in line]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_a_bad_graph_on_stdin_is_named_stdin(run, args):
    result = run(*args, input=BROKEN)
    assert result.exit_code == 2
    assert result.stderr.startswith("backprop: error: <stdin>:2:"), result.stderr


@pytest.mark.parametrize("args", COMMANDS[:-1], ids=lambda a: a[0])
def test_what_a_command_prints_about_a_piped_graph_never_names_it_dash(run, args):
    result = run(*args, input=QUADRATIC)
    assert result.exit_code == 0, result.stderr
    assert not _named_dash(result.stdout + result.stderr), result.stdout + result.stderr


def test_gradcheck_names_stdin_in_its_verdict_lines_and_reports(run, tmp_path):
    other = tmp_path / "g.yaml"
    other.write_text(QUADRATIC)
    assert run("gradcheck", "-", input=QUADRATIC).stdout.splitlines()[-1].startswith("PASS  <stdin>  ")
    several = run("gradcheck", "-", str(other), input=QUADRATIC).stdout.splitlines()
    assert several[0].startswith("PASS  <stdin>  ") and several[1].startswith(f"PASS  {other}  ")
    failed = run("gradcheck", "-", str(other), input=BROKEN).stdout.splitlines()
    assert failed[0].startswith("ERROR  <stdin>  <stdin>:2:"), failed
    assert run("gradcheck", "-", "--format", "markdown", input=QUADRATIC).stdout.startswith("### PASS  <stdin>  ")
    assert 'name="&lt;stdin&gt;"' in run("gradcheck", "-", "--format", "junit", input=QUADRATIC).stdout
    assert json.loads(run("gradcheck", "-", "--json", input=QUADRATIC).stdout)["file"] == "<stdin>"


def test_derivatives_names_stdin_in_its_header(run):
    result = run("derivatives", "-", "--wrt", "w", input=QUADRATIC)
    assert result.stdout.splitlines()[0].endswith("(<stdin>)"), result.stdout
    assert json.loads(run("derivatives", "-", "--wrt", "w", "--json", input=QUADRATIC).stdout)["file"] == "<stdin>"


def test_the_name_is_defined_once():
    from backprop_cli.fileformat import STDIN_SOURCE, shown_name

    assert shown_name("-") == STDIN_SOURCE == "<stdin>" and shown_name("g.yaml") == "g.yaml"
