"""Issue 25: worksheets as Markdown, LaTeX and HTML carry the graph drawn with its blanks, as the SVG sheets do:
Markdown links ID.svg written beside it, LaTeX includes ID.graph.pdf (pdflatex ID.tex writes ID.pdf), HTML holds
the SVG inline; each key its key's drawing. Where dot cannot draw, the DOT text is written beside the sheet and
the sheet says how to draw it. Oracle: the drawings are render's worksheet drawings of the same version (the
drawn numbers of manifest.json appear in them, the blanks in the sheet's, the answers only in the key's)."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET

import pytest
from latex_check import latex_compiles

from backprop_cli.errors import GraphFileError, Position

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
SVG = "{http://www.w3.org/2000/svg}"


def _sheets(run, tmp_path, fmt: str, *more: str):
    out = tmp_path / fmt
    result = run(
        "worksheet", "relu_versions", "--variants", "1", "--secret", "k", "-o", str(out), "--format", fmt, *more
    )
    assert result.exit_code == 0, result.stderr
    return out, json.loads((out / "manifest.json").read_text())["versions"][0]


def _texts(svg: bytes) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


@needs_dot
def test_markdown_and_html_sheets_show_the_blank_graph_and_the_keys_the_answers(run, tmp_path):
    out, version = _sheets(run, tmp_path, "md")
    assert sorted(version["files"]) == ["1.key.md", "1.key.svg", "1.md", "1.svg"]  # listed: a re-run replaces them
    assert "![the graph, relu_versions: version 1](1.svg)" in (out / "1.md").read_text()
    assert "](1.key.svg)" in (out / "1.key.md").read_text()
    sheet, key = _texts((out / "1.svg").read_bytes()), _texts((out / "1.key.svg").read_bytes())
    w9 = version["values"]["w9"]
    assert f"{w9:g}" in sheet and f"{w9:g}" in key  # the version's own numbers, as drawn
    assert any("[" in t for t in sheet) and not any("[" in t for t in key)  # blanks to fill; the key filled
    again = run("worksheet", "relu_versions", "--variants", "1", "--secret", "k", "-o", str(out), "--format", "md")
    assert again.exit_code == 0, again.stderr  # its own drawings are replaced without --force

    html_out, _ = _sheets(run, tmp_path, "html")
    assert sorted(p.name for p in html_out.iterdir()) == ["1.html", "1.key.html", "answers.csv", "manifest.json"]
    page = (html_out / "1.html").read_text()
    inline = re.search(r"<figure>(<svg.*?</svg>)\s*</figure>", page, re.S)
    assert inline and _texts(inline.group(1).encode()) == sheet  # the same drawing, inline
    assert page.count("<svg") == 1 and "Your answers" in page


@needs_dot
def test_a_latex_sheet_includes_its_graph_drawn_beside_it(run, tmp_path):
    out, version = _sheets(run, tmp_path, "tex")
    assert sorted(version["files"]) == ["1.graph.pdf", "1.key.graph.pdf", "1.key.tex", "1.tex"]
    tex = (out / "1.tex").read_text()
    assert r"\usepackage{graphicx}" in tex and r"\includegraphics[" in tex and "{1.graph.pdf}" in tex
    assert (out / "1.graph.pdf").read_bytes().startswith(b"%PDF")
    if shutil.which("pdflatex"):  # where LaTeX is installed: the sheet compiles, and its PDF is not the graph's
        import subprocess

        done = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "1.tex"],
            cwd=out,
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout[-2000:]
        assert (out / "1.pdf").is_file() and (out / "1.graph.pdf").read_bytes().startswith(b"%PDF")


def test_without_dot_the_sheets_hold_the_dot_text_and_say_how_to_draw_it(run, tmp_path, monkeypatch):
    from backprop_cli.outputs import graphviz_program

    def missing():
        raise graphviz_program.GraphvizError("drawing svg, png or pdf needs Graphviz's `dot` program")

    monkeypatch.setattr(graphviz_program, "find_dot", missing)
    for fmt, beside, command in (
        ("md", "1.dot", "dot -Tsvg 1.dot -o 1.svg"),
        ("tex", "1.graph.dot", "dot -Tpdf 1.graph.dot -o 1.graph.pdf"),
        ("html", "1.dot", "dot -Tsvg 1.dot -o 1.svg"),
    ):
        out = tmp_path / fmt
        result = run("worksheet", "relu_versions", "--variants", "1", "--secret", "k", "-o", str(out), "--format", fmt)
        assert result.exit_code == 0 and "not drawn" in result.stderr, result.stderr
        assert (out / beside).read_text().startswith("digraph") and command in (out / f"1.{fmt}").read_text()
    (tmp_path / "plain").mkdir()
    plain, _ = _sheets(run, tmp_path / "plain", "md", "--no-diagram")  # the tables alone, as before
    assert sorted(p.name for p in plain.iterdir()) == ["1.key.md", "1.md", "answers.csv", "manifest.json"]
    assert "![" not in (plain / "1.md").read_text()


def test_a_student_id_ending_in_graph_is_refused():
    """ID.graph.tex would compile to ID.graph.pdf, the drawing of student ID's LaTeX sheet."""
    from backprop_cli.fileformat.roster import check_student_id

    with pytest.raises(GraphFileError, match=r"ends in \.graph"):
        check_student_id("ada.Graph", Position("roster.csv", 2, 1))


def test_a_latex_sheet_of_any_text_compiles(run, tmp_path):
    """The graph's own words reach the sheet (its about:, names): σ, ⊙, ŷ, ≈, … and LaTeX's special characters
    ($ % # & ~ ^) stopped pdflatex ("Unicode character σ not set up for use with LaTeX")."""
    graph = tmp_path / "layer.yaml"
    graph.write_text(
        'about: "σ(W·x + b), ∂L/∂W = (σ′ ⊙ δ) xᵀ — ŷ ≈ ½‖x‖², 50% of $1 & #2 ~ ^ 漢"\n'
        "inputs:\n  x: {int: [-2, 2], shape: [3]}\n  y: {choice: [0, 1]}\n"
        "params:\n  W: {uniform: [-1, 1], digits: 1, shape: [2, 3]}\n"
        "nodes:\n  h: sigmoid(W @ x)\n  L: (sum(h * h) - y) ** 2\noutput: L\n"
    )
    out = tmp_path / "sheets"
    result = run("worksheet", str(graph), "--variants", "1", "--secret", "k", "-o", str(out), "--format", "tex")
    assert result.exit_code == 0, result.stderr
    for name in ("1", "1.key"):
        latex_compiles((out / f"{name}.tex").read_text(), out, name)
