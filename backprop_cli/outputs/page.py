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
from string import Template

import numpy as np

from ..engines.trace import Trace
from ..numbers import number, summary
from .diagram import Look, build_dot
from .diagram_style import SMALL_TENSOR
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
    svg = run_dot(build_dot(trace, look, routes=routes), "svg", timeout)
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
        steps.append({"title": title, "lines": lines, "box": box, "pass": "backward"})
    return steps


def page_html(title: str, svg: bytes, steps: list[dict[str, object]], leaves: list[str] | None = None) -> str:
    """The page: the inline SVG (its XML prologue dropped), the steps as JSON, the script."""
    drawing = svg.decode("utf-8")
    drawing = drawing[drawing.find("<svg") :] if "<svg" in drawing else drawing
    drawing = re.sub(r'<svg width="[\d.]+pt" height="[\d.]+pt"', '<svg class="diagram"', drawing, count=1)
    data = json.dumps(steps, ensure_ascii=False).replace("<", "\\u003c")  # no </script> inside
    known = json.dumps(leaves or [])  # the leaves' box ids: their values are known from the start
    return _PAGE.substitute(title=html.escape(title), svg=drawing, data=data, leaves=known)


_PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 1em 1.5em; color: #1a1a1a; }
  h1 { font-size: 1.3em; margin: 0.2em 0; }
  nav { display: flex; gap: 0.6em; align-items: center; margin: 0.5em 0; flex-wrap: wrap; }
  button { font: 1em monospace; padding: 0.3em 0.9em; cursor: pointer; }
  #counter { min-width: 9em; text-align: center; }
  #step { border-left: 4px solid #E69F00; padding: 0.3em 0.8em; background: #fdf6ea; min-height: 5.5em; }
  #step-title { font-weight: bold; margin: 0 0 0.3em; }
  #step-lines { margin: 0; font: 0.95em/1.4 monospace; white-space: pre-wrap; }
  .hint { color: #6e6e6e; font-size: 0.9em; }
  svg.diagram { width: 100%; height: auto; max-height: 75vh; display: block; margin-top: 0.6em; }
  svg .node { cursor: pointer; }
  svg .node.current path, svg .node.current polygon { stroke: #E69F00; stroke-width: 3.5; }
  svg .node.current path { fill: #FCE8C2; }
  svg .edge.current path { stroke: #E69F00; }
  svg text.pending { opacity: 0.12; }
</style>
</head>
<body>
<h1>${title}</h1>
"""
    + nav_html("step", "keys: left, right, Home, End; click a gate for its step")
    + """<div id="step"><p id="step-title"></p><pre id="step-lines"></pre></div>
${svg}
<script>
const steps = ${data};
const leaves = ${leaves};
let at = 0;
function mark(k) {
  document.querySelectorAll("svg .current").forEach((e) => e.classList.remove("current"));
  const box = steps[k].box;
  if (box) {
    const node = document.getElementById(box);
    if (node) node.classList.add("current");
    document.querySelectorAll("svg .edge.to-" + box).forEach((e) => e.classList.add("current"));
  }
  reveal(k);
}
// What is known at step k: in the forward pass the values of the leaves and of the gates done so far,
// no gradient yet; in the backward pass every value, and the gradients sent by the gates done so far
// (the output's own 1 from the start). A wire's label node says whose value and gradient it carries
// (from-ID, to-ID) and how many of its lines are the value (vN); what is not known yet is dimmed.
function reveal(k) {
  const forward = steps[k].pass === "forward";
  const done = new Set(leaves);
  steps.slice(0, k + 1).forEach((s) => { if (s.box && (s.pass === "backward") === !forward) done.add(s.box); });
  document.querySelectorAll("svg g.node.wire").forEach((label) => {
    const names = Array.from(label.classList);
    const from = (names.find((c) => c.startsWith("from-")) || "").slice(5);
    const to = (names.find((c) => c.startsWith("to-")) || "").slice(3);
    const rows = parseInt((names.find((c) => /^v\\d+$$/.test(c)) || "v1").slice(1), 10);
    const valueKnown = !forward || done.has(from);
    const gradientKnown = !forward && (to === "out" || done.has(to));
    label.classList.toggle("pending-value", !valueKnown);
    label.classList.toggle("pending-gradient", !gradientKnown);
    label.querySelectorAll("text").forEach((text, i) => {
      text.classList.toggle("pending", i < rows ? !valueKnown : !gradientKnown);
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
show(fromHash());
</script>
</body>
</html>
"""
)
