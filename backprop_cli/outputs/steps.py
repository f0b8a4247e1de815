"""--steps: the backward pass one gate at a time (reverse topological order), as frames, and an
index.html that steps through them. In forward mode the frames follow the forward pass instead.

Frame 0 shows every value and the output's gradient 1; frame k runs the k-th gate's step: that
gate is highlighted, the gradients it sends appear on its input wires, and a fork shows the
partial sum of what has arrived until its last reader is done. Every frame keeps one layout: a
gradient still to come is a "?" as wide as the number it stands for.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from string import Template

import numpy as np

from ..engines.trace import Row, Trace
from ..errors import UsageError
from ..numbers import number, rounded
from .diagram import Look, Moment, build_dot
from .diagram_style import CAPTION_CHARS
from .dot_text import wrapped
from .graphviz_program import TIMEOUT, box_sizes, run_dot
from .routes import trace_routes
from .stepper import nav_html, nav_script

GENERATOR = ('<meta name="generator" content="backprop render --steps">', "const steps = ")  # how a page is ours
MAX_FRAMES = 201  # one dot run each: a step-through of more gates teaches nothing and takes minutes


def _sends(row: Row, show=number) -> str:
    sent = [(e.operand, e.sent) for e in row.edges if e.is_node and e.sent is not None]
    if not sent:
        return "sends nothing back (it does not reach the output)"
    if all(np.ndim(g) == 0 for _, g in sent):
        return "sends " + ", ".join(f"∂ {show(g)} to {name}" for name, g in sent)
    return "sends gradients to " + ", ".join(name for name, _ in sent)


def moments(trace: Trace, digits: int | None = None) -> list[Moment]:
    """The frames' moments; numbers in the captions as on the diagram (digits), or in full (None)."""
    show = number if digits is None else (lambda x: rounded(x, digits))
    gates = [row for row in trace.rows if not row.node.is_leaf]
    forward = trace.mode == "forward"
    out = trace.graph.output
    if forward:
        first = f"The leaves: values, and tangents along {trace.wrt}. Each step computes one gate's value and tangent."
    else:
        first = (
            f"Forward pass done: every wire has its value. The backward pass starts at the output: d{out}/d{out} = 1."
        )
    frames = [Moment(frozenset(), None, first, forward)]
    order = gates if forward else gates[::-1]
    done: set[str] = set()
    for k, row in enumerate(order, 1):
        node = row.node
        done.add(node.name)
        head = f"Step {k} of {len(order)}: {node.name} = {node.expr} ({node.operation.gate_kind.role})"
        if forward:
            text = f"{head} gets value {show(row.value)}" if np.ndim(row.value) == 0 else f"{head} is computed"
            if np.ndim(row.tangent) == 0:
                text += f" and tangent ṫ {show(row.tangent)}"
        else:
            text = f"{head} {_sends(row, show)}"
        frames.append(Moment(frozenset(done), node.name, text, forward))
    return frames


def draw_steps(
    trace: Trace, look: Look, fmt: str = "svg", timeout: float = TIMEOUT, dpi: int | None = None
) -> dict[str, bytes]:
    """The frames step-0.svg … (numbers padded to one width) and index.html, by file name."""
    frames = moments(trace, look.digits)
    if len(frames) > MAX_FRAMES:
        raise UsageError(
            f"--steps draws one frame per gate: {len(frames) - 1:,} gates are more than {MAX_FRAMES - 1}; "
            "draw a smaller graph"
        )
    routes = trace_routes(trace)
    names = frame_names(len(frames), fmt)
    with _pool() as pool:
        # every box at its largest: with nothing done and with everything done, every gate marked current
        everything = frozenset(row.node.name for row in trace.rows)
        extremes = [Moment(done, None, forward=frames[0].forward, sizing=True) for done in (frozenset(), everything)]
        measured = list(pool.map(lambda m: box_sizes(build_dot(trace, look, m, routes), timeout), extremes))
        sizes = {box: (max(s[box][0] for s in measured), max(s[box][1] for s in measured)) for box in measured[0]}
        lines = max(len(wrapped(m.caption, CAPTION_CHARS)) for m in frames)
        frames = [replace(m, sizes=sizes, caption_lines=lines) for m in frames]
        texts = [build_dot(trace, look, moment, routes) for moment in frames]
        drawings = list(pool.map(lambda text: run_dot(text, fmt, timeout, dpi), texts))
    title = f"{trace.graph.name}: {trace.graph.about}" if trace.graph.about else trace.graph.name or "backprop"
    hashes = [hashlib.sha256(drawing).hexdigest() for drawing in drawings]
    page = index_html(title, names, [m.caption for m in frames], hashes)
    return {**dict(zip(names, drawings, strict=True)), "index.html": page.encode("utf-8")}


@contextlib.contextmanager
def _pool() -> Iterator[ThreadPoolExecutor]:
    """Threads that run dot; stopped (Ctrl-C, SIGTERM, an error) the frames not yet started are dropped,
    not drawn one after the other before the run can end."""
    pool = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1))
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def frame_names(count: int, fmt: str) -> list[str]:
    """step-0.svg, step-1.svg, ...: the numbers padded to one width, so the files sort in order."""
    width = len(str(count - 1))
    return [f"step-{k:0{width}d}.{fmt}" for k in range(count)]


# ------------------------------------------------------------ what an earlier run left in the folder
def steps_owned(folder: str, force: bool) -> dict[str, str]:
    """The frames an earlier `render --steps` provably wrote in folder: {name: sha256}, each listed with its
    hash in backprop's own index.html and still holding exactly those bytes: only they may be replaced or
    removed. An index.html that another program wrote is refused (exit 2) unless force."""
    from .files import FRAME

    place = Path(folder)
    if not place.is_dir():
        return {}
    page = place / "index.html"
    listed = _manifest(page) if page.is_file() and not page.is_symlink() else None
    if os.path.lexists(page) and listed is None and not force:
        raise UsageError(f"--steps {folder}: {page} was not made by render --steps; add --force to replace it")
    owned = {}
    for path in sorted(place.iterdir()):
        if FRAME.fullmatch(path.name) and path.name in (listed or {}) and _digest(path) == listed[path.name]:
            owned[path.name] = listed[path.name]
    return owned


def check_frames(folder: str, trace: Trace, fmt: str, owned: dict[str, str], force: bool) -> None:
    """Before drawing: a frame this run writes may replace only a file an earlier run provably wrote (owned);
    a user's own step-N.svg, or one changed since, is refused (exit 2) unless force."""
    for name in frame_names(len(moments(trace)), fmt):
        path = Path(folder) / name
        if os.path.lexists(path) and name not in owned and not force:
            raise UsageError(
                f"--steps {folder}: {path} was not written by render --steps (or was changed since); move it, "
                "or add --force to replace it"
            )


def _manifest(page: Path) -> dict[str, str] | None:
    """{frame: sha256} from a page render --steps made (empty for a page of an older backprop, which
    listed no hashes); None for a page it did not make."""
    try:
        text = page.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if not all(mark in text for mark in GENERATOR):
        return None
    try:
        data, _ = json.JSONDecoder().raw_decode(text, text.index(GENERATOR[1]) + len(GENERATOR[1]))
        return dict(zip(data["frames"], data["sha256"], strict=True))
    except (ValueError, KeyError, TypeError):
        return {}


def _digest(path: Path) -> str | None:
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def index_html(title: str, frames: list[str], captions: list[str], hashes: list[str] | None = None) -> str:
    """A page that steps through the frames: buttons and the arrow keys; nothing is fetched from the network.
    hashes: each frame's sha256, so that a later run can prove which files in the folder it wrote."""
    listing = {"frames": frames, "captions": captions, "sha256": hashes or []}
    data = json.dumps(listing).replace("<", "\\u003c")  # no </script> inside
    return _PAGE.substitute(title=html.escape(title), data=data, first=frames[0])  # one pass: no text re-read


_PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="backprop render --steps">
<title>${title}</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #1a1a1a; }
  nav { display: flex; gap: 0.75em; align-items: center; margin: 0.5em 0; }
  button { font-size: 1em; padding: 0.3em 1em; }
  #caption { min-height: 2.6em; max-width: 60em; }
  #frame { border: 1px solid #ddd; }
  .hint { color: #6e6e6e; font-size: 0.9em; }
</style>
</head>
<body>
<h1>${title}</h1>
"""
    + nav_html("frame", "keys: left, right, Home, End")
    + """<p id="caption"></p>
<img id="frame" src="${first}" alt="">
<script>
const steps = ${data};
let at = 0;
let scale = null;  // one scale for every frame (fitted to the first), so the boxes never jump
const frame = document.getElementById("frame");
frame.addEventListener("load", () => {
  if (scale === null) scale = Math.min(1, (document.body.clientWidth - 4) / frame.naturalWidth);
  frame.style.width = Math.round(frame.naturalWidth * scale) + "px";
});
function show(k) {
  at = Math.max(0, Math.min(steps.frames.length - 1, k));
  frame.src = steps.frames[at];
  frame.alt = steps.captions[at];
  document.getElementById("caption").textContent = steps.captions[at];
  document.getElementById("counter").textContent = "frame " + at + " of " + (steps.frames.length - 1);
  document.getElementById("prev").disabled = at === 0;
  document.getElementById("next").disabled = at === steps.frames.length - 1;
}
"""
    + nav_script("steps.frames.length - 1")
    + """show(0);
</script>
</body>
</html>
"""
)
