"""A trace drawn: a circuit (or a network) as SVG, PNG or PDF through Graphviz's dot, the DOT text itself, or an
HTML page stepping through both passes. `render` chooses the look from its options (look_for); `trace --format
svg` draws with the defaults."""

from __future__ import annotations

from dataclasses import replace

from . import Settings

DEFAULTS = {  # render's options, as `trace --format svg` takes them
    "collapse": None,
    "expand": False,
    "layout": "auto",
    "legend": True,
    "title": True,
    "digits": None,
    "background": "white",
    "slide": None,
    "view": "auto",
    "dpi": 144,
    "timeout": None,
    "verdicts": None,
}


def verdict_marks(report) -> dict[str, str]:
    """Each checked leaf's gradcheck verdict as a diagram writes it on the leaf: "fail (rel 2e+00)"."""
    return {name: f"{c.status} (rel {c.max_rel_error:.0e})" for name, c in report.leaves.items()}


def look_for(trace, fmt: str, options: dict, steps: bool = False) -> tuple[object, list[str]]:
    """The diagram's look (diagram.Look) from render's options, and the notes to say on stderr: gates drawn as
    one box to fit a slide, the network view chosen. A .dot file is laid out by no dot here: not fitted, unless
    --steps draws frames from it (steps)."""
    from ...numbers import TEACHER_DIGITS
    from ..diagram import Look
    from ..diagram_fit import fit_to_slide, network_choice
    from ..diagram_style import AUTO_COLLAPSE
    from ..graphviz_program import TIMEOUT
    from ..groups import big_graph_boxes, collapse_names

    options = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None or k == "collapse"}}
    notes = []
    collapse = collapse_names(trace.graph, options["collapse"])
    if options["collapse"] is None and not options["expand"]:
        collapse = big_graph_boxes(trace.graph, AUTO_COLLAPSE)
        if collapse:
            notes.append(
                f"render: {len(trace.graph.gates):,} gates (over {AUTO_COLLAPSE}): each node's gates are drawn as one "
                f"box ({len(collapse):,} nodes); --expand draws every gate"
            )
    look = Look(
        collapse=collapse,
        legend=options["legend"],
        verdicts=options["verdicts"],
        digits=options["digits"] or TEACHER_DIGITS,
        title=options["title"],
        background=options["background"],
    )
    view = "circuit" if options["expand"] and options["view"] == "auto" else options["view"]  # every gate: no units
    network = network_choice(trace, look, view)
    if options["layout"] != "auto" or (fmt == "dot" and not steps):  # .dot: drawn by no dot, not fitted
        look = replace(look, rankdir="LR" if options["layout"] == "auto" else options["layout"])
        return replace(look, network=network in ("only", "first")), notes
    chosen = fit_to_slide(
        trace,
        look,
        timeout=options["timeout"] or TIMEOUT,
        expand=options["expand"] or options["collapse"] is not None,
        slide=options["slide"] or "16:9",
        view=view,
    )
    if chosen.collapse != look.collapse:
        boxes = sorted(chosen.collapse - look.collapse)
        named = ", ".join(boxes[:5]) + (f" and {len(boxes) - 5} more" if len(boxes) > 5 else "")
        notes.append(f"render: {named} drawn as one box each, to fit a slide; --expand draws every gate")
    if chosen.network and view == "auto":
        notes.append(
            "render: drawn as a network (a unit per node, weights on the wires); --view circuit draws every gate"
        )
    return chosen, notes


def drawing(dot_text: str, fmt: str, options: dict) -> bytes:
    """DOT text run through dot in fmt (padded to the slide when one is asked for)."""
    from ..diagram_fit import on_slide
    from ..graphviz_program import TIMEOUT, run_dot

    timeout = options.get("timeout") or TIMEOUT
    if options.get("slide") is not None and fmt != "dot":
        dot_text = on_slide(dot_text, options["slide"], timeout)
    return run_dot(dot_text, fmt, timeout, options.get("dpi") or DEFAULTS["dpi"])


def trace(result, settings: Settings) -> bytes:
    """The drawing in settings.format, with render's look (settings.options["look"]) or the defaults."""
    from ..diagram import build_dot

    options = settings.options
    look = options.get("look") or look_for(result, settings.format, options)[0]
    if settings.format == "html":
        from ..graphviz_program import TIMEOUT
        from ..page import draw_page

        return draw_page(result, look, timeout=options.get("timeout") or TIMEOUT)
    return drawing(build_dot(result, look), settings.format, options)
