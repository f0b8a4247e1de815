"""`backprop gradcheck GRAPH --answers ...`: a student's answers graded against their own version, or a
whole class's (issue 25). gradcheck's options that grading reads: --student, --secret, --answers, --blank, and
the output options: a grade is a result of its own kind ("grade": table, csv, json, markdown and the graders'
formats, outputs/formats), written through the same Output as every command's (-o FILE; -o DIR for a class)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..errors import ExitCode, GraphFileError, UsageError

ONE_STUDENT = ("gradescope", "prairielearn")  # a results file is one submission's: a class's go to -o DIR


def kind_of_run(args: dict) -> tuple[str, bool]:
    """gradcheck's kind of result (output_options' pick): "grade" with --answers or --student, and whether -o
    may name a folder (a class's answers: a folder or a CSV file)."""
    answers = args.get("answers")
    if answers is None and args.get("student") is None:
        return "gradcheck", False
    return "grade", answers is not None and _a_class(Path(answers))


def _a_class(place: Path) -> bool:
    return place.is_dir() or place.suffix.lower() == ".csv"


def grade_command(graphs: tuple[str, ...], student: str | None, secret: str | None, answers: str | None, **options):
    """Grade and exit: 0 full marks (every student), 1 not, 2 bad usage or input."""
    from ..fileformat.answers import answers_folder, read_answers, read_answers_csv
    from ..fileformat.roster import check_student_id
    from ..fileformat.variants import Variants, asked, version
    from ..verify.answer_grading import Grades, grade_answers
    from .options import load_graph

    if answers is None:
        raise UsageError("--student grades a student's answers: give them with --answers FILE")
    if len(graphs) != 1:
        raise UsageError("--answers grades the answers to one graph file: give one GRAPH")
    output = options.pop("output")
    if output.quiet and output.stdout not in (None, "table"):
        raise UsageError(f"--{_format_words(output.stdout)} and --quiet ask for two outputs; give one of them")
    place = Path(answers)
    batch = _a_class(place)
    if student is not None and batch:
        raise UsageError("--student grades one answers file (YAML); a folder or a CSV file grades the whole class")
    if student is None and not batch:
        raise UsageError("--answers FILE is one student's: say whose with --student ID (a folder or CSV: the class)")
    asked_for = {output.stdout, *(fmt for _, _, fmt in output.files)} & set(ONE_STUDENT)
    if batch and asked_for:
        fmt = sorted(asked_for)[0]
        raise UsageError(
            f"--format {fmt} writes one student's results file (the grader runs once per submission): for a class, "
            "give -o DIR for a file per student, or --format csv, json or junit for one file"
        )
    output.check()
    start = time.monotonic()
    graph = load_graph(graphs[0], options["at"], options["allow_python"])
    drawn = isinstance(graph.variants, Variants) and bool(graph.variants.ranges)
    if drawn and not secret:
        raise UsageError("grading draws each student's version again: give --secret TEXT or set BACKPROP_SECRET")
    questions = asked(graph, options["blank"])

    def grade(who: str, block: dict):
        return grade_answers(version(graph, who, secret) if drawn else graph, block, questions, who)

    if student is not None:
        check_student_id(student, _where("--student"))
        output.check_not_inputs([place])
        result = Grades(graph.name, {student: grade(student, read_answers(place, graph.nodes))}, {student: answers})
    else:
        given: dict = {}
        files: dict[str, str] = {}
        if place.is_dir():
            for who, file in answers_folder(place):
                files[who] = str(file)
                try:
                    given[who] = read_answers(file, graph.nodes)
                except GraphFileError as err:  # one student's bad file: their row says why, the class is graded
                    given[who] = err
        else:
            given = read_answers_csv(place, graph.nodes)
            files = dict.fromkeys(given, answers)
        output.check_not_inputs([place, *files.values()])
        grades = {
            who: str(block) if isinstance(block, GraphFileError) else grade(who, block) for who, block in given.items()
        }
        result = Grades(graph.name, grades, files, single=False)
    result.seconds = time.monotonic() - start
    output.show(result, graph)
    sys.exit(int(ExitCode.OK if result.full_marks else ExitCode.FAILED))


def _format_words(fmt: str) -> str:
    return "json" if fmt == "json" else f"format {fmt}"


def _where(option: str):
    from ..errors import Position

    return Position(option)
