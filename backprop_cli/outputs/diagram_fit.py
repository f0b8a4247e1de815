"""A diagram fitted to a 16:9 slide: the look (rankdir, rows, long nodes as boxes) chosen on dot's
own layouts of the candidates."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import replace

from ..engines.trace import Trace
from . import diagram_style as style
from .diagram import Look, build_dot
from .diagram_layout import LONG_NODE, choose_layout
from .graphviz_program import TIMEOUT, run_dot
from .routes import Routes, trace_routes


def fit_to_slide(
    trace: Trace, look: Look, routes: Routes | None = None, timeout: float = TIMEOUT, expand: bool = False
) -> Look:
    """The look that fits a 16:9 slide best (rankdir, rows, long nodes as boxes), measured on dot's
    layouts (`dot -Tplain`); big drawings (numbers beside the wires) stay left to right: one layout is
    enough. expand: never draw a node's gates as one box."""
    routes = routes or trace_routes(trace)
    if len(routes.wires) > style.LABELS_BESIDE or shutil.which("dot") is None:
        return replace(look, rankdir="LR", rows=1)
    sizes = Counter(node.origin for node in trace.graph.gates)
    long_nodes = frozenset() if expand else frozenset(n for n, size in sizes.items() if size >= LONG_NODE)
    return choose_layout(
        look,
        lambda candidate: build_dot(trace, candidate, routes=routes),
        lambda text: run_dot(text, "plain", timeout).decode("utf-8", "replace"),
        long_nodes,
    )
