"""`backprop jacobian`: the full Jacobian d(node)/d(leaf), checked against finite differences."""

from __future__ import annotations

import click

from ..verify.jacobian import MODES
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
)


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
@matrix_options("jacobian", "the matrix", "finite differences", "per dtype")
@quiet_option()
@reports_errors
def jacobian(
    graph: str,
    of,
    wrt,
    at,
    allow_python: bool,
    mode: str,
    no_check: bool,
    full: bool,
    as_json: bool,
    out,
    quiet: bool,
    **tolerances,
) -> None:
    """The Jacobian d NODE / d LEAF of GRAPH: rows are NODE's elements, columns LEAF's (row-major).

    Exit 1 when an entry disagrees with the finite-difference check (a kink is not a failure).
    """
    from ..outputs.files import check_not_inputs, check_output, write_bytes
    from ..outputs.matrices import HEATMAPS, heatmap, jacobian_json, jacobian_lines, labels
    from ..verify.jacobian import jacobian as compute

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
    result = compute(loaded, of, wrt, mode, check=not no_check, **tolerances)
    if out is not None:
        rows, cols = labels(result.of, result.of_shape), labels(result.wrt, result.wrt_shape)
        title = f"d{result.of}/d{result.wrt}  ({result.nonzeros} nonzero of {result.matrix.size})"
        write_bytes(out, heatmap(out, result.matrix, rows, cols, title))
        say_wrote(out, quiet)
    show_matrix(result, loaded, as_json, full, jacobian_json, jacobian_lines)


command = jacobian
