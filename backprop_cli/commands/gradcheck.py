"""`backprop gradcheck`: reverse and forward mode against a numerical reference; a verdict scripts can trust."""

from __future__ import annotations

import sys

import click

from ..errors import BackpropError, ExitCode, StudentCodeError, UsageError
from ..verify.check import METHODS, MODES
from .grading import kind_of_run
from .option_slips import refuse_unused
from .options import (
    complete_file,
    complete_graph,
    epilog,
    explain_error,
    graph_options,
    in_flag_words,
    load_graph,
    output_failed,
    renamed_option,
    reports_errors,
    rule_type,
    seed_option,
    split_names,
)
from .output_options import output_options

FLAGS = {"mode": "--elements"}  # gradcheck's arguments whose flag has another name

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

        from ..arguments import RULES

        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", str(value).lower())
        if not m or float(m.group(1)) * self.UNITS[m.group(2)] < RULES["memory"].low:
            self.fail(f"{value!r} is not a size of at least 1MiB, like 512MiB or 2GiB", param, ctx)
        size = int(float(m.group(1)) * self.UNITS[m.group(2)])
        if not RULES["memory"].accepts(size):  # the worker could not even set it as a limit
            self.fail(f"{value!r} is more than any machine has (at most 1024TiB); the default is 2GiB", param, ctx)
        return size


@click.command(epilog=epilog("gradcheck", "\n\n" + MORE))
@click.argument("graphs", nargs=-1, required=True, metavar="GRAPH...", shell_complete=complete_graph)
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
    type=rule_type("samples"),
    default=20,
    show_default=True,
    help="Elements per leaf in sample mode.",
)
@click.option(
    "--directions",
    type=rule_type("directions"),
    default=2,
    show_default=True,
    help="Random directions per leaf.",
)
@click.option("--eps", type=rule_type("eps"), help="Absolute step (default: scaled per element).")
@click.option("--rtol", type=rule_type("rtol"), help="Relative tolerance (default per dtype: 1e-7, float32 2e-3).")
@click.option("--atol", type=rule_type("atol"), help="Absolute tolerance added to the relative one (default 0).")
@click.option("--strict", is_flag=True, help="Kinks count as failures.")
@click.option("--nodes", is_flag=True, help="Check the gradient of every node too, not only the leaves.")
@click.option("--wrt", multiple=True, metavar="NAMES", help="Check only these leaves or nodes (comma-separated).")
@click.option(
    "--order",
    type=rule_type("order"),
    default=1,
    show_default=True,
    help="2: check second derivatives too (Hessian-vector products against differences of gradients); "
    "N ≥ 3: and derivatives 3 to N of a scalar output along a random direction per leaf.",
)
@seed_option("Seed of the sampled elements and directions.")
@click.option(
    "--timeout",
    type=rule_type("timeout"),
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
@click.option(
    "--answers",
    metavar="FILE",
    shell_complete=complete_file,
    help="Grade a student's answers (expect: form; a folder or a CSV file: a class's) instead; see --student.",
)
@click.option("--student", metavar="ID", help="Whose answers --answers FILE holds: graded against their own version.")
@click.option(
    "--secret", envvar="BACKPROP_SECRET", show_envvar=True, metavar="TEXT", help="The course secret of the versions."
)
@click.option(
    "--blank",
    type=click.Choice(["gradients", "values", "both"]),
    default="gradients",
    show_default=True,
    help="What the worksheets asked (with --answers).",
)
@output_options(
    "gradcheck",
    kinds=("grade",),
    pick=kind_of_run,
    format_help="Output format: table (default), json (schema backprop.gradcheck, version 1; with --answers "
    "backprop.grade), markdown, or a grader's results file: gradescope, prairielearn, junit (see "
    "docs/autograders.md); with --answers also csv.",
    file_help="Write the output to FILE (results.json, report.xml, ...), in --format or the format its name says; "
    "a class's --answers: -o DIR writes a file per student in --format.",
    quiet_help="Only the exit code and one line (the verdict); nothing on stderr but errors.",
)
@reports_errors(flags=FLAGS)
def gradcheck(
    graphs: tuple[str, ...],
    at,
    allow_python: bool,
    wrt,
    elements: str,
    timeout: float,
    memory: int,
    output,
    **options,
) -> None:
    """Check GRAPH's reverse-mode gradients and forward-mode derivatives against a numerical reference.

    Each leaf gets a verdict: pass, fail, or kink (the finite-difference stencil crossed a
    non-differentiable point such as ReLU at 0; not a failure unless --strict). The file's
    `expect:` answers are checked too. Plugin code runs in a process of its own, one per file:
    a crash, a kill, or running out of --timeout or --memory is the verdict error (exit 1).
    """
    if options["answers"] is not None or options["student"] is not None:  # grading (issue 25)
        from .grading import grade_command

        grade_command(graphs, at=at, allow_python=allow_python, output=output, **options)
    for key in ("answers", "student", "secret", "blank"):
        options.pop(key)
    from ..fileformat.option_values import read_overrides
    from ..fileformat.sandbox import Limits
    from ..verify.grading import Checks

    if graphs.count("-") > 1:
        raise UsageError("- reads a graph file from stdin, which holds one: give - once")
    read_overrides("--at", at)  # a bad --at is a usage error once, not an error line per file
    names = split_names(wrt) or None
    if elements in ("full", "direction"):
        refuse_unused(
            {
                "samples": f"sets how many elements --elements sample checks; --elements {elements} checks none by sampling"
            }
        )
    options["mode"] = elements  # the library's name
    if output.quiet and output.stdout not in (None, "table"):
        raise UsageError(
            f"--{'json' if output.stdout == 'json' else 'format ' + output.stdout} and --quiet ask for two outputs; give one of them"
        )
    output.check()
    limits = Limits(timeout=timeout, memory=memory, command="gradcheck")
    import time

    start, result = time.monotonic(), Checks(single=len(graphs) == 1)
    formats = {output.stdout, *(fmt for _, _, fmt in output.files)}  # PrairieLearn shows images: a failing graph drawn
    for path in graphs:
        checked = _check(path, at, allow_python, names, limits, options, drawn="prairielearn" in formats)
        if result.single and checked.failure is not None and not checked.failure.student:
            raise checked.failure.error  # bad input is an error line on stderr, as for every command
        result.files.append(checked)
        if not result.single:
            output.stream("gradcheck_file", checked)  # its line as soon as it is checked
    result.seconds = time.monotonic() - start
    output.show(result, streamed=not result.single)
    sys.exit(result.exit_code)


def _check(path: str, at, allow_python: bool, names, limits, options: dict, drawn: bool = False):
    """One file, its plugin code in a worker of its own: its report, or the failure that stopped its check, and
    its score (verify/grading.py: none when the file did not load, all parts failed when its code crashed)."""
    import time

    from ..fileformat import shown_name
    from ..fileformat.sandbox import session
    from ..outputs.progress import progress_on_terminal
    from ..verify import gradcheck as run
    from ..verify.grading import FileCheck, failed, grade

    start, graph, report, error, images = time.monotonic(), None, None, None, []
    name = shown_name(path)  # <stdin> for -, in every line and report
    with session(limits) as student, progress_on_terminal(f"gradcheck {name}:") as progress:
        try:
            graph = load_graph(path, at, allow_python)
            report = run(graph, wrt=names, progress=progress, **options)
            images = _drawn_verdicts(graph, report) if drawn and not report.passed else []
        except Exception as err:  # any error of one file is its entry; the next file is still checked
            if isinstance(err, OSError) and output_failed(err):
                raise  # stdout: the run ends (reports_errors)
            error = err
    printed = student.output
    if printed:  # on stderr, never inside the report on stdout
        click.echo(f"backprop: {name}: the plugin code printed:", err=True)
        click.echo(printed.rstrip("\n"), err=True)
    failure = _failure(error) if error is not None else None
    checked = FileCheck(name, report, failure, printed if allow_python else None, time.monotonic() - start)
    if report is not None:
        checked.score, checked.images = grade(graph, report), images
    elif graph is not None and failure.gradable:
        checked.score = failed(graph, failure.line)
    return checked


def _drawn_verdicts(graph, report) -> list[dict[str, str]]:
    """The failing graph drawn with each leaf's verdict, as an SVG data URI (PrairieLearn's `images`). Drawn while
    the file's plugin code still has its worker (the drawing needs the values); none where dot cannot draw it."""
    import base64

    from ..engines.trace import run_trace
    from ..outputs.diagram import build_dot
    from ..outputs.formats.drawing import drawing, look_for, verdict_marks

    try:
        trace = run_trace(graph, "reverse")
        look, _ = look_for(trace, "svg", {"verdicts": verdict_marks(report)})
        svg = drawing(build_dot(trace, look), "svg", {})
    except BackpropError:  # no dot, a timeout, a graph that cannot be drawn: the results without the picture
        return []
    failing = ", ".join(name for name, c in report.leaves.items() if c.status == "fail") or "none of the leaves"
    label = f"{graph.name}: each leaf's verdict on the graph (failing: {failing})"
    return [{"label": label, "url": "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")}]


def _failure(err: Exception):
    """What stopped a file's check, in the words of its error line. A crash, a kill, a timeout of the
    student's code is the file's verdict (exit 1); a file that does not load cannot be graded (exit 2)."""
    from ..verify.grading import Failure

    if isinstance(err, BackpropError):
        line, message, where = in_flag_words(err, FLAGS), err.message, err.where
        code = ExitCode.FAILED if isinstance(err, StudentCodeError) else err.exit_code
    else:  # out of memory, or a bug of ours: still this file's entry only
        _, line, code, message, where = explain_error(err)
    place = (where.file, where.line, where.column) if where else (None, None, None)
    student, gradable = isinstance(err, StudentCodeError), int(code) != int(ExitCode.BAD_INPUT)
    return Failure(line, message, int(code), *place, gradable=gradable, student=student, error=err)


command = gradcheck
