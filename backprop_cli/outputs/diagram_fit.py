"""A diagram fitted to a slide: the look (left to right or top to bottom, the network view, long nodes as
boxes) chosen on dot's own layouts of the candidates, and --slide's drawing sized and padded to the slide."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import replace

from ..engines.trace import Trace
from ..errors import UsageError
from . import diagram_style as style
from .diagram import Look, build_dot
from .diagram_layout import LONG_NODE, choose_layout, plain_size
from .graphviz_program import TIMEOUT, run_dot
from .network import layered, weights
from .routes import Routes, trace_routes


def fit_to_slide(
    trace: Trace,
    look: Look,
    routes: Routes | None = None,
    timeout: float = TIMEOUT,
    expand: bool = False,
    slide: str = "16:9",
    view: str = "auto",
) -> Look:
    """The look whose smallest text reads best on a slide, measured on dot's layouts (`dot -Tplain`); big
    drawings (numbers beside the wires) stay left to right: one layout is enough. expand: never draw a
    node's gates as one box (nor as a unit of the network view). view: auto (the network view first for a layered network, and tried when the
    circuit does not read well), circuit or network."""
    routes = routes or trace_routes(trace)
    network = network_choice(trace, look, "circuit" if expand and view == "auto" else view)
    if len(routes.wires) > style.LABELS_BESIDE or shutil.which("dot") is None:
        return replace(look, rankdir="LR", network=network == "only")
    sizes = Counter(node.origin for node in trace.graph.gates)
    long_nodes = frozenset() if expand else frozenset(n for n, size in sizes.items() if size >= LONG_NODE)
    return choose_layout(
        look,
        lambda candidate: build_dot(trace, candidate, routes=routes),
        lambda text: run_dot(text, "plain", timeout).decode("utf-8", "replace"),
        long_nodes,
        network=network,
        slide=slide,
    )


def network_choice(trace: Trace, look: Look, view: str) -> str:
    """How the network view takes part: "only" (--view network), "first" (a layered network), "also" (tried
    when nothing else reads well, if some weight goes on a wire), "never" (--view circuit; forward mode; groups
    collapsed by hand)."""
    if view == "network":
        if trace.mode != "reverse" or look.collapse:
            raise UsageError("--view network draws the gradients of reverse mode, without --collapse or --mode forward")
        return "only"
    if view == "circuit" or trace.mode != "reverse" or look.collapse:
        return "never"
    if layered(trace.graph):
        return "first"
    return "also" if weights(trace.graph) else "never"  # without weights on wires, it only hides gates


def on_slide(dot_text: str, slide: str, timeout: float = TIMEOUT) -> str:
    """--slide: the drawing scaled to fill the slide (SLIDE_DPI pixels per inch: 1280 × 720 for 16:9 at
    --dpi 96) and padded to its aspect, so it goes on the slide as it is, whole and centred."""
    width, height = (side / 72 for side in plain_size(run_dot(dot_text, "plain", timeout).decode("utf-8", "replace")))
    slide_w, slide_h = (side / style.SLIDE_DPI for side in style.SLIDES[slide])  # inches
    wide, high = width + 2 * style.PAD, height + 2 * style.PAD
    if wide / high > slide_w / slide_h:  # dot scales the padded drawing to the size: pad it to the slide's shape
        pad_x, pad_y = style.PAD, (wide * slide_h / slide_w - height) / 2
    else:
        pad_x, pad_y = (high * slide_w / slide_h - width) / 2, style.PAD
    extra = f'  graph [size="{slide_w:.4f},{slide_h:.4f}!", pad="{pad_x:.4f},{pad_y:.4f}"]\n'
    return dot_text[: dot_text.rindex("}")] + extra + "}\n"
