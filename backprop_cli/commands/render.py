"""`backprop render`: the graph as a circuit diagram, values and gradients on every wire."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError
from ..numbers import TEACHER_DIGITS
from ..outputs.diagram_style import AUTO_COLLAPSE, BACKGROUNDS, SLIDES
from ..outputs.files import STEPS_FILES
from ..outputs.graphviz_program import TIMEOUT
from ..outputs.groups import ALL_GROUPS
from .option_slips import refuse_unused
from .options import (
    Finite,
    chosen_mode,
    complete_dir,
    epilog,
    graph_argument,
    load_graph,
    parse_direction,
    reports_errors,
    trace_options,
)
from .output_options import output_options


@click.command(epilog=epilog("render"))
@graph_argument
@trace_options
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
@output_options(
    "trace",
    default="svg",
    text=None,
    only=("svg", "png", "pdf", "dot", "html"),
    file_help="The drawing: .svg, .png, .pdf or .dot (- for stdout), or .html: a page stepping through both passes.",
    format_help="The format, when FILE's name does not say it.",
    quiet_help="No 'wrote FILE' line (nor notes) on stderr.",
)
@reports_errors
def render(graph: str, mode: str, direction: str | None, output, **options) -> None:
    """Draw GRAPH as a circuit (or a network): each wire's value on top, its gradient under it, each gate's role."""
    from ..engines.trace import run_trace
    from ..outputs.files import check_distinct, check_folder, check_not_overwriting, check_output, write_files
    from ..outputs.formats.drawing import drawing, look_for, verdict_marks
    from ..outputs.graphviz_program import find_dot
    from ..outputs.steps import check_frames, draw_steps, steps_owned
    from ..outputs.worksheet import key_path, worksheet_dots

    steps_dir, blank = options["steps_dir"], options["blank"]
    worksheet = options["worksheet"] or blank is not None
    out = output.file or ("-" if output.piped else None)
    if out is None:
        if steps_dir is None:
            raise UsageError("render needs -o FILE (or --steps DIR)")
        output.stdout = None
    fmt = output.file_format or output.stdout
    if fmt != "png":
        refuse_unused({"dpi": f"sets the resolution of PNG drawings, and this run draws {fmt or 'svg'}"})
    if worksheet:
        if fmt == "html":
            raise UsageError("--worksheet draws .svg, .png or .pdf (a page would show the answers)")
        if fmt not in ("svg", "png", "pdf"):
            raise UsageError(f"--worksheet draws .svg, .png or .pdf, not {fmt}")
        if output.file is None:
            raise UsageError("--worksheet writes two files: give -o FILE (the key goes beside it)")
        check_output("-o", key_path(out))
        check_not_overwriting("--worksheet", key_path(out), options["force"])
        output.also.append(("--worksheet", key_path(out), fmt))
    output.check()
    check_distinct(
        [(option, path) for option, path, _ in output.files], [("--steps", steps_dir)] if steps_dir is not None else []
    )
    owned: dict[str, str] = {}
    if steps_dir is not None:
        check_folder("--steps", steps_dir)
        owned = steps_owned(steps_dir, options["force"])
    if fmt in ("svg", "png", "pdf", "html") or steps_dir is not None:
        find_dot()  # before any work: say how to install it
    mode = chosen_mode(mode, direction)

    loaded = load_graph(graph, options["at"], options["allow_python"])
    frames_there = [str(p) for p in Path(steps_dir).glob("*") if STEPS_FILES.fullmatch(p.name)] if steps_dir else []
    output.check_not_inputs()  # every file load_graph read
    from ..outputs.files import check_not_inputs

    check_not_inputs([("--steps", path) for path in frames_there])
    trace = run_trace(loaded, mode, parse_direction(direction), options["grad_output"])
    frame_format = "png" if fmt == "png" else "svg"
    if steps_dir is not None:
        check_frames(steps_dir, trace, frame_format, owned, options["force"])
    if options["check"]:
        from ..verify import gradcheck

        report = gradcheck(loaded)
        options["verdicts"] = verdict_marks(report)
    look, notes = look_for(trace, fmt or "svg", options, steps=steps_dir is not None)
    for note in notes:
        output.note(note)
    settings = {**options, "look": look}
    frames = draw_steps(trace, look, frame_format, settings["timeout"], settings["dpi"]) if steps_dir else {}
    if worksheet:  # every drawing is made before anything is written
        sheet, key = worksheet_dots(trace, look, blank or "gradients")
        files = {out: drawing(sheet, fmt, settings), key_path(out): drawing(key, fmt, settings)}
        write_files(files)
        output.wrote(f"the worksheet {out} and its answer key {key_path(out)}")
    elif out is not None:
        output.show(trace, loaded, **settings)
    if steps_dir is not None:
        from ..outputs.files import write_folder

        write_folder(steps_dir, frames, owned)
        output.wrote(f"{len(frames) - 1} frames and index.html to {steps_dir}")


command = render
