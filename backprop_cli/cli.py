"""The `backprop` command: parse options, call the library, format the result. Nothing else."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable

import click

from .errors import BackpropError, ExitCode

EXIT_CODES = """\b
Exit codes:
  0  success
  1  a check failed (gradcheck, a wrong `expect`)
  2  bad usage or a bad graph file
  3  evaluation error (NaN/inf, log of 0, ...), naming the node"""


def reports_errors(command: Callable) -> Callable:
    """Turn the project's errors into one line on stderr and the documented exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BackpropError as err:
            click.echo(f"backprop: error: {err}", err=True)
            sys.exit(int(err.exit_code))
        except MemoryError:
            click.echo("backprop: error: out of memory while evaluating the graph", err=True)
            sys.exit(int(ExitCode.EVALUATION))
        except RecursionError:
            click.echo("backprop: error: input nested too deeply", err=True)
            sys.exit(int(ExitCode.BAD_INPUT))

    return wrapper


def load_graph(path: str, at: tuple[str, ...] = ()):
    from . import load
    from .errors import UsageError

    graph = load(path)
    for warning in graph.warnings:
        click.echo(warning, err=True)
    overrides = {}
    for item in at:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--at takes name=value, not {item!r}")
        overrides[name.strip()] = value
    return graph.with_values(overrides) if overrides else graph


@click.group(epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="backprop-cli", message="backprop %(version)s")
def main() -> None:
    """Make backpropagation visible and verifiable.

    GRAPH is a graph file (graphs/circuit.yaml) or the name of a bundled example (circuit).
    """


@main.command(epilog=EXIT_CODES)
@click.argument("graph")
@click.option(
    "--mode",
    type=click.Choice(["reverse", "forward", "both"]),
    default="reverse",
    show_default=True,
    help="Reverse mode (backpropagation), forward mode (tangents), or both.",
)
@click.option("--wrt", metavar="LEAF", help="Forward-mode direction: a leaf (x), an element (x[2,3]) or x=[...].")
@click.option("--at", multiple=True, metavar="NAME=VALUE", help="Override a leaf's value, e.g. --at x=3.")
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
@reports_errors
def trace(
    graph: str, mode: str, wrt: str | None, at: tuple[str, ...], explain: bool, full: bool, as_json: bool, fmt: str
) -> None:
    """Evaluate GRAPH and show, gate by gate, how the gradient flows back."""
    from .outputs.explain import explain_lines
    from .outputs.tables import json_object, markdown, rich_table
    from .outputs.trace import run_trace

    if wrt is not None and mode == "reverse":
        mode = "forward"
    result = run_trace(load_graph(graph, at), mode, wrt)
    lines = explain_lines(result) if explain else None
    if as_json or fmt == "json":
        click.echo(json.dumps(json_object(result, lines), indent=2))
    elif fmt == "markdown":
        click.echo(markdown(result, full, lines), nl=False)
    else:
        from rich.console import Console

        console = Console()
        console.print(rich_table(result, full))
        if lines:
            console.print("\n".join(lines), markup=False, highlight=False)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="A JSON list of {name, file, about}.")
@reports_errors
def examples(as_json: bool) -> None:
    """List the bundled example graphs, one line each."""
    from .examples import bundled
    from .fileformat import load

    items = []
    for path in bundled():
        about = load(path).about
        items.append({"name": path.stem, "file": str(path), "about": about})
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    width = max((len(i["name"]) for i in items), default=0)
    for item in items:
        click.echo(f"{item['name']:<{width}}  {item['about']}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="A JSON list of the op table.")
def ops(as_json: bool) -> None:
    """List every op with its formula and gate kind."""
    from .ops import OPS

    rows = [
        {
            "op": op.name,
            "operands": op.arity,
            "formula": op.formula,
            "gate": op.gate.role,
            "meaning": op.gate.meaning,
            "keywords": {k: v for k, v in op.attrs.items()},
        }
        for op in OPS.values()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="backprop ops", title_justify="left")
    for col in ("op", "formula", "gate", "what the gate does to the gradient", "keywords"):
        table.add_column(col)
    for r in rows:
        kw = ", ".join(f"{k}={v}" for k, v in r["keywords"].items())
        table.add_row(r["op"], r["formula"], r["gate"], r["meaning"], kw)
    Console().print(table)
