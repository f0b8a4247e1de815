"""A graph in a notebook: Jupyter calls Graph._repr_svg_, which draws the diagram here."""

from __future__ import annotations

import shutil

from ..engines.trace import run_trace
from ..errors import BackpropError
from ..graph import Graph
from .diagram import Look, build_dot
from .diagram_fit import fit_to_slide
from .diagram_style import AUTO_COLLAPSE
from .graphviz_program import run_dot
from .groups import big_graph_boxes


def graph_svg(graph: Graph) -> str | None:
    """The diagram as SVG text, as `backprop render` draws it; None (Jupyter then shows the text) when
    Graphviz is missing or the graph cannot be evaluated: the error shows when the user runs it."""
    if shutil.which("dot") is None:
        return None
    try:
        trace = run_trace(graph)
        look = fit_to_slide(trace, Look(collapse=big_graph_boxes(graph, AUTO_COLLAPSE)))  # as render draws it
        return run_dot(build_dot(trace, look), "svg").decode("utf-8")
    except BackpropError:
        return None
