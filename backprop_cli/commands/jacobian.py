"""`backprop jacobian`: the full Jacobian d(node)/d(leaf), checked against finite differences."""

from __future__ import annotations

import sys

import click

from ..verify.jacobian import MODES
from .option_slips import refuse_unused
from .options import epilog, graph_argument, graph_options, load_graph, matrix_options, reports_errors
from .output_options import output_options

FILE_HELP = "A heat map of the matrix (.svg, or .png with matplotlib), or the output in the format FILE's name says."


@click.command(epilog=epilog("jacobian"))
@graph_argument
@click.option("--of", "of", metavar="NODE", help="The node differentiated (default: the output).")
@click.option("--wrt", metavar="LEAF", help="The leaf (or node) it is differentiated by (default: the first param).")
@graph_options
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="auto",
    show_default=True,
    help="Reverse mode (a pass per element of NODE) or forward mode (per element of LEAF); auto: fewer passes.",
)
@matrix_options("the matrix", "finite differences", "per dtype")
@output_options("jacobian", file_help=FILE_HELP)
@reports_errors
def jacobian(graph: str, of, wrt, at, allow_python: bool, mode: str, no_check: bool, full: bool, output, **tolerances):
    """The Jacobian d NODE / d LEAF of GRAPH: rows are NODE's elements, columns LEAF's (row-major).

    Exit 1 when an entry disagrees with the finite-difference check (a kink is not a failure).
    """
    from ..verify.jacobian import jacobian as compute

    _before_work(no_check, output)
    loaded = load_graph(graph, at, allow_python)
    output.check_not_inputs()  # the graph file, its data files and modules: read, never replaced
    result = compute(loaded, of, wrt, mode, check=not no_check, **tolerances)
    show_matrix(result, loaded, full, output)


def _before_work(no_check: bool, output) -> None:
    """--rtol and --atol without a check; -o's file writable; matplotlib for a PNG (say how to install it)."""
    if no_check:
        refuse_unused(
            {
                "rtol": "sets the check's tolerance, and --no-check skips the check",
                "atol": "sets the check's tolerance, and --no-check skips the check",
            }
        )
    output.check()
    if "png" in (output.file_format, output.stdout):
        from ..outputs.optional import require

        require("a PNG heat map (.svg needs nothing)", "matplotlib")


def show_matrix(result, graph, full: bool, output) -> None:
    """A checked matrix in every format asked for; exit 1 when its check failed (jacobian, hessian)."""
    from ..errors import ExitCode

    output.show(result, graph, full=full)
    sys.exit(int(ExitCode.FAILED if result.status == "fail" else ExitCode.OK))


command = jacobian
