"""`backprop worksheet`'s files for one version (issue 25): the worksheet and its answer key (drawn by render's
worksheet machinery, or as Markdown, LaTeX or HTML tables with that drawing: linked, included or inline), the
row of answers.csv, the manifest's entry.

The asked quantities are the file's own names: the value of each node (blank values) and d output / d name of
each leaf and node but the output (blank gradients), named as require: and the docs name them: `q`, `grad(x)`.
Given numbers are written exactly (as many digits as they have), so the key is what a student computes from
the sheet."""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import PurePath

import numpy as np

from ..engines.trace import Trace
from ..fileformat.variants import asked
from ..graph import Graph
from ..numbers import TEACHER_DIGITS, rounded
from .graphviz_program import GraphvizError, run_dot

TEXT_FORMATS = {"md": "md", "markdown": "md", "tex": "tex", "latex": "tex", "html": "html"}
DRAWN_FORMATS = ("svg", "png", "pdf", "dot")
FORMATS = (*DRAWN_FORMATS, "md", "tex", "html")
SUFFIX = {"md": ".md", "tex": ".tex", "html": ".html", "svg": ".svg", "png": ".png", "pdf": ".pdf", "dot": ".dot"}
EMPTY = "________"
BAR, ESCAPED_BAR = "|", "\\|"
RULE = r"\rule{6em}{0.4pt}"  # a blank to write in, on a LaTeX sheet
PICTURE = {"md": "svg", "tex": "pdf", "html": "svg"}  # a text sheet's drawing: linked, included, inline
BESIDE = {"md": "{id}{key}.{ext}", "tex": "{id}{key}.graph.{ext}", "html": "{id}{key}.{ext}"}  # its file's name
#   (LaTeX's beside ID.tex is ID.graph.pdf: pdflatex ID.tex writes ID.pdf; roster.py keeps ids off .graph)
DRAW = {"svg": "dot -Tsvg {dot} -o {name}", "pdf": "dot -Tpdf {dot} -o {name}"}  # where dot could not draw it here


def answer(trace: Trace, kind: str, name: str) -> np.ndarray:
    return np.asarray(trace.values[name] if kind == "value" else trace.gradients[name], float)


def cell(value: np.ndarray) -> str:
    """A number as Python writes it back exactly (a tensor: a JSON list)."""
    value = np.vectorize(lambda x: float(f"{x:.12g}") + 0.0)(value)  # 1.6, not 1.5999999999999996; -0.0 is 0
    return repr(float(value)) if value.ndim == 0 else json.dumps(value.tolist())


def exact(x: float) -> str:
    """The shortest of the teacher's numbers that is x exactly (2, -1.5, 0.25, 13.57)."""
    for digits in range(TEACHER_DIGITS, 18):
        text = rounded(x, digits)
        if float(text) == float(x):
            return text
    return repr(float(x))


def digits_shown(values: dict[str, np.ndarray]) -> int:
    """The significant digits a drawing needs to show every given number exactly."""
    need = TEACHER_DIGITS
    for value in values.values():
        for x in np.asarray(value, float).reshape(-1)[:4096]:
            while need < 15 and float(rounded(float(x), need)) != float(x):
                need += 1
    return need


def _shown(value: np.ndarray, digits: int | None = None) -> str:
    text = (lambda x: exact(x)) if digits is None else (lambda x: rounded(x, digits))
    if value.ndim == 0:
        return text(float(value))
    return json.dumps(np.vectorize(text, otypes=[object])(value).tolist()).replace('"', "")


# ------------------------------------------------------------ the sheet as text (Markdown, LaTeX, HTML)
def picture_name(fmt: str, student: str, key: bool, ext: str) -> str:
    """The file beside a text sheet (key: its answer key's) that holds its drawing, or the DOT text of it."""
    return BESIDE[fmt].format(id=student, key=".key" if key else "", ext=ext)


def picture_format(fmt: str) -> tuple[str, str]:
    """What a text sheet's drawing is made as here, and why when not as usual: svg (Markdown links ID.svg beside
    the sheet, HTML holds it) or pdf (LaTeX includes ID.pdf); "dot" where Graphviz's dot is missing or cannot
    write that format: the DOT file beside the sheet, which says how to draw it."""
    wanted = PICTURE[fmt]
    try:
        run_dot("digraph { a }", wanted, timeout=20.0)
    except GraphvizError as err:
        return "dot", str(err)
    return wanted, ""


def text_sheet(
    graph: Graph, trace: Trace, blank: str, fmt: str, title: str, key: bool, picture: tuple | None = None
) -> bytes:
    """The sheet (key: with the answers, to 4 significant digits) as tables in fmt; picture: its drawing as
    (file name beside the sheet, the SVG to hold inline or None, the DOT file to draw it from where not drawn)."""
    given = [(n.name, _shown(np.asarray(graph.leaf_values[n.name], float))) for n in graph.leaves]
    nodes = [(n.name, definition(graph.definitions.get(n.name))) for n in graph.nodes.values() if n.origin == n.name]
    nodes = [(name, text) for name, text in nodes if not graph.nodes[name].is_leaf]
    rows = []
    for _, kind, name in asked(graph, blank):
        label = f"∂{graph.output}/∂{name}" if kind == "gradient" else name
        rows.append((label, _shown(answer(trace, kind, name), 4) if key else EMPTY))
    heading = f"{title} (answer key)" if key else title
    tables = [
        ("Given", ("leaf", "value"), given),
        (f"The graph (output: {graph.output})", ("node", "expression"), nodes),
        ("Answers" if key else "Your answers", ("quantity", "answer"), rows),
    ]
    write = {"md": _markdown, "tex": _latex, "html": _html}[fmt]
    return write(heading, graph.about, tables, picture).encode("utf-8")


def _undrawn(picture: tuple) -> str:
    """Where dot could not draw the sheet's picture here: the words that say how to."""
    name, _, dot = picture
    command = DRAW[PurePath(name).suffix[1:]].format(dot=dot, name=name)
    return f"The graph is {dot} beside this file; draw it with Graphviz: {command}"


def definition(text: object) -> str:
    if isinstance(text, dict):
        return str(text.get("expr") or f"{text.get('op')}({', '.join(map(str, text.get('inputs', [])))})")
    return str(text)


def _markdown(heading: str, about: str, tables: list, picture: tuple | None) -> str:
    lines = [f"# {heading}", ""] + ([about, ""] if about else [])
    if picture is not None:
        name, _, dot = picture
        lines += [f"![the graph, {heading}]({name})", ""] + ([f"*{_undrawn(picture)}*", ""] if dot else [])
    for title, head, rows in tables:
        lines += [f"## {title}", "", f"| {head[0]} | {head[1]} |", "| --- | --- |"]
        lines += [f"| `{a}` | {b.replace(BAR, ESCAPED_BAR)} |" for a, b in rows] + [""]
    return "\n".join(lines)


def _latex(heading: str, about: str, tables: list, picture: tuple | None) -> str:
    from .formats.latex import text as tex  # (every character in a form pdflatex knows: σ, ⊙, ŷ, ‖x‖²)

    lines = [
        r"\documentclass{article}",
        r"\usepackage[utf8]{inputenc}",
        r"\usepackage{graphicx}",
        *([r"\usepackage[landscape,margin=1.5cm]{geometry}"] if picture else []),  # room for a wide graph
        r"\begin{document}",
        rf"\section*{{{tex(heading)}}}",
    ]
    lines += [tex(about), ""] if about else []
    if picture is not None:  # included if the PDF is there (dot made it beside the sheet), else how to make it
        name, _, dot = picture
        missing = _undrawn(picture) if dot is not None else f"{name} is missing beside this file"
        size = r"width=\linewidth,height=0.6\textheight,keepaspectratio"
        lines += [
            r"\begin{center}",
            rf"\IfFileExists{{{name}}}{{\includegraphics[{size}]{{{name}}}}}{{\fbox{{\parbox{{0.9\linewidth}}{{{tex(missing)}}}}}}}",
            r"\end{center}",
        ]
    for title, head, rows in tables:
        lines += [rf"\subsection*{{{tex(title)}}}", r"\begin{tabular}{ll}", rf"{head[0]} & {head[1]} \\ \hline"]
        lines += [rf"\texttt{{{tex(a)}}} & {tex(b) if b != EMPTY else RULE} \\" for a, b in rows]
        lines += [r"\end{tabular}", ""]
    return "\n".join([*lines, r"\end{document}", ""])


def _html(heading: str, about: str, tables: list, picture: tuple | None) -> str:
    e = html.escape
    style = "svg{max-width:100%;height:auto}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 8px}"
    parts = [
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{e(heading)}</title>"
        f"<style>{style}</style></head><body>"
    ]
    parts += [f"<h1>{e(heading)}</h1>"] + ([f"<p>{e(about)}</p>"] if about else [])
    if picture is not None:
        name, svg, dot = picture
        drawn = svg[svg.index("<svg") :] if svg else f"<img src='{e(name)}' alt='the graph'>"  # inline, or once drawn
        parts.append(f"<figure>{drawn}</figure>" + (f"<p>{e(_undrawn(picture))}</p>" if dot else ""))
    for title, head, rows in tables:
        body = "".join(f"<tr><td><code>{e(a)}</code></td><td>{e(b)}</td></tr>" for a, b in rows)
        parts.append(f"<h2>{e(title)}</h2><table><tr><th>{e(head[0])}</th><th>{e(head[1])}</th></tr>{body}</table>")
    return "\n".join([*parts, "</body></html>", ""])


# ------------------------------------------------------------ answers.csv and the manifest
def answers_csv(columns: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", *columns])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def manifest_json(head: dict, versions: list[dict]) -> bytes:
    return (json.dumps({**head, "versions": versions}, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
