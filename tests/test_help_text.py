"""Every command's --help as an 80-column terminal shows it: ranges written as numbers are (0<x<=1e6, not
0.0<x<=1000000.0; 0<=x<2^63, not 0<=x<=9223372036854775807), -o's help names the file names the command tells apart, and no option is offered that the
command refuses (render draws: its --json and --pretty are kept working, out of its help)."""

from __future__ import annotations

import re

import click
import pytest

from backprop_cli.cli import COMMANDS, main
from backprop_cli.outputs.formats import FORMATS, formats_of


def _help(run, command: str) -> str:
    result = run(command, "--help", terminal_width=80)
    assert result.exit_code == 0
    return result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_fits_80_columns_and_writes_numbers_as_numbers(run, command):
    text = _help(run, command)
    too_wide = [line for line in text.splitlines() if len(line) > 80 and "backprop" not in line]  # examples: as typed
    assert not too_wide, too_wide
    assert not re.search(r"\d\.0(<|\]|$)|\d{7}\.0", text), re.findall(r".*\d\.0(?:<|\]).*", text)
    assert not re.search(r"\d{10}", text), re.findall(r".*\d{10}.*", text)  # --seed: 0<=x<2^63, not 9223372036854775807


@pytest.mark.parametrize("command", ["trace", "derivatives", "ops", "examples"])
def test_o_names_the_file_names_the_command_tells_apart(run, command):
    ctx = click.Context(main)
    kind = main.get_command(ctx, command).callback.output_kind
    kinds = (kind.kind, *kind.kinds)
    names = [n for n in FORMATS if any(n in formats_of(k) for k in kinds)]
    text = " ".join(_help(run, command).split())
    said = re.search(r"in the format its name says \(([^)]*)\)", text).group(1).split(", ")
    assert said == [FORMATS[n].suffixes[0] for n in names][: len(said)] or said[-1] == "…", said
    assert ".md" not in said or "markdown" in names


def test_render_offers_no_json_yet_still_answers_it(run):
    text = _help(run, "render")
    assert "--json" not in text and "--pretty" not in text
    result = run("render", "circuit", "--json")
    assert result.exit_code == 2 and "backprop render writes" in result.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["examples", "circuit", "--format", "markdown"], "--format markdown lists the examples: leave NAME out"),
        (["examples", "circuit", "--json"], "--json lists the examples: leave NAME out"),
        (["examples", "--format", "yaml"], "yaml is one example's graph file: give its NAME"),
    ],
)
def test_examples_says_which_formats_go_with_a_name(run, args, words):
    result = run(*args)
    assert result.exit_code == 2 and words in result.stderr, result.stderr
