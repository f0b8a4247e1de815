"""`backprop trace`: every gate's value and how the gradient flows back through it."""

from __future__ import annotations

import sys

import click

from .options import EXIT_CODES, graph_options, load_graph, mode_options, reports_errors


@click.command(epilog=EXIT_CODES)
@click.argument("graph")
@mode_options
@graph_options
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
    from ..outputs.tables import RICH_ROWS, json_object, markdown, plain_table, rich_table

    if direction is not None and mode == "reverse":
        mode = "forward"
    result = run_trace(load_graph(graph, at, allow_python), mode, direction)
    lines = None
    if explain:
        from ..outputs.explain import explain_lines  # only --explain pays for it

        lines = explain_lines(result)
    if as_json or fmt == "json":
        from ..outputs.json_output import emit_json

        emit_json(json_object(result, lines), pretty)
    elif fmt == "markdown":
        click.echo(markdown(result, full, lines), nl=False)
    elif len(result.rows) > RICH_ROWS or not sys.stdout.isatty():  # rich (and its ~40 ms) only for a terminal
        click.echo(plain_table(result, full, width=40 if sys.stdout.isatty() else None), nl=False)
        if lines:
            click.echo("\n".join(lines))
    else:
        from rich.console import Console

        console = Console()
        if not console.is_terminal:
            console.width = max(console.width, 160)  # a file or pipe: no reason to squeeze columns
        console.print(rich_table(result, full))
        if lines:
            console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)


command = trace
