"""`backprop hessian`: second derivatives of the output, their eigenvalues and condition number."""

from __future__ import annotations

import click

from .option_slips import refuse_unused
from .options import (
    EXIT_CODES,
    graph_options,
    load_graph,
    matrix_options,
    reports_errors,
    show_matrix,
    split_names,
)


@click.command(epilog=EXIT_CODES)
@click.argument("graph")
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
@reports_errors
def hessian(
    graph: str, wrt, at, allow_python: bool, method: str, no_check: bool, full: bool, as_json: bool, out, **tolerances
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
    loaded = load_graph(graph, at, allow_python)
    if out is not None:
        check_not_inputs([("-o", out)])  # the graph file, its data files and modules: read, never replaced
    result = compute(loaded, split_names(wrt), method, check=not no_check, **tolerances)
    if out is not None:
        names = [lb for name, shape in zip(result.wrt, result.shapes, strict=True) for lb in labels(name, shape)]
        cond = result.condition_number
        title = f"Hessian of {loaded.output}; condition number " + ("∞" if cond is None else f"{cond:.3g}")
        write_bytes(out, heatmap(out, result.matrix, names, names, title))
        click.echo(f"wrote {out}", err=True)
    show_matrix(result, loaded, as_json, full, hessian_json, hessian_lines)


command = hessian
