"""`backprop trace`: every gate's value and how the gradient flows back through it."""

from __future__ import annotations

import click

from ..errors import UsageError
from .options import (
    chosen_mode,
    epilog,
    graph_argument,
    load_graph,
    parse_direction,
    reports_errors,
    trace_options,
)


@click.command(epilog=epilog("trace"))
@graph_argument
@trace_options
@click.option("--explain", is_flag=True, help="The chain-rule step of every edge, in words and numbers.")
@click.option("--full", is_flag=True, help="Print tensors in full instead of shape and summary.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (schema backprop.trace, version 1).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "markdown", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--pretty/--compact",
    default=None,
    help="JSON indented for people, or compact for programs (default: indented up to 100,000 numbers).",
)
@reports_errors
def trace(
    graph: str,
    mode: str,
    direction: str | None,
    grad_output: str | None,
    at: tuple[str, ...],
    allow_python: bool,
    explain: bool,
    full: bool,
    as_json: bool,
    fmt: str,
    pretty: bool | None,
) -> None:
    """Evaluate GRAPH and show, gate by gate, how the gradient flows back."""
    from ..engines.trace import run_trace
    from ..errors import printable
    from ..outputs.tables import RICH_ROWS, json_object, markdown, plain_table, print_trace
    from ..outputs.terminal import stdout_is_terminal

    given = click.get_current_context().get_parameter_source("fmt") is not click.core.ParameterSource.DEFAULT
    if as_json and given and fmt != "json":
        raise UsageError(f"--json and --format {fmt} ask for two outputs; give one of them")
    if as_json:
        fmt = "json"
    mode = chosen_mode(mode, direction)
    result = run_trace(load_graph(graph, at, allow_python), mode, parse_direction(direction), grad_output)
    if direction is not None:
        result.wrt = direction  # as given (JSON `wrt`); tables shorten it
    lines = None
    if explain:
        from ..outputs.explain import explain_lines  # only --explain pays for it

        lines = explain_lines(result, full)
    if fmt == "json":
        from ..outputs.json_output import emit_json

        emit_json(json_object(result, lines), pretty)
    elif fmt == "markdown":
        click.echo(markdown(result, full, lines), nl=False)
    elif len(result.rows) > RICH_ROWS or not stdout_is_terminal():  # rich (and its ~40 ms) only for a terminal
        click.echo(plain_table(result, full, width=40 if stdout_is_terminal() else None), nl=False)
        if lines:
            click.echo("\n".join(map(printable, lines)))
    else:
        print_trace(result, full, lines)


command = trace
