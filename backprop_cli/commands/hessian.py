"""`backprop hessian`: second derivatives of the output, their eigenvalues and condition number."""

from __future__ import annotations

import click

from .option_slips import refuse_unused
from .options import (
    epilog,
    graph_argument,
    graph_options,
    load_graph,
    matrix_options,
    quiet_option,
    reports_errors,
    say_wrote,
    show_matrix,
    split_names,
)


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
    help="H·v by the complex step on reverse mode (exact; needs analytic ops) or central differences of gradients.",
)
@matrix_options("hessian", "the Hessian", "differences of gradients", "1e-6")
@quiet_option()
@reports_errors
def hessian(
    graph: str,
    wrt,
    at,
    allow_python: bool,
    method: str,
    no_check: bool,
    full: bool,
    as_json: bool,
    out,
    quiet: bool,
    **tolerances,
) -> None:
    """Second derivatives of GRAPH's scalar output with respect to the leaves (row-major, in the order given):
    the matrix, its eigenvalues and its condition number.

    Exit 1 when an entry disagrees with the check against differences of gradients.
    """
    from ..outputs.files import check_not_inputs, check_output, write_bytes
    from ..outputs.matrices import HEATMAPS, heatmap, hessian_json, hessian_lines, labels
    from ..verify.hessian import hessian as compute

    if no_check:
        refuse_unused(
            {
                "rtol": "sets the check's tolerance, and --no-check skips the check",
                "atol": "sets the check's tolerance, and --no-check skips the check",
            }
        )
    if out is not None:
        check_output("-o", out, HEATMAPS)
        if out.lower().endswith(".png"):  # before any work: say how to install matplotlib
            from ..outputs.optional import require

            require("-o FILE.png (a heat map; .svg needs nothing)", "matplotlib")
    loaded = load_graph(graph, at, allow_python)
    if out is not None:
        check_not_inputs([("-o", out)])  # the graph file, its data files and modules: read, never replaced
    result = compute(loaded, split_names(wrt), method, check=not no_check, **tolerances)
    if out is not None:
        names = [lb for name, shape in zip(result.wrt, result.shapes, strict=True) for lb in labels(name, shape)]
        cond = result.condition_number
        title = f"Hessian of {loaded.output}; condition number " + ("∞" if cond is None else f"{cond:.3g}")
        write_bytes(out, heatmap(out, result.matrix, names, names, title))
        say_wrote(out, quiet)
    show_matrix(result, loaded, as_json, full, hessian_json, hessian_lines)


command = hessian
