"""`backprop worksheet`: one version of a problem per student (issue 25), with its answer key, answers.csv
and a manifest of every version's drawn values."""

from __future__ import annotations

import click

from ..errors import GraphFileError, UsageError
from ..outputs.variant_sheets import FORMATS
from .options import (
    complete_dir,
    complete_file,
    epilog,
    graph_argument,
    load_graph,
    reports_errors,
)

SCHEMA = {"schema": "backprop.worksheet", "version": 1}
PRAIRIELEARN = "prairielearn"
QUESTION_FILES = ("info.json", "question.html", "server.py")  # a PrairieLearn question folder's


@click.command(epilog=epilog("worksheet"))
@graph_argument
@click.option(
    "--students",
    "roster",
    metavar="ROSTER.csv",
    shell_complete=complete_file,
    help="The class: student ids in the first column.",
)
@click.option("--variants", type=click.IntRange(1, 10_000), help="N numbered versions (1 … N) instead of a roster.")
@click.option(
    "--secret",
    envvar="BACKPROP_SECRET",
    show_envvar=True,
    metavar="TEXT",
    help="The course secret the versions are drawn from (keep it: grading draws them again).",
)
@click.option("-o", "--output", "out", required=True, metavar="DIR", shell_complete=complete_dir, help="The folder.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*FORMATS, PRAIRIELEARN]),
    default="svg",
    show_default=True,
    help="Drawn (svg, png, pdf, dot), as tables (md, tex, html), or a PrairieLearn question holding the versions.",
)
@click.option(
    "--blank",
    type=click.Choice(["gradients", "values", "both"]),
    default="gradients",
    show_default=True,
    help="What the sheets leave blank (and answers.csv asks).",
)
@click.option(
    "--diagram/--no-diagram",
    default=True,
    show_default=True,
    help="md, tex, html: the graph drawn on each sheet (ID.svg linked beside an md sheet, ID.pdf included by a "
    "tex one, inline in html); --no-diagram: the tables alone.",
)
@click.option("--allow-python", is_flag=True, help="Allow the graph's plugin ops (ops:) to run their Python code.")
@click.option("--force", is_flag=True, help="Replace files in DIR that this command did not write (or that changed).")
@click.option("--json", "as_json", is_flag=True, help="Print manifest.json on stdout too (schema backprop.worksheet).")
@click.option("--pretty/--compact", default=None, help="That JSON indented for people (default), or on one line.")
@click.option("-q", "--quiet", is_flag=True, help="No 'wrote …' line (nor notes) on stderr.")
@reports_errors
def worksheet(graph: str, roster: str | None, variants: int | None, secret: str | None, out: str, **options) -> None:
    """One worksheet per student from GRAPH's drawn leaves, each with its answer key: DIR/ID.svg, DIR/ID.key.svg,
    DIR/answers.csv (a row per student) and DIR/manifest.json (each version's values).

    The same roster, secret and graph file give the same files; grade with
    `backprop gradcheck GRAPH --student ID --answers FILE`.
    """
    from ..engines.trace import run_trace
    from ..fileformat.roster import read_roster
    from ..fileformat.variants import Variants, asked, version
    from ..outputs.files import check_folder, check_not_inputs
    from ..outputs.variant_sheets import (
        PICTURE,
        SUFFIX,
        answer,
        answers_csv,
        cell,
        manifest_json,
        picture_format,
        picture_name,
    )

    if (roster is None) == (variants is None):
        raise UsageError("give the class as --students ROSTER.csv or --variants N (one of them)")
    if not secret:
        raise UsageError("worksheet needs the course secret: --secret TEXT, or set BACKPROP_SECRET")
    check_folder("-o", out)
    ids = read_roster(roster) if roster is not None else [str(i) for i in range(1, variants + 1)]
    fmt, blank = options["fmt"], options["blank"]
    loaded = load_graph(graph, (), options["allow_python"])
    if not isinstance(loaded.variants, Variants) or not loaded.variants.ranges:
        raise GraphFileError(
            "the graph has no drawn leaves, so every student would get the same numbers: write a leaf as "
            "{int: [-5, 5]}, {uniform: [-2, 2], digits: 1} or {choice: [0.5, 1, 2]} (docs/worksheets.md)",
            loaded.nodes[next(iter(loaded.nodes))].where or None,
        )
    bank = fmt == PRAIRIELEARN  # a question folder: the versions are data of server.py, no sheets
    names = {} if bank else {i: (f"{i}{SUFFIX[fmt]}", f"{i}.key{SUFFIX[fmt]}") for i in ids}
    picture, why = None, ""  # a text sheet's drawing: made as svg, pdf, or a DOT file beside it (dot cannot here)
    if fmt in PICTURE and options["diagram"]:
        picture, why = picture_format(fmt)
        for i in ids:  # the drawings beside the sheets (html holds svg inline)
            names[i] += (
                () if (fmt, picture) == ("html", "svg") else tuple(picture_name(fmt, i, k, picture) for k in (0, 1))
            )
    targets = [name for pair in names.values() for name in pair] + ["answers.csv", "manifest.json"]
    targets += list(QUESTION_FILES) if bank else []
    owned = _owned(out, targets, options["force"])
    from pathlib import Path

    check_not_inputs([("-o", str(Path(out) / name)) for name in targets], [roster] if roster else [])
    if fmt in ("svg", "png", "pdf"):
        from ..outputs.graphviz_program import find_dot

        find_dot()  # before any work: say how to install it

    questions = asked(loaded, blank)
    rows, versions, sheets, entries = [], [], {}, []
    seen: dict[tuple, str] = {}
    for student in ids:
        drawn = version(loaded, student, secret)
        trace = run_trace(drawn, "reverse")
        values = {leaf: drawn.leaf_values[leaf] for leaf in loaded.variants.ranges}
        answers = {column: answer(trace, kind, name) for column, kind, name in questions}
        rows.append([student, *(cell(a) for a in answers.values())])
        versions.append({"id": student, "values": {k: v.tolist() for k, v in values.items()}, "files": {}})
        seen.setdefault(tuple(float(x) for v in values.values() for x in v.reshape(-1)), student)
        if bank:
            from ..outputs.prairielearn_question import version_entry

            entries.append(version_entry({n.name: drawn.leaf_values[n.name] for n in drawn.leaves}, answers))
        else:
            sheets[student] = _sheets(drawn, trace, values, fmt, blank, student, picture)
    files = _question(loaded, questions, entries, secret, answers) if bank else _drawn(sheets, names, fmt, picture)
    files["answers.csv"] = answers_csv([c for c, _, _ in questions], rows)
    for entry in versions:
        entry["files"] = {name: _digest(files[name]) for name in names.get(entry["id"], ())}
    head = {**SCHEMA, "graph": loaded.name, "source": graph, "format": fmt, "blank": blank}
    head["columns"] = [c for c, _, _ in questions]
    head["answers_csv"] = _digest(files["answers.csv"])
    head["files"] = {name: _digest(files[name]) for name in QUESTION_FILES if name in files}
    files["manifest.json"] = manifest_json(head, versions)
    from ..outputs.files import write_folder

    write_folder(out, files, owned)
    sheets_said = f"{len(ids)} worksheet{'s' * (len(ids) != 1)}, their keys" + (", their graphs" if picture else "")
    what = f"a PrairieLearn question ({len(ids)} versions)" if bank else sheets_said
    from ..outputs.destination import Output

    Output("worksheet", "worksheet", None, quiet=options["quiet"]).wrote(
        f"{what}, answers.csv and manifest.json to {out}"
    )
    if options["as_json"]:
        import json

        document = json.loads(files["manifest.json"])
        click.echo(json.dumps(document, indent=None if options["pretty"] is False else 2, ensure_ascii=False))
    if why and not options["quiet"]:
        click.echo(f"worksheet: note: each sheet's graph is a DOT file beside it, not drawn: {why}", err=True)
    if len(seen) < len(ids) and not options["quiet"]:
        click.echo(
            f"worksheet: note: {len(ids) - len(seen)} of {len(ids)} students share their numbers with another "
            f"(the ranges allow few versions): widen them for a version each",
            err=True,
        )


def _sheets(graph, trace, values, fmt: str, blank: str, student: str, picture: str | None) -> tuple:
    """The worksheet and key of one version: DOT texts to draw, or (tables) a function of the drawings that
    makes them (picture: what the tables' drawings are made as; None: tables alone)."""
    from dataclasses import replace

    from ..outputs.variant_sheets import DRAWN_FORMATS, PICTURE, digits_shown, picture_name, text_sheet

    title = f"{graph.name}: version {student}"
    if fmt not in DRAWN_FORMATS and picture is None:
        return text_sheet(graph, trace, blank, fmt, title, False), text_sheet(graph, trace, blank, fmt, title, True)
    from ..outputs.diagram import Look
    from ..outputs.worksheet import worksheet_dots

    named = replace(trace, graph=replace(trace.graph, name=title))
    dots = worksheet_dots(named, Look(digits=digits_shown(values)), blank)
    if fmt in DRAWN_FORMATS:
        return dots

    def tables(drawings: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
        made = []
        for key, drawing in zip((False, True), drawings, strict=True):
            name, dot = picture_name(fmt, student, key, PICTURE[fmt]), None
            if picture == "dot":  # dot cannot draw it here: the DOT file beside the sheet, and how to draw it
                dot = picture_name(fmt, student, key, "dot")
            inline = drawing.decode("utf-8") if fmt == "html" and picture == "svg" else None
            made.append(text_sheet(graph, trace, blank, fmt, title, key, (name, inline, dot)))
        return made[0], made[1]

    return dots, tables


def _question(graph, questions: list, bank: list[dict], secret: str, answers: dict) -> dict[str, bytes]:
    """info.json, question.html and server.py of a PrairieLearn question holding the versions drawn."""
    from ..outputs.prairielearn_question import question_files, question_uuid
    from ..outputs.variant_sheets import definition

    nodes = [(n.name, definition(graph.definitions.get(n.name))) for n in graph.gates if not n.generated]
    shapes = {column: answers[column].shape for column, _, _ in questions}
    leaves = [n.name for n in graph.leaves]
    return question_files(
        graph.name, graph.about, leaves, nodes, questions, shapes, bank, question_uuid(secret, graph.name), graph.output
    )


def _drawn(sheets: dict, names: dict, fmt: str, picture: str | None = None) -> dict[str, bytes]:
    """Every sheet as bytes: DOT texts drawn by dot, two at a time (dot runs outside Python); tables alone; or
    tables made with their drawings (picture: what those are drawn as, "dot" for the DOT texts themselves)."""
    from concurrent.futures import ThreadPoolExecutor

    from ..outputs.graphviz_program import run_dot

    texts = {
        (student, k): made[k] if picture is None else made[0][k]
        for student, made in sheets.items()
        if not isinstance(made[0], bytes)
        for k in (0, 1)
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        drawn = dict(zip(texts, pool.map(lambda text: run_dot(text, picture or fmt), texts.values()), strict=True))
    files: dict[str, bytes] = {}
    for student, made in sheets.items():
        own = names[student]
        if isinstance(made[0], bytes):  # tables alone
            files.update(zip(own, made, strict=True))
            continue
        pictures = (drawn[student, 0], drawn[student, 1])
        if picture is None:  # the drawn sheet and its key
            files.update(zip(own, pictures, strict=True))
        else:  # tables with their drawings: beside them (ID.svg, ID.pdf, ID.dot), or inline (html)
            files.update(zip(own[2:], pictures, strict=False))
            files.update(zip(own[:2], made[1](pictures), strict=True))
    return {name: files[name] for student in sheets for name in names[student]}


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _owned(folder: str, targets: list[str], force: bool) -> dict[str, str]:
    """The files of DIR this run may replace: those an earlier run listed in its manifest.json and that still
    hold what it wrote. Any other file of a name this run writes is refused unless force."""
    import json
    import os
    from pathlib import Path

    place = Path(folder)
    listed: dict[str, str] = {}
    manifest = place / "manifest.json"
    if manifest.is_file() and not manifest.is_symlink():
        try:
            old = json.loads(manifest.read_text("utf-8"))
            if old.get("schema") == SCHEMA["schema"]:
                listed = {name: digest for v in old["versions"] for name, digest in v["files"].items()}
                listed["answers.csv"] = old["answers_csv"]
                listed["manifest.json"] = _digest(manifest.read_bytes())
                listed.update(old.get("files", {}))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            listed = {}
    for name in targets:
        path = place / name
        if force or not os.path.lexists(path):
            continue
        if name not in listed or path.is_symlink() or not path.is_file() or _digest(path.read_bytes()) != listed[name]:
            raise UsageError(
                f"-o {folder}: {path} was not written by backprop worksheet (or was changed since); move it, or "
                "add --force to replace it"
            )
    return {}


command = worksheet
