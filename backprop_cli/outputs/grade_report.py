"""A Grade (verify/answer_grading.py) as text for the terminal, as JSON (schema backprop.grade), and a class's grades
as a CSV file with a row per student. Issue 23's graders' formats (Gradescope, PrairieLearn, JUnit) take the
same Grade: presenters to add beside these."""

from __future__ import annotations

import csv
import io
import json

from ..numbers import summary
from ..verify.answer_grading import Grade

SCHEMA = {"schema": "backprop.grade", "version": 1}
MARKS = {"right": "✓", "carried": "↪", "wrong": "✗", "missing": "·"}


def _shown(value: object) -> str:
    import numpy as np

    return "(none)" if value is None else summary(np.asarray(value, float))


def _points(x: float) -> str:
    return f"{x:g}"


def grade_lines(graph_name: str, grade: Grade) -> list[str]:
    who = f" for student {grade.student}" if grade.student else ""
    lines = [f"{graph_name}{who}: {_points(grade.points)}/{_points(grade.max_points)} points"]
    for item in grade.items:
        mark = MARKS[item.status]
        if item.status == "right":
            lines.append(f"  {mark} {item.column} = {_shown(item.given)}")
        elif item.status == "missing":
            lines.append(f"  {mark} {item.column}: not answered (it is {_shown(item.truth)})")
        else:
            lines.append(f"  {mark} {item.column} = {_shown(item.given)}, but it is {_shown(item.truth)}")
            if item.hint:
                named = f"slip: {item.slip}: " if item.slip else ""
                lines.append(f"      {named}{item.hint}")
            if item.why and item.status == "wrong":
                lines.append(f"      {item.why}")
        if item.points != item.max_points or item.status == "carried":
            lines[-1 if item.status != "wrong" else -1] += f"   [{_points(item.points)}/{_points(item.max_points)}]"
    if grade.ignored:
        lines.append(f"  (not asked, not graded: {', '.join(grade.ignored)})")
    return lines


def grade_json(graph_name: str, grade: Grade) -> dict:
    return {
        **SCHEMA,
        "graph": graph_name,
        "student": grade.student,
        "points": grade.points,
        "max_points": grade.max_points,
        "passed": grade.points == grade.max_points,
        "answers": [
            {
                "column": i.column,
                "kind": i.kind,
                "name": i.name,
                "given": i.given,
                "right": i.truth,
                "status": i.status,
                "points": i.points,
                "max_points": i.max_points,
                "slip": i.slip,
                "hint": i.hint,
                "why": i.why,
            }
            for i in grade.items
        ],
        "not_asked": grade.ignored,
    }


def graded_csv(grades: dict[str, Grade | str]) -> str:
    """A row per student: points, max points, the fraction, the slips; or the error that kept a student's
    answers from being graded (their points left empty: ungradable is not zero)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "points", "max_points", "score", "carried_forward", "slips", "error"])
    for student, grade in grades.items():
        if isinstance(grade, str):
            writer.writerow([student, "", "", "", "", "", grade])
            continue
        score = grade.points / grade.max_points if grade.max_points else 1.0
        carried = [i.column for i in grade.items if i.status == "carried"]
        writer.writerow(
            [
                student,
                _points(grade.points),
                _points(grade.max_points),
                f"{score:.4g}",
                "; ".join(carried),
                "; ".join(grade.slips),
                "",
            ]
        )
    return out.getvalue()


def class_json(graph_name: str, grades: dict[str, Grade | str]) -> dict:
    return {
        **SCHEMA,
        "graph": graph_name,
        "students": [
            {"student": s, "error": g} if isinstance(g, str) else grade_json(graph_name, g) for s, g in grades.items()
        ],
    }


def dumps(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1)
