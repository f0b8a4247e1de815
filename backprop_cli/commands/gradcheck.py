"""`backprop gradcheck`: reverse and forward mode against a numerical reference; a verdict scripts can trust."""

from __future__ import annotations

import sys

import click

from ..errors import BackpropError, ExitCode
from ..verify.check import METHODS, MODES
from .options import EXIT_CODES, graph_options, in_flag_words, load_graph, renamed_option, reports_errors

FLAGS = {"mode": "--elements"}  # gradcheck's arguments whose flag has another name

MORE = """\b
With several files: one line per file and a summary; the exit code is the
largest of the files' (3 > 2 > 1 > 0)."""


@click.command(epilog=EXIT_CODES + "\n\n" + MORE)
@click.argument("graphs", nargs=-1, required=True, metavar="GRAPH...")
@graph_options
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="auto",
    show_default=True,
    help="Numerical reference: complex step where every op on the path is analytic, else Richardson.",
)
@renamed_option(
    "--mode",
    "--elements",
    type=click.Choice(MODES),
    default="auto",
    show_default=True,
    help="Elements checked: every one, a seeded sample, or random directions only (auto: by size).",
)
@click.option(
    "--samples", type=click.IntRange(1), default=20, show_default=True, help="Elements per leaf in sample mode."
)
@click.option("--directions", type=click.IntRange(0), default=2, show_default=True, help="Random directions per leaf.")
@click.option("--eps", type=click.FloatRange(0, min_open=True), help="Absolute step (default: scaled per element).")
@click.option("--rtol", type=click.FloatRange(0), help="Relative tolerance (default per dtype: 1e-7, float32 2e-3).")
@click.option("--atol", type=click.FloatRange(0), help="Absolute tolerance added to the relative one (default 0).")
@click.option("--strict", is_flag=True, help="Kinks count as failures.")
@click.option("--nodes", is_flag=True, help="Check the gradient of every node too, not only the leaves.")
@click.option("--wrt", multiple=True, metavar="NAMES", help="Check only these leaves or nodes (comma-separated).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampled elements and directions.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (schema backprop.gradcheck, version 1).")
@click.option("-q", "--quiet", is_flag=True, help="Only the exit code and one line.")
@reports_errors(flags=FLAGS)
def gradcheck(
    graphs: tuple[str, ...], at, allow_python: bool, as_json: bool, quiet: bool, wrt, elements: str, **options
) -> None:
    """Check GRAPH's reverse-mode gradients and forward-mode derivatives against a numerical reference.

    Each leaf gets a verdict: pass, fail, or kink (the finite-difference stencil crossed a
    non-differentiable point such as ReLU at 0; not a failure unless --strict). The file's
    `expect:` answers are checked too.
    """
    from ..outputs.gradcheck_report import SCHEMA, detail_lines, report_json, rich_table, verdict_line
    from ..verify import gradcheck as run

    names = [n.strip() for item in wrt for n in item.split(",") if n.strip()] or None
    options["mode"] = elements  # the library's name
    if len(graphs) == 1:  # bad input is an error line on stderr, as for every command
        report = run(load_graph(graphs[0], at, allow_python), wrt=names, **options)
        if as_json:
            import json

            click.echo(json.dumps(report_json(report), indent=2))
        elif quiet:
            click.echo(verdict_line(graphs[0], report))
        else:
            from rich.console import Console

            console = Console()
            if not console.is_terminal:
                console.width = max(console.width, 140)
            console.print(rich_table(report))
            console.print("\n".join(detail_lines(report)), markup=False, highlight=False, soft_wrap=True)
            console.print(verdict_line(graphs[0], report), markup=False, highlight=False, soft_wrap=True)
        sys.exit(int(ExitCode.OK if report.passed else ExitCode.FAILED))

    results, codes = [], []
    for path in graphs:
        try:
            report = run(load_graph(path, at, allow_python), wrt=names, **options)
        except BackpropError as err:
            codes.append(int(err.exit_code))
            line = in_flag_words(err, FLAGS)
            results.append({"file": path, "status": "error", "exit_code": int(err.exit_code), "error": line})
            if not as_json and not quiet:
                click.echo(f"ERROR  {path}  {line}")
            continue
        codes.append(int(ExitCode.OK if report.passed else ExitCode.FAILED))
        results.append(report_json(report) if as_json else report.status)
        if not as_json and not quiet:
            click.echo(verdict_line(path, report))
    statuses = [r["status"] if isinstance(r, dict) else r for r in results]
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("pass", "kink", "fail", "error") if statuses.count(s))
    if as_json:
        import json

        click.echo(json.dumps({**SCHEMA, "passed": max(codes) == 0, "files": results}, indent=2))
    else:
        click.echo(f"{len(graphs)} files: {counts}")
    sys.exit(max(codes))


command = gradcheck
