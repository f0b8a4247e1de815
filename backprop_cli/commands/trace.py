"""`backprop trace`: every gate's value and how the gradient flows back through it."""

from __future__ import annotations

import click

from .options import (
    chosen_mode,
    epilog,
    graph_argument,
    load_graph,
    parse_direction,
    reports_errors,
    trace_options,
)
from .output_options import output_options


@click.command(epilog=epilog("trace"))
@graph_argument
@trace_options
@click.option(
    "--explain", is_flag=True, help="The chain-rule step of every edge, in words and numbers (or Markdown, LaTeX)."
)
@click.option("--full", is_flag=True, help="Print tensors in full instead of shape and summary.")
@output_options(
    "trace",
    format_help="Output format: table (default), markdown or latex (write-ups, answer keys), json (schema "
    "backprop.trace, version 2), or a drawing (svg, png, pdf, dot, html; see render).",
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
    output,
) -> None:
    """Evaluate GRAPH and show, gate by gate, how the gradient flows back."""
    from ..engines.trace import run_trace

    output.check()
    mode = chosen_mode(mode, direction)
    loaded = load_graph(graph, at, allow_python)
    output.check_not_inputs()
    result = run_trace(loaded, mode, parse_direction(direction), grad_output)
    if direction is not None:
        result.wrt = direction  # as given (JSON `wrt`); tables shorten it
    output.show(result, loaded, explain=explain, full=full)


command = trace
