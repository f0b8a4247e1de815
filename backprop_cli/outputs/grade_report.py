"""A Grade (verify/answer_grading.py) in words: its lines for the terminal, and a class's grades as a CSV file with a
row per student. The presenters of the kind "grade" (outputs/formats: table, csv, json, markdown, and the graders'
formats through Grades.checks) use these."""

from __future__ import annotations

import csv
import io

from ..numbers import summary
from ..verify.answer_grading import Grade

MARKS = {"right": "✓", "carried": "↪", "wrong": "✗", "missing": "·"}


def _shown(value: object) -> str:
    import numpy as np

    return "(none)" if value is None else summary(np.asarray(value, float))


def _points(x: float) -> str:
    return f"{x:g}"


def summary_line(graph_name: str, student: str, grade: Grade | str) -> str:
    """relu_versions ada.l: 18/19 points (--quiet), or why the student's answers were not graded."""
    if isinstance(grade, str):
        return f"{graph_name} {student}: not graded: {grade}"
    return f"{graph_name} {student}: {_points(grade.points)}/{_points(grade.max_points)} points"


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
        score = grade.score().fraction  # the score every format gives
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
