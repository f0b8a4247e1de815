"""`backprop jacobian`: the full Jacobian d(node)/d(leaf), checked against finite differences."""

from __future__ import annotations

import sys

import click

from ..errors import ExitCode
from ..verify.jacobian import MODES
from .options import EXIT_CODES, Finite, graph_options, load_graph, reports_errors

HEATMAPS = (".svg", ".png")


@click.command(epilog=EXIT_CODES)
@click.argument("graph")
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
@click.option("--no-check", is_flag=True, help="Skip the check against finite differences.")
@click.option("--rtol", type=Finite(0), help="Relative tolerance of the check (default per dtype).")
@click.option("--atol", type=Finite(0), help="Absolute tolerance of the check (default 0).")
@click.option("--full", is_flag=True, help="Print every row and column (default: the corners of a big matrix).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (schema backprop.jacobian, version 1).")
@click.option("-o", "--output", "out", metavar="FILE", help="A heat map of the matrix: .svg or .png (matplotlib).")
@reports_errors
def jacobian(
    graph: str, of, wrt, at, allow_python: bool, mode: str, no_check: bool, full: bool, as_json: bool, out, **tolerances
) -> None:
    """The Jacobian d NODE / d LEAF of GRAPH: rows are NODE's elements, columns LEAF's (row-major).

    Exit 1 when an entry disagrees with the finite-difference check (a kink is not a failure).
    """
    from ..outputs.files import check_output, write_bytes
    from ..outputs.matrices import heatmap_png, heatmap_svg, jacobian_json, jacobian_lines, labels
    from ..outputs.terminal import terminal_width
    from ..verify.jacobian import jacobian as compute

    if out is not None:
        check_output("-o", out, HEATMAPS)
    loaded = load_graph(graph, at, allow_python)
    result = compute(loaded, of, wrt, mode, check=not no_check, **tolerances)
    if out is not None:
        rows, cols = labels(result.of, result.of_shape), labels(result.wrt, result.wrt_shape)
        title = f"d{result.of}/d{result.wrt}  ({result.nonzeros} nonzero of {result.matrix.size})"
        draw = heatmap_png if out.lower().endswith(".png") else heatmap_svg
        write_bytes(out, draw(result.matrix, rows, cols, title))
        click.echo(f"wrote {out}", err=True)
    if as_json:
        from ..outputs.json_output import emit_json

        emit_json(jacobian_json(result, loaded))
    else:
        click.echo("\n".join(jacobian_lines(result, full, terminal_width())))
    sys.exit(int(ExitCode.FAILED if result.status == "fail" else ExitCode.OK))


command = jacobian
