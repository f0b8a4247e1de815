"""`backprop render`: the graph as a circuit diagram, values and gradients on every wire."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from ..errors import UsageError
from ..numbers import TEACHER_DIGITS
from ..outputs.diagram_style import AUTO_COLLAPSE, BACKGROUNDS, SLIDES
from ..outputs.files import STEPS_FILES
from ..outputs.graphviz_program import FORMATS, TIMEOUT
from ..outputs.groups import ALL_GROUPS
from .option_slips import refuse_unused
from .options import (
    Finite,
    chosen_mode,
    complete_dir,
    complete_file,
    epilog,
    graph_argument,
    load_graph,
    parse_direction,
    quiet_option,
    reports_errors,
    say_wrote,
    trace_options,
)


@click.command(epilog=epilog("render"))
@graph_argument
@trace_options
@click.option(
    "-o",
    "--output",
    "out",
    metavar="FILE",
    shell_complete=complete_file,
    help="The drawing: .svg, .png, .pdf or .dot (- for stdout), or .html: a page stepping through both passes.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="The format, when FILE's name does not say it.")
@click.option(
    "--collapse",
    metavar="[NAMES]",
    is_flag=False,
    flag_value=ALL_GROUPS,
    help="Draw groups as single boxes: all of them, or the named groups and expanded nodes (a,b).",
)
@click.option(
    "--layout",
    type=click.Choice(["auto", "LR", "TB"]),
    default="auto",
    show_default=True,
    help="Left to right, top to bottom, or whichever reads best placed on a 16:9 slide (--slide: that shape).",
)
@click.option(
    "--expand",
    is_flag=True,
    help=f"Draw every gate: no node drawn as one box to fit a slide, nor beyond {AUTO_COLLAPSE} gates (slower).",
)
@click.option(
    "--steps",
    "steps_dir",
    metavar="DIR",
    shell_complete=complete_dir,
    help="One frame per step of the backward pass, and DIR/index.html.",
)
@click.option("--worksheet", is_flag=True, help="Gradients left blank; the answer key goes to FILE.key.svg beside it.")
@click.option(
    "--blank",
    type=click.Choice(["gradients", "values", "both"]),
    help="What a worksheet leaves blank (implies --worksheet).  [default: gradients]",
)
@click.option("--check", is_flag=True, help="Run gradcheck and write its verdict on each leaf (pass, fail, kink).")
@click.option("--legend/--no-legend", default=True, show_default=True, help="The key to styles under the diagram.")
@click.option(
    "--title/--no-title", default=True, show_default=True, help="The graph's name and about over the diagram."
)
@click.option(
    "--digits",
    type=click.IntRange(1, 15),
    default=TEACHER_DIGITS,
    show_default=True,
    help="Significant digits of the numbers on the wires (exact integers stay integers).",
)
@click.option(
    "--background",
    type=click.Choice(BACKGROUNDS),
    default="white",
    show_default=True,
    help="The drawing's background (and colours that read on it).",
)
@click.option(
    "--slide",
    type=click.Choice(sorted(SLIDES)),
    help="Size the drawing to a slide of this shape (1280×720 px at --dpi 96 for 16:9) and pad it to it.",
)
@click.option(
    "--view",
    type=click.Choice(["auto", "circuit", "network"]),
    default="auto",
    show_default=True,
    help="A gate per operation (circuit), a unit per node with weights on the wires (network), or the best.",
)
@click.option("--dpi", type=click.IntRange(24, 1200), default=144, show_default=True, help="Resolution of PNG output.")
@click.option(
    "--timeout",
    type=Finite(0, 24 * 3600, min_open=True),
    default=TIMEOUT,
    show_default=True,
    help="Seconds allowed to dot for one drawing.",
)
@click.option(
    "--force", is_flag=True, help="Replace a worksheet's existing answer key, or a --steps page or frame not ours."
)
@quiet_option()
@reports_errors
def render(graph: str, out: str | None, fmt: str | None, mode: str, direction: str | None, **options) -> None:
    """Draw GRAPH as a circuit (or a network): each wire's value on top, its gradient under it, each gate's role."""
    from ..engines.trace import run_trace
    from ..outputs.diagram import Look, build_dot
    from ..outputs.diagram_fit import fit_to_slide, network_choice, on_slide
    from ..outputs.files import (
        check_distinct,
        check_folder,
        check_not_inputs,
        check_not_overwriting,
        check_output,
        write_files,
        write_folder,
    )
    from ..outputs.graphviz_program import drawing_format, find_dot, run_dot
    from ..outputs.groups import big_graph_boxes, collapse_names
    from ..outputs.page import draw_page
    from ..outputs.steps import check_frames, draw_steps, steps_owned
    from ..outputs.worksheet import key_path, worksheet_dots

    steps_dir, blank = options["steps_dir"], options["blank"]
    worksheet = options["worksheet"] or blank is not None
    if out is None and steps_dir is None:
        raise UsageError("render needs -o FILE (or --steps DIR)")
    if out is not None and out != "-":
        check_output("-o", out)
    fmt = drawing_format(out, fmt)
    if fmt != "png":
        refuse_unused({"dpi": f"sets the resolution of PNG drawings, and this run draws {fmt or 'svg'}"})
    if worksheet:
        if fmt == "html":
            raise UsageError("--worksheet draws .svg, .png or .pdf (a page would show the answers)")
        if out is None or out == "-":
            raise UsageError("--worksheet writes two files: give -o FILE (the key goes beside it)")
        check_output("-o", key_path(out))
        check_not_overwriting("--worksheet", key_path(out), options["force"])
    written = [("-o", out)] if out not in (None, "-") else []
    if worksheet:
        written.append(("--worksheet", key_path(out)))
    check_distinct(written, [("--steps", steps_dir)] if steps_dir is not None else [])
    owned: dict[str, str] = {}
    if steps_dir is not None:
        check_folder("--steps", steps_dir)
        owned = steps_owned(steps_dir, options["force"])
    if fmt != "dot" or steps_dir is not None:
        find_dot()  # before any work: say how to install it
    mode = chosen_mode(mode, direction)

    loaded = load_graph(graph, options["at"], options["allow_python"])
    if steps_dir is not None:
        written += [("--steps", str(p)) for p in Path(steps_dir).glob("*") if STEPS_FILES.fullmatch(p.name)]
    check_not_inputs(written)  # every file load_graph read
    trace = run_trace(loaded, mode, parse_direction(direction), options["grad_output"])
    if steps_dir is not None:
        check_frames(steps_dir, trace, "png" if fmt == "png" else "svg", owned, options["force"])
    verdicts = None
    if options["check"]:
        from ..verify import gradcheck

        report = gradcheck(loaded)
        verdicts = {name: f"{c.status} (rel {c.max_rel_error:.0e})" for name, c in report.leaves.items()}
    collapse = collapse_names(trace.graph, options["collapse"])
    if options["collapse"] is None and not options["expand"]:
        collapse = big_graph_boxes(trace.graph, AUTO_COLLAPSE)
        if collapse and not options["quiet"]:
            click.echo(
                f"render: {len(trace.graph.gates):,} gates (over {AUTO_COLLAPSE}): each node's gates are drawn as one "
                f"box ({len(collapse):,} nodes); --expand draws every gate",
                err=True,
            )
    look = Look(
        collapse=collapse,
        legend=options["legend"],
        verdicts=verdicts,
        digits=options["digits"],
        title=options["title"],
        background=options["background"],
    )
    timeout, dpi, view = options["timeout"], options["dpi"], options["view"]
    if options["expand"] and view == "auto":
        view = "circuit"  # every gate drawn: no units
    network = network_choice(trace, look, view)
    if options["layout"] != "auto" or (fmt == "dot" and steps_dir is None):  # .dot: drawn by no dot, not fitted
        look = replace(look, rankdir="LR" if options["layout"] == "auto" else options["layout"])
        look = replace(look, network=network in ("only", "first"))
    else:
        chosen = fit_to_slide(
            trace,
            look,
            timeout=timeout,
            expand=options["expand"] or options["collapse"] is not None,
            slide=options["slide"] or "16:9",
            view=view,
        )
        if chosen.collapse != look.collapse and not options["quiet"]:
            boxes = sorted(chosen.collapse - look.collapse)
            named = ", ".join(boxes[:5]) + (f" and {len(boxes) - 5} more" if len(boxes) > 5 else "")
            click.echo(f"render: {named} drawn as one box each, to fit a slide; --expand draws every gate", err=True)
        if chosen.network and view == "auto" and not options["quiet"]:
            click.echo(
                "render: drawn as a network (a unit per node, weights on the wires); --view circuit draws every gate",
                err=True,
            )
        look = chosen
    files: dict[str, bytes] = {}  # every drawing is made before anything is written
    slide = options["slide"]

    def drawing(text: str) -> bytes:
        if slide is not None and fmt != "dot":
            text = on_slide(text, slide, timeout)
        return run_dot(text, fmt, timeout, dpi)

    if worksheet:
        sheet, key = worksheet_dots(trace, look, blank or "gradients")
        files = {out: drawing(sheet), key_path(out): drawing(key)}
    elif fmt == "html":
        files = {out: draw_page(trace, look, timeout=timeout)}
    elif out is not None:
        files = {out: drawing(build_dot(trace, look))}
    frames = draw_steps(trace, look, "png" if fmt == "png" else "svg", timeout, dpi) if steps_dir is not None else {}

    if out == "-":
        sys.stdout.buffer.write(files.pop(out))
        sys.stdout.flush()
    write_files(files)
    if worksheet:
        say_wrote(f"the worksheet {out} and its answer key {key_path(out)}", options["quiet"])
    elif files:
        say_wrote(out, options["quiet"])
    if steps_dir is not None:
        write_folder(steps_dir, frames, owned)
        say_wrote(f"{len(frames) - 1} frames and index.html to {steps_dir}", options["quiet"])


command = render
