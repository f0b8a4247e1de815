"""`backprop gradcheck`: reverse and forward mode against a numerical reference; a verdict scripts can trust."""

from __future__ import annotations

import sys

import click

from ..cli import EXIT_CODES, MAX_SEED, Finite, explain_error, graph_options, load_graph, output_failed, reports_errors
from ..errors import ExitCode, UsageError
from ..verify.check import METHODS, MODES

MAX_SAMPLES = 100_000  # two evaluations each: more would run for hours
MAX_DIRECTIONS = 1_000  # a direction is as big as its leaf: more would fill memory
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
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="auto",
    show_default=True,
    help="Elements checked: every one, a seeded sample, or random directions only (auto: by size).",
)
@click.option(
    "--samples",
    type=click.IntRange(1, MAX_SAMPLES),
    default=20,
    show_default=True,
    help="Elements per leaf in sample mode.",
)
@click.option(
    "--directions",
    type=click.IntRange(0, MAX_DIRECTIONS),
    default=2,
    show_default=True,
    help="Random directions per leaf.",
)
@click.option("--eps", type=Finite(0, 1, min_open=True), help="Absolute step (default: scaled per element).")
@click.option("--rtol", type=Finite(0, 1), help="Relative tolerance (default per dtype: 1e-7, float32 2e-3).")
@click.option("--atol", type=Finite(0), help="Absolute tolerance added to the relative one (default 0).")
@click.option("--strict", is_flag=True, help="Kinks count as failures.")
@click.option("--nodes", is_flag=True, help="Check the gradient of every node too, not only the leaves.")
@click.option("--wrt", multiple=True, metavar="NAMES", help="Check only these leaves or nodes (comma-separated).")
@click.option(
    "--seed",
    type=click.IntRange(0, MAX_SEED),
    default=0,
    show_default=True,
    help="Seed of the sampled elements and directions.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (schema backprop.gradcheck, version 1).")
@click.option("-q", "--quiet", is_flag=True, help="Only the exit code and one line.")
@reports_errors
def gradcheck(graphs: tuple[str, ...], at, allow_python: bool, as_json: bool, quiet: bool, wrt, **options) -> None:
    """Check GRAPH's reverse-mode gradients and forward-mode derivatives against a numerical reference.

    Each leaf gets a verdict: pass, fail, or kink (the finite-difference stencil crossed a
    non-differentiable point such as ReLU at 0; not a failure unless --strict). The file's
    `expect:` answers are checked too.
    """
    from ..errors import printable
    from ..fileformat.option_values import read_option_value
    from ..outputs.gradcheck_report import SCHEMA, print_report, report_json, verdict_line
    from ..outputs.json_document import error_object, write
    from ..verify import gradcheck as run

    if as_json and quiet:
        raise UsageError("--json and --quiet ask for two outputs; give one of them")

    for item in at:  # a bad --at is a usage error once, not an error line per file
        read_option_value("--at", item)
    names = [n.strip() for item in wrt for n in item.split(",") if n.strip()] or None
    if len(graphs) == 1:  # bad input is an error line on stderr, as for every command
        report = run(load_graph(graphs[0], at, allow_python), wrt=names, **options)
        if as_json:
            write(report_json(report))
        elif quiet:
            click.echo(printable(verdict_line(graphs[0], report)))
        else:
            print_report(graphs[0], report)
        sys.exit(int(ExitCode.OK if report.passed else ExitCode.FAILED))

    results, codes = [], []
    for path in graphs:
        try:
            report = run(load_graph(path, at, allow_python), wrt=names, **options)
        except Exception as err:  # one bad file is an error line (and entry); the next file is checked
            if isinstance(err, OSError) and output_failed(err):
                raise
            label, line, code, message, where = explain_error(err)
            codes.append(code)
            results.append({"file": path, "status": "error", **error_object(message, code, where), "error": line})
            if not as_json and not quiet:
                click.echo(f"ERROR  {printable(path)}  {printable(line)}")
            continue
        codes.append(int(ExitCode.OK if report.passed else ExitCode.FAILED))
        results.append(report_json(report) if as_json else report.status)
        if not as_json and not quiet:
            click.echo(printable(verdict_line(path, report)))
    statuses = [r["status"] if isinstance(r, dict) else r for r in results]
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("pass", "kink", "fail", "error") if statuses.count(s))
    if as_json:
        write({**SCHEMA, "passed": max(codes) == 0, "files": results})
    else:
        click.echo(f"{len(graphs)} files: {counts}")
    sys.exit(max(codes))


command = gradcheck
