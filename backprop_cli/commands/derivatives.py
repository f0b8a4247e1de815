"""`backprop derivatives`: f, f′, …, f⁽ᴺ⁾ of the scalar output along one leaf (or a direction), checked."""

from __future__ import annotations

import sys

import click

from ..errors import ExitCode
from ..verify.derivatives import MAX_ORDER
from .help_examples import epilog
from .options import Finite, graph_options, load_graph, reports_errors
from .output_options import output_options


@click.command(epilog=epilog("derivatives"))
@click.argument("graph")
@click.option(
    "--wrt",
    metavar="LEAF",
    help="The leaf moved: x, or one element, x[1,2] (default: the graph's one leaf with a derivative).",
)
@click.option(
    "--order",
    type=click.IntRange(0, MAX_ORDER),
    default=4,
    show_default=True,
    help="The highest derivative: f, f′, …, f⁽ᴺ⁾.",
)
@click.option(
    "--direction",
    metavar="VALUES",
    help="The direction v the leaf moves in (its shape, or one number): derivatives of f(x + t·v) in t "
    "(default all ones).",
)
@graph_options
@click.option("--no-check", is_flag=True, help="Skip the check against central differences of the same order.")
@click.option("--rtol", type=Finite(0), help="Relative tolerance of the check (default 1e-7, on top of the estimates).")
@click.option("--atol", type=Finite(0), help="Absolute tolerance of the check (default 0).")
@output_options("derivatives")
@reports_errors
def derivatives(
    graph: str, wrt, order: int, direction, at, allow_python: bool, no_check: bool, rtol, atol, output
) -> None:
    """Derivatives of GRAPH's scalar output along one leaf at the point: f, f′, f″, …, f⁽ᴺ⁾, each in
    words, and the Taylor expansion they make, f(x + t) ≈ Σ f⁽ᵏ⁾/k! tᵏ.

    Exact to rounding through every built-in op (Cauchy's integral formula on the reverse-mode gradient),
    checked against central differences of f of each order. Exit 1 when an order disagrees; a point on a
    kink (ReLU at 0, a tie of a comparison) has no derivatives there: status kink, exit 0.
    """
    from ..fileformat import shown_name
    from ..verify.derivatives import derivatives as compute

    output.check()
    loaded = load_graph(graph, at, allow_python)
    output.check_not_inputs()
    result = compute(loaded, wrt, order, direction, check=not no_check, rtol=rtol, atol=atol)
    output.show(result, loaded, source=shown_name(graph))
    sys.exit(int(ExitCode.FAILED if result.status == "fail" else ExitCode.OK))


command = derivatives
