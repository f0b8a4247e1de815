"""The output options every command shares: --format, --json, -o, --pretty/--compact, --quiet (one decorator).

reports_errors (options.py) reads them into an outputs.destination.Output, which the command receives as
`output`: it checks the files before any work, and shows the result (or the error that stopped the run) in
every format asked for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import click

from .completion import complete_file

NAMES = ("fmt", "as_json", "out", "pretty", "quiet")  # the parameters the options fill


@dataclass(frozen=True)
class OutputKind:
    """What a command's output options read into: its kind of result (and others it may give), the format
    without --format or -o (default), and what stdout shows beside -o FILE (text; None: nothing)."""

    kind: str
    kinds: tuple[str, ...] = ()
    default: str = "table"
    text: str | None = "table"
    only: tuple[str, ...] | None = None  # the formats it writes, where not all of its kinds' (render: drawings)
    pick: Callable[[dict], tuple[str, bool]] | None = None  # from the run's other arguments: the kind of result
    #   it gives where not `kind`, and whether -o may name a folder (gradcheck --answers: grades, a class's)


def output_options(
    kind: str,
    *,
    kinds: tuple[str, ...] = (),
    default: str = "table",
    text: str | None = "table",
    only: tuple[str, ...] | None = None,
    pick: Callable[[dict], tuple[str, bool]] | None = None,
    file_help: str | None = None,
    format_help: str | None = None,
    quiet_help: str = "No notes, progress or 'wrote FILE' lines on stderr; with -o, no text on stdout.",
) -> Callable:
    """--format, --json, -o/--output, --pretty/--compact and -q/--quiet, the same for every command."""
    from ..outputs.formats import FORMATS, formats_of

    names = [
        name for name in FORMATS if any(name in formats_of(k) for k in (kind, *kinds)) and name in (only or FORMATS)
    ]
    suffixes = list(dict.fromkeys(FORMATS[name].suffixes[0] for name in names))  # the names -o FILE tells apart
    said = ", ".join(suffixes if len(suffixes) <= 4 else [*suffixes[:3], "…"])
    writes_json = "json" in names  # render draws only: its --json and --pretty are kept, out of its help
    options = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(names),
            help=format_help or f"Output format (default {default}; with -o, the one FILE's name says).",
        ),
        click.option(
            "--json",
            "as_json",
            is_flag=True,
            hidden=not writes_json,
            help="Shorthand for --format json: one JSON object.",
        ),
        click.option(
            "-o",
            "--output",
            "out",
            metavar="FILE",
            shell_complete=complete_file,
            help=file_help or f"Write the output to FILE (- for stdout), in the format its name says ({said}).",
        ),
        click.option(
            "--pretty/--compact",
            default=None,
            hidden=not writes_json,
            help="JSON indented for people, or compact for programs (default: indented up to 100,000 numbers).",
        ),
        click.option("-q", "--quiet", is_flag=True, help=quiet_help),
    ]

    def decorate(command: Callable) -> Callable:
        for option in reversed(options):
            command = option(command)
        command.output_kind = OutputKind(kind, kinds, default, text, only, pick)  # read by reports_errors per call
        return command

    return decorate


def read_output(command: str, how: OutputKind, given: dict, lenient: bool = False, args: dict | None = None):
    """The Output (outputs.destination) of a run's output options; lenient: never refuse (the error path).
    args: the run's other arguments, for a command whose kind of result depends on them (OutputKind.pick)."""
    from ..outputs.destination import choose

    values = {name: given.get(name) for name in NAMES}
    kind, kinds, folder = how.kind, how.kinds, False
    if how.pick is not None and args is not None:
        (kind, folder), kinds = how.pick(args), ()  # this run's kind alone: its formats, and no other's
    output = choose(
        command,
        kind,
        fmt=values["fmt"],
        as_json=bool(values["as_json"]),
        out=values["out"],
        pretty=values["pretty"],
        quiet=bool(values["quiet"]),
        default=how.default,
        text=how.text,
        kinds=kinds,
        only=how.only,
        lenient=lenient,
        folder=folder,
    )
    for key, value in (args or {}).items():  # files the run may read: an error in -o FILE never replaces one
        values = () if key in NAMES else value if isinstance(value, (tuple, list)) else (value,)
        output.named += [v for v in values if isinstance(v, str)]
    return output
