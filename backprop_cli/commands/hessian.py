"""`backprop hessian`: second derivatives of the output, their eigenvalues and condition number."""

from __future__ import annotations

import sys

import click

from ..errors import ExitCode
from .options import EXIT_CODES, Finite, graph_options, load_graph, reports_errors


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
@click.option("--no-check", is_flag=True, help="Skip the check against differences of gradients.")
@click.option("--rtol", type=Finite(0), help="Relative tolerance of the check (default 1e-6).")
@click.option("--atol", type=Finite(0), help="Absolute tolerance of the check (default 0).")
@click.option("--full", is_flag=True, help="Print every row and column (default: the corners of a big matrix).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (schema backprop.hessian, version 1).")
@click.option("-o", "--output", "out", metavar="FILE", help="A heat map of the Hessian: .svg or .png (matplotlib).")
@reports_errors
def hessian(
    graph: str, wrt, at, allow_python: bool, method: str, no_check: bool, full: bool, as_json: bool, out, **tolerances
) -> None:
    """Second derivatives of GRAPH's scalar output with respect to the leaves (row-major, in the order given):
    the matrix, its eigenvalues and its condition number.

    Exit 1 when an entry disagrees with the check against differences of gradients.
    """
    from ..outputs.files import check_output, write_bytes
    from ..outputs.matrices import heatmap_png, heatmap_svg, hessian_json, hessian_lines, labels
    from ..outputs.terminal import terminal_width
    from ..verify.hessian import hessian as compute

    if out is not None:
        check_output("-o", out, (".svg", ".png"))
    names = [n.strip() for item in wrt for n in item.split(",") if n.strip()]
    loaded = load_graph(graph, at, allow_python)
    result = compute(loaded, names, method, check=not no_check, **tolerances)
    if out is not None:
        names = [lb for name, shape in zip(result.wrt, result.shapes, strict=True) for lb in labels(name, shape)]
        cond = result.condition_number
        title = f"Hessian of {loaded.output}; condition number " + ("∞" if cond is None else f"{cond:.3g}")
        draw = heatmap_png if out.lower().endswith(".png") else heatmap_svg
        write_bytes(out, draw(result.matrix, names, names, title))
        click.echo(f"wrote {out}", err=True)
    if as_json:
        from ..outputs.json_output import emit_json

        emit_json(hessian_json(result, loaded))
    else:
        click.echo("\n".join(hessian_lines(result, full, terminal_width())))
    sys.exit(int(ExitCode.FAILED if result.status == "fail" else ExitCode.OK))


command = hessian
