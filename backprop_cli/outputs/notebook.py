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


def assert_gradients(graph, allow_python: bool = False, **options) -> float:
    """For notebook graders (Otter-Grader, nbgrader: a test fails by raising, its message is what the student
    sees): gradcheck the graph (a Graph, a graph file's path or a bundled example's name; options as gradcheck's),
    score it with its points: block, and return the points earned when every graded part is right. Otherwise
    raise AssertionError whose message is the score and, for each wrong part, what was found and the slip it
    looks like (error carried forward and partial credit are said in it too)."""
    from ..verify import gradcheck
    from ..verify.grading import grade
    from .score_text import part_lines, part_title, score_line

    if not isinstance(graph, Graph):
        from ..fileformat import load

        graph = load(graph, allow_python=allow_python)
    score = grade(graph, gradcheck(graph, **options))
    wrong = [p for p in score.parts if not p.passed]
    if not wrong:
        return score.earned
    lines = [score_line(score)]
    for part in wrong:
        lines += [part_title(part), *(f"  {line}" for line in part_lines(part))]
    raise AssertionError("\n".join(lines))
