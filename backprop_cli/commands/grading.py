"""`backprop gradcheck GRAPH --answers ...`: a student's answers graded against their own version, or a
whole class's (issue 25). gradcheck's options that grading reads: --student, --secret, --answers, --blank,
--json, --quiet."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import ExitCode, GraphFileError, UsageError


def grade_command(graphs: tuple[str, ...], student: str | None, secret: str | None, answers: str | None, **options):
    """Grade and exit: 0 full marks (every student), 1 not, 2 bad usage or input."""
    from ..fileformat.answers import answers_folder, read_answers, read_answers_csv
    from ..fileformat.roster import check_student_id
    from ..fileformat.variants import Variants, asked
    from ..outputs.grade_report import class_json, dumps, grade_json, grade_lines, graded_csv
    from ..verify.answer_grading import grade_answers
    from .options import load_graph

    if answers is None:
        raise UsageError("--student grades a student's answers: give them with --answers FILE")
    if len(graphs) != 1:
        raise UsageError("--answers grades the answers to one graph file: give one GRAPH")
    output = options.pop("output")
    if output.file is not None or output.stdout not in (None, "table", "json"):
        raise UsageError(
            "--answers writes its grade on stdout, as a table (a CSV for a class) or as JSON (--json): "
            "-o and --format gradescope, prairielearn, junit grade a gradcheck, not answers"
        )
    options["as_json"], options["quiet"] = output.stdout == "json", output.quiet
    if options["as_json"] and options["quiet"]:
        raise UsageError("--json and --quiet ask for two outputs; give one of them")
    place = Path(answers)
    batch = place.is_dir() or place.suffix.lower() == ".csv"
    if student is not None and batch:
        raise UsageError("--student grades one answers file (YAML); a folder or a CSV file grades the whole class")
    if student is None and not batch:
        raise UsageError("--answers FILE is one student's: say whose with --student ID (a folder or CSV: the class)")
    graph = load_graph(graphs[0], options["at"], options["allow_python"])
    drawn = isinstance(graph.variants, Variants) and bool(graph.variants.ranges)
    if drawn and not secret:
        raise UsageError("grading draws each student's version again: give --secret TEXT or set BACKPROP_SECRET")
    questions = asked(graph, options["blank"])

    def version_of(who: str):
        from ..fileformat.variants import version

        return version(graph, who, secret) if drawn else graph

    if student is not None:
        check_student_id(student, _where("--student"))
        result = grade_answers(version_of(student), read_answers(place, graph.nodes), questions, student)
        if options["as_json"]:
            click.echo(dumps(grade_json(graph.name, result)))
        elif options["quiet"]:
            click.echo(f"{graph.name} {student}: {result.points:g}/{result.max_points:g} points")
        else:
            click.echo("\n".join(grade_lines(graph.name, result)))
        sys.exit(int(ExitCode.OK if result.points == result.max_points else ExitCode.FAILED))

    if place.is_dir():
        given: dict = {}
        for who, file in answers_folder(place):
            try:
                given[who] = read_answers(file, graph.nodes)
            except GraphFileError as err:  # one student's bad file: their row says why, the class is graded
                given[who] = err
    else:
        given = read_answers_csv(place, graph.nodes)
    grades: dict = {}
    for who, block in given.items():
        grades[who] = (
            str(block) if isinstance(block, GraphFileError) else grade_answers(version_of(who), block, questions, who)
        )
    click.echo(dumps(class_json(graph.name, grades)) if options["as_json"] else graded_csv(grades), nl=False)
    full = all(not isinstance(g, str) and g.points == g.max_points for g in grades.values())
    sys.exit(int(ExitCode.OK if full else ExitCode.FAILED))


def _where(option: str):
    from ..errors import Position

    return Position(option)
