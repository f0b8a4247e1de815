"""`backprop hessian`: second derivatives of the output, their eigenvalues and condition number."""

from __future__ import annotations

import click

from .jacobian import _before_work, show_matrix
from .options import epilog, graph_argument, graph_options, load_graph, matrix_options, reports_errors, split_names
from .output_options import output_options

FILE_HELP = "A heat map of the Hessian (.svg, or .png with matplotlib), or the output in the format FILE's name says."


@click.command(epilog=epilog("hessian"))
@graph_argument
@click.option(
    "--wrt", multiple=True, metavar="LEAF", help="A leaf (repeatable, or a,b); default every param, else every input."
)
@graph_options
@click.option(
    "--method",
    type=click.Choice(["auto", "complex", "central"]),
    default="auto",
    show_default=True,
    help="H·v by the complex step on reverse mode (exact; needs analytic ops) or differences of gradients "
    "(extrapolated where they settle, central at a kink).",
)
@matrix_options("the Hessian", "differences of gradients", "1e-6")
@output_options("hessian", file_help=FILE_HELP)
@reports_errors
def hessian(graph: str, wrt, at, allow_python: bool, method: str, no_check: bool, full: bool, output, **tolerances):
    """Second derivatives of GRAPH's scalar output with respect to the leaves (row-major, in the order given):
    the matrix, its eigenvalues and its condition number.

    Exit 1 when an entry disagrees with the check against differences of gradients.
    """
    from ..verify.hessian import hessian as compute

    _before_work(no_check, output)
    loaded = load_graph(graph, at, allow_python)
    output.check_not_inputs()  # the graph file, its data files and modules: read, never replaced
    result = compute(loaded, split_names(wrt), method, check=not no_check, **tolerances)
    show_matrix(result, loaded, full, output)


command = hessian
