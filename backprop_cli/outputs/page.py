"""`render -o graph.html`: one self-contained page (the SVG, CSS and script inline; nothing fetched
from the network) with the diagram and both passes step by step: the forward pass gate by gate
(what each gate computes from the values it reads), then the backward pass gate by gate, with the
chain rule in words and numbers exactly as `trace --explain` says it.

Buttons and the arrow keys step; `#step=N` opens step N (the last one for N past the end); clicking
a gate shows its step. The buttons' icons are ASCII, drawn by every system's fonts.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from string import Template

import numpy as np

from ..engines.trace import Trace
from ..numbers import number, summary
from .diagram import Look, build_dot
from .diagram_style import DARK_GATE_FILL, GATE_FILL, PALETTES, SMALL_TENSOR
from .explain import explain_steps
from .graphviz_program import TIMEOUT, run_dot
from .groups import OUTPUT_ID
from .network import drawing_of
from .routes import Routes, trace_routes
from .stepper import nav_html, nav_script


def draw_page(trace: Trace, look: Look, routes: Routes | None = None, timeout: float = TIMEOUT) -> bytes:
    """The page of a trace, as UTF-8 bytes (its diagram drawn by dot)."""
    routes = routes or trace_routes(trace)
    place = drawing_of(trace, routes, look).place
    ids = {name: place.shown_id(name) for name in trace.graph.nodes}
    svg = run_dot(build_dot(trace, replace(look, title=False), routes=routes), "svg", timeout)  # the page has it
    graph = trace.graph
    title = f"{graph.name}: {graph.about}" if graph.about and graph.name else graph.about or graph.name or "backprop"
    leaves = sorted({ids[leaf.name] for leaf in graph.leaves})
    return page_html(title, svg, page_steps(trace, ids), leaves).encode("utf-8")


def _value(x: np.ndarray) -> str:
    return number(x) if np.ndim(x) == 0 else summary(x, small=SMALL_TENSOR)  # as the diagram and --explain


def page_steps(trace: Trace, ids: dict[str, str]) -> list[dict[str, object]]:
    """Every step: its title, its lines, the box it is about (a DOT id, or None) and its pass."""
    graph, values = trace.graph, trace.values
    leaves = [f"{leaf.name} = {_value(values[leaf.name])}" for leaf in graph.leaves]
    steps: list[dict[str, object]] = [
        {"title": "The leaves: the given values", "lines": leaves, "box": None, "pass": "forward"}
    ]
    gates = graph.gates
    for k, node in enumerate(gates, 1):
        reads = [f"{x} = {_value(values[x])}" for x in node.inputs if isinstance(x, str)]
        lines = [f"{node.name} = {node.expr}", "with " + ", ".join(reads) if reads else ""]
        lines.append(f"{node.name} = {_value(values[node.name])}")
        if trace.tangents is not None:  # forward mode: the tangent along --wrt, computed with the value
            lines.append(f"ṫ {node.name} = d{node.name}/d{trace.wrt} = {_value(trace.tangents[node.name])}")
        steps.append(
            {
                "title": f"Forward pass, step {k} of {len(gates)}: {node.name} ({node.operation.gate_kind.role})",
                "lines": [line for line in lines if line],
                "box": ids.get(node.name),
                "pass": "forward",
                "partial": node.generated and ids.get(node.name) == ids.get(node.origin),  # a unit's value: not yet
            }
        )
    backward = explain_steps(trace)
    for k, (name, lines) in enumerate(backward):
        if name is None:
            title = "Backward pass: it starts at the output with gradient 1"
        else:
            what = "fork" if graph.nodes[name].is_leaf else graph.nodes[name].operation.gate_kind.role
            title = f"Backward pass, step {k} of {len(backward) - 1}: {name} ({what})"
        box = OUTPUT_ID if name is None else ids.get(name)  # the first: the output's own wire, with its 1
        steps.append({"title": title, "lines": lines, "box": box, "gate": name, "pass": "backward"})
    return steps


def page_html(title: str, svg: bytes, steps: list[dict[str, object]], leaves: list[str] | None = None) -> str:
    """The page: the inline SVG (its XML prologue dropped, its size kept in data attributes, the gates'
    tooltips cut to their expression: what a gate does to the gradient would give the backward pass
    away), the steps as JSON, the script."""
    drawing = svg.decode("utf-8")
    drawing = drawing[drawing.find("<svg") :] if "<svg" in drawing else drawing
    drawing = re.sub(
        r'<svg width="([\d.]+)pt" height="([\d.]+)pt"',
        r'<svg class="diagram" data-width="\1" data-height="\2"',
        drawing,
        count=1,
    )
    drawing = re.sub(r'(xlink:title="[^"]*?)&#10;[^"]*"', r'\1"', drawing)
    data = json.dumps(steps, ensure_ascii=False).replace("<", "\\u003c")  # no </script> inside
    known = json.dumps(leaves or [])  # the leaves' box ids: their values are known from the start
    return _PAGE.substitute(title=html.escape(title), svg=drawing, data=data, leaves=known, dark=dark_css())


def dark_css() -> str:
    """The drawing's colours on a dark ground, for a system set to dark mode: each colour of the white
    palette (as dot writes it, lower case) mapped to the dark palette's."""
    light, dark = PALETTES["white"], PALETTES["dark"]
    pairs = {"white": dark.background, "#ffffff": dark.leaf_fill}
    for name in ("value", "gradient", "tangent", "current", "zero", "wire", "text", "muted", "param_fill",
                 "current_fill", "cluster", "collapsed_fill"):  # fmt: skip
        pairs.setdefault(getattr(light, name).lower(), getattr(dark, name))
    for role, fill in light.roles.items():
        pairs.setdefault(fill.lower(), dark.roles[role])
    pairs.setdefault(GATE_FILL.lower(), DARK_GATE_FILL)
    rules = [f'svg [fill="{a}"] {{ fill: {b}; }} svg [stroke="{a}"] {{ stroke: {b}; }}' for a, b in pairs.items()]
    return "\n    ".join(rules)


_PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title}</title>
<style>
  html, body { height: 100%; }
  body { font-family: Helvetica, Arial, sans-serif; margin: 0; padding: 0.6em 1.2em; box-sizing: border-box;
         color: #1a1a1a; background: white; display: flex; flex-direction: column; }
  h1 { font-size: 1.15em; margin: 0.1em 0; }
  nav { display: flex; gap: 0.6em; align-items: center; margin: 0.3em 0; flex-wrap: wrap; }
  button { font: 1em monospace; padding: 0.25em 0.8em; cursor: pointer; }
  #counter { min-width: 9em; text-align: center; }
  #step { border-left: 4px solid #E69F00; padding: 0.2em 0.8em; background: #fdf6ea; min-height: 4.6em; }
  #step-title { font-weight: bold; margin: 0 0 0.2em; }
  #step-lines { margin: 0; font: 0.95em/1.35 monospace; white-space: pre-wrap; }
  .hint { color: #6e6e6e; font-size: 0.85em; }
  #view { flex: 1 1 auto; min-height: 12em; overflow: auto; margin-top: 0.5em; outline: none; }
  svg.diagram { display: block; margin: 0 auto; }
  svg .node { cursor: pointer; }
  svg .node.current path, svg .node.current polygon, svg .node.current ellipse { stroke: #E69F00; stroke-width: 3.5; }
  svg .edge.current path { stroke: #E69F00; }
  svg text.pending { opacity: 0.12; }
  body.forward svg g.edge path { stroke-dasharray: none; stroke-width: 1.5px; }  /* no gradient told by its style */
  body.forward svg g.edge.zero path { stroke: #3c3c3c; }
  body.forward svg g.edge.zero polygon { stroke: #3c3c3c; fill: #3c3c3c; }
  body.present { padding: 0.4em 0.8em; }
  body.present h1, body.present .hint { display: none; }
  body.present #step { font-size: 1.6em; min-height: 4.2em; }
  body.present nav { font-size: 1.2em; }
  @media (prefers-color-scheme: dark) {
    body { color: #f0f0f0; background: #1e1e1e; }
    #step { background: #3a2f1c; }
    .hint { color: #b4b4b4; }
    button { background: #333; color: #f0f0f0; border: 1px solid #777; }
    ${dark}
  }
</style>
</head>
<body>
<h1>${title}</h1>
"""
    + nav_html("step", "keys: left, right, Home, End; + and - zoom, 0 fits, shift + arrows pan; p presents").replace(
        "</nav>", '  <button id="present" title="full screen, large text (p)">present</button>\n</nav>'
    )
    + """<div id="step"><p id="step-title"></p><pre id="step-lines"></pre></div>
<div id="view" tabindex="-1">
${svg}
</div>
<script>
const steps = ${data};
const leaves = ${leaves};
let at = 0;
// ---- size: the diagram fills the window when the page opens, in CSS pixels, so the browser's zoom
// enlarges it (a resize that is not a zoom fits it again); + and - zoom, 0 fits, the view scrolls to pan
const svg = document.querySelector("svg.diagram");
const view = document.getElementById("view");
const natural = [parseFloat(svg.dataset.width) * 4 / 3, parseFloat(svg.dataset.height) * 4 / 3];
let scale = 1, ratio = window.devicePixelRatio;
function size(s) {
  scale = Math.max(0.1, Math.min(8, s));
  svg.style.width = natural[0] * scale + "px";
  svg.style.height = natural[1] * scale + "px";
}
function fit() {
  const room = [view.clientWidth - 4, view.clientHeight - 4];
  size(Math.min(room[0] / natural[0], room[1] / natural[1], 3));
}
window.addEventListener("resize", () => {
  if (window.devicePixelRatio === ratio) fit();  // the window changed, not the zoom
  ratio = window.devicePixelRatio;
});
function present() {
  document.body.classList.toggle("present");
  const full = document.body.classList.contains("present");
  if (full && document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
  if (!full && document.fullscreenElement) document.exitFullscreen();
  requestAnimationFrame(fit);
}
document.getElementById("present").onclick = present;
document.addEventListener("keydown", (e) => {
  const pan = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]}[e.key];
  if (e.shiftKey && pan) { view.scrollBy(pan[0] * view.clientWidth / 4, pan[1] * view.clientHeight / 4); }
  else if (e.key === "+" || e.key === "=") size(scale * 1.25);
  else if (e.key === "-") size(scale / 1.25);
  else if (e.key === "0") fit();
  else if (e.key === "p" || e.key === "f") present();
  else return;
  e.stopImmediatePropagation();
  e.preventDefault();
}, true);
function mark(k) {
  document.querySelectorAll("svg .current").forEach((e) => e.classList.remove("current"));
  const box = steps[k].box;
  if (box) {
    const node = document.getElementById(box);
    if (node) {
      node.classList.add("current");
      const r = node.getBoundingClientRect(), v = view.getBoundingClientRect();
      if (r.left < v.left || r.right > v.right || r.top < v.top || r.bottom > v.bottom) {
        node.scrollIntoView({block: "nearest", inline: "nearest"});
      }
    }
    document.querySelectorAll("svg .edge.to-" + box).forEach((e) => e.classList.add("current"));
  }
  reveal(k);
}
// What is known at step k: in the forward pass the values of the leaves and of the gates done so far,
// no gradient yet; in the backward pass every value, and the gradients sent by the gates done so far
// (the output's own 1 from the start). A wire's label node says whose value and gradient it carries
// (from-ID, to-ID; a weight's: the gate that reads it, by-NAME) and how many of its lines are the value
// (vN); a box says which of its lines tell about the backward pass (bN: a fork's sum, "dead", a unit's
// gradient), known once the gates reading it (by-NAME) or the box itself ran backward, and which are a
// unit's value (fN), known once it ran forward.
function reveal(k) {
  const forward = steps[k].pass === "forward";
  document.body.classList.toggle("forward", forward);
  const done = new Set(leaves), back = new Set(), gates = new Set();
  steps.slice(0, k + 1).forEach((s) => {
    if (s.box && (s.pass === "backward") === !forward && !s.partial) done.add(s.box);
    if (s.box && s.pass === "backward") back.add(s.box);
    if (s.gate && s.pass === "backward") gates.add(s.gate);
  });
  const classes = (el, prefix) => Array.from(el.classList).filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length));
  const numbered = (el, prefix) => classes(el, prefix).filter((c) => /^\\d+$$/.test(c)).map(Number);
  document.querySelectorAll("svg g.node.wire").forEach((label) => {
    const from = classes(label, "from-")[0] || "";
    const to = classes(label, "to-")[0] || "";
    const rows = numbered(label, "v")[0] || 1;
    const by = classes(label, "by-");  // a weight's gradient: once the gate that reads it ran
    const valueKnown = !forward || done.has(from);
    const gradientKnown = !forward && (to === "out" || (by.length ? by.every((g) => gates.has(g)) : done.has(to)));
    label.classList.toggle("pending-value", !valueKnown);
    label.classList.toggle("pending-gradient", !gradientKnown);
    label.querySelectorAll("text").forEach((text, i) => {
      text.classList.toggle("pending", i < rows ? !valueKnown : !gradientKnown);
    });
  });
  document.querySelectorAll("svg g.node:not(.wire)").forEach((box) => {
    const later = numbered(box, "b"), values = numbered(box, "f");
    if (!later.length && !values.length) return;
    const readers = classes(box, "by-");  // the gates that read it: it has its gradient once they all ran
    const known = !forward && (back.has(box.id) || (readers.length > 0 && readers.every((r) => gates.has(r))) ||
      classes(box, "to-").includes("out"));
    const ran = !forward || done.has(box.id);
    box.querySelectorAll("text").forEach((text, i) => {
      text.classList.toggle("pending", (later.includes(i) && !known) || (values.includes(i) && !ran));
    });
  });
}
function show(k) {
  at = Math.max(0, Math.min(steps.length - 1, k));
  document.getElementById("step-title").textContent = steps[at].title;
  document.getElementById("step-lines").textContent = steps[at].lines.join("\\n");
  document.getElementById("counter").textContent = "step " + at + " of " + (steps.length - 1);
  document.getElementById("prev").disabled = at === 0;
  document.getElementById("next").disabled = at === steps.length - 1;
  mark(at);
  if (location.hash !== "#step=" + at) history.replaceState(null, "", "#step=" + at);
}
function fromHash() {
  const m = /step=(\\d+)/.exec(location.hash);
  return m ? parseInt(m[1], 10) : 0;
}
"""
    + nav_script("steps.length - 1")
    + """window.addEventListener("hashchange", () => show(fromHash()));
document.querySelectorAll("svg .node").forEach((node) => {
  node.addEventListener("click", () => {
    const backward = steps[at].pass === "backward";
    let k = steps.findIndex((s) => s.box === node.id && (s.pass === "backward") === backward);
    if (k < 0) k = steps.findIndex((s) => s.box === node.id);
    if (k >= 0) show(k);
  });
});
fit();
show(fromHash());
</script>
</body>
</html>
"""
)
