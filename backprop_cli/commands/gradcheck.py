"""`backprop gradcheck`: reverse and forward mode against a numerical reference; a verdict scripts can trust."""

from __future__ import annotations

import sys

import click

from ..errors import BackpropError, ExitCode, StudentCodeError, UsageError
from ..verify.check import METHODS, MODES
from ..verify.derivatives import MAX_ORDER
from .options import (
    EXIT_CODES,
    Finite,
    explain_error,
    graph_options,
    in_flag_words,
    load_graph,
    output_failed,
    renamed_option,
    reports_errors,
    seed_option,
    split_names,
)

FLAGS = {"mode": "--elements"}  # gradcheck's arguments whose flag has another name

MAX_SAMPLES = 100_000  # two evaluations each: more would run for hours
MAX_DIRECTIONS = 1_000  # a direction is as big as its leaf: more would fill memory
MORE = """\b
With several files: one line per file and a summary; the exit code is the
largest of the files' (3 > 2 > 1 > 0)."""


class MemorySize(click.ParamType):
    """A size in bytes: 2GiB, 512MiB, 2G, 1500000000."""

    name = "SIZE"
    UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int):
            return value
        import re

        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", str(value).lower())
        if not m or float(m.group(1)) * self.UNITS[m.group(2)] < 2**20:
            self.fail(f"{value!r} is not a size of at least 1MiB, like 512MiB or 2GiB", param, ctx)
        return int(float(m.group(1)) * self.UNITS[m.group(2)])


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
    "--order",
    type=click.IntRange(1, MAX_ORDER),
    default=1,
    show_default=True,
    help="2: check second derivatives too (Hessian-vector products against differences of gradients); "
    "N ≥ 3: and derivatives 3 to N of a scalar output along a random direction per leaf.",
)
@seed_option("Seed of the sampled elements and directions.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (schema backprop.gradcheck, version 1).")
@click.option("-q", "--quiet", is_flag=True, help="Only the exit code and one line.")
@click.option(
    "--timeout",
    type=Finite(0, 24 * 3600, min_open=True),
    metavar="SECONDS",
    default=30.0,
    show_default=True,
    help="Seconds plugin code (--allow-python) may run per file; then the file's verdict is error.",
)
@click.option(
    "--memory",
    type=MemorySize(),
    default="2GiB",
    show_default=True,
    help="Memory plugin code may allocate per file (e.g. 512MiB, 4GiB); more is the verdict error.",
)
@reports_errors(flags=FLAGS)
def gradcheck(
    graphs: tuple[str, ...],
    at,
    allow_python: bool,
    as_json: bool,
    quiet: bool,
    wrt,
    elements: str,
    timeout: float,
    memory: int,
    **options,
) -> None:
    """Check GRAPH's reverse-mode gradients and forward-mode derivatives against a numerical reference.

    Each leaf gets a verdict: pass, fail, or kink (the finite-difference stencil crossed a
    non-differentiable point such as ReLU at 0; not a failure unless --strict). The file's
    `expect:` answers are checked too. Plugin code runs in a process of its own, one per file:
    a crash, a kill, or running out of --timeout or --memory is the verdict error (exit 1).
    """
    from ..errors import printable
    from ..fileformat.option_values import read_overrides
    from ..fileformat.sandbox import Limits
    from ..outputs.gradcheck_report import SCHEMA, print_report, report_json, verdict_line
    from ..outputs.json_output import emit_json as write

    if as_json and quiet:
        raise UsageError("--json and --quiet ask for two outputs; give one of them")
    read_overrides("--at", at)  # a bad --at is a usage error once, not an error line per file
    names = split_names(wrt) or None
    options["mode"] = elements  # the library's name
    limits = Limits(timeout=timeout, memory=memory, command="gradcheck")
    if len(graphs) == 1:  # bad input is an error line on stderr, as for every command
        report, error, printed = _check(graphs[0], at, allow_python, names, limits, options)
        if isinstance(error, StudentCodeError):
            result = _error_entry(graphs[0], error, ExitCode.FAILED, allow_python, printed)
            if as_json:
                write({**SCHEMA, "passed": False, **result})
            else:
                click.echo(printable(f"ERROR  {graphs[0]}  {result['error']}"))
            sys.exit(int(ExitCode.FAILED))
        if error is not None:
            raise error
        if as_json:
            write(_with_output(report_json(report), allow_python, printed))
        elif quiet:
            click.echo(printable(verdict_line(graphs[0], report)))
        else:
            print_report(graphs[0], report)
        sys.exit(int(ExitCode.OK if report.passed else ExitCode.FAILED))

    results, codes = [], []
    for path in graphs:
        report, error, printed = _check(path, at, allow_python, names, limits, options)
        if error is not None:  # a crash, a kill, a timeout of the student's code is a verdict, exit 1
            code = ExitCode.FAILED if isinstance(error, StudentCodeError) else explain_error(error)[2]
            codes.append(int(code))
            results.append(_error_entry(path, error, code, allow_python, printed))
            if not as_json and not quiet:
                click.echo(printable(f"ERROR  {path}  {results[-1]['error']}"))
            continue
        codes.append(int(ExitCode.OK if report.passed else ExitCode.FAILED))
        results.append(_with_output(report_json(report), allow_python, printed) if as_json else report.status)
        if not as_json and not quiet:
            click.echo(printable(verdict_line(path, report)))
    statuses = [r["status"] if isinstance(r, dict) else r for r in results]
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("pass", "kink", "fail", "error") if statuses.count(s))
    if as_json:
        write({**SCHEMA, "passed": max(codes) == 0, "files": results})
    else:
        click.echo(f"{len(graphs)} files: {counts}")
    sys.exit(max(codes))


def _check(path: str, at, allow_python: bool, names, limits, options: dict):
    """(report, None, printed) or (None, the error, printed): one file, its plugin code in a worker of its own."""
    from ..fileformat.sandbox import session
    from ..verify import gradcheck as run

    report = error = None
    with session(limits) as student:
        try:
            report = run(load_graph(path, at, allow_python), wrt=names, **options)
        except Exception as err:  # any error of one file is its entry; the next file is still checked
            if isinstance(err, OSError) and output_failed(err):
                raise
            error = err
    printed = student.output
    if printed:  # on stderr, never inside the report on stdout
        click.echo(f"backprop: {path}: the plugin code printed:", err=True)
        click.echo(printed.rstrip("\n"), err=True)
    return report, error, printed


def _error_entry(path: str, err: Exception, code: int, allow_python: bool, printed: str) -> dict:
    """The file's entry: its error line, and the message, file, line and column of the error object."""
    from ..outputs.json_document import error_object

    if isinstance(err, BackpropError):
        line, message, where = in_flag_words(err, FLAGS), err.message, err.where
    else:  # out of memory, or a bug of ours: still this file's entry only
        _, line, code, message, where = explain_error(err)
    position = error_object(message, code, where)
    entry = {"file": path, "status": "error", "exit_code": int(code), "error": line}
    entry.update({key: position[key] for key in ("message", "line", "column")})  # "file" stays the graph given
    return _with_output(entry, allow_python, printed)


def _with_output(entry: dict, allow_python: bool, printed: str) -> dict:
    """With --allow-python, what the file's plugin code printed ("stdout"; "" when nothing)."""
    return {**entry, "stdout": printed} if allow_python else entry


command = gradcheck
