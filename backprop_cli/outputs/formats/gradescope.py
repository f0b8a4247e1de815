"""Gradescope's results.json (/autograder/results/results.json), as Gradescope documents it for autograders
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): top level score, execution_time, output,
output_format (text, html, simple_format, md, ansi), visibility, stdout_visibility and tests[]; each test name,
score, max_score, status (passed, failed), output, output_format, visibility (hidden, after_due_date,
after_published, visible), tags and number. The top-level score is the one verify/grading.py computes (a
top-level score overrides the sum of the tests'). A file that cannot be checked is a visible failed test.
Schema: backprop_cli/schemas/gradescope.schema.json."""

from __future__ import annotations

from ...errors import printable
from ..score_text import part_markdown, part_title, score_line
from . import Document, Settings


def _test(name: str, score: float, max_score: float, output: str, visibility: str, tags: list, number: str) -> dict:
    return {
        "name": printable(name),
        "score": score,
        "max_score": max_score,
        "status": "passed" if score >= max_score and "failed" not in tags else "failed",
        "output": output,
        "output_format": "md",
        "visibility": visibility,
        "tags": tags,
        "number": number,
    }


def gradcheck(result, settings: Settings) -> Document:
    tests = []
    for i, checked in enumerate(result.files, 1):
        prefix = f"{checked.name}: " if not result.single else ""
        if checked.score is None or not checked.score.parts and checked.failure is not None:
            failure = checked.failure
            output = f"**The file could not be checked:** {printable(failure.line)}"
            tests.append(_test(f"{prefix}checking {checked.path}", 0.0, 0.0, output, "visible", ["failed"], f"{i}.0"))
            continue
        for k, part in enumerate(checked.score.parts, 1):
            tags = [part.kind] + ([] if part.passed else ["failed"])
            output = f"{part_title(part)}\n\n{part_markdown(part)}"
            tests.append(
                _test(prefix + part.label, part.earned, part.points, output, part.visibility, tags, f"{i}.{k}")
            )
    score = result.score
    summary = score_line(score) if result.gradable else "a file could not be checked: see the failed test"
    return Document(
        {
            "score": score.earned,
            "execution_time": round(result.seconds, 3),
            "output": printable(summary),
            "output_format": "md",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": tests,
        },
        settings.pretty,
    )


def grade(result, settings: Settings):
    """Hand answers graded (gradcheck --answers): each student's grade as gradcheck's result, a part per asked
    quantity (verify/answer_grading.py Grades.checks), in the same Gradescope's results.json as a gradcheck's."""
    return gradcheck(result.checks(), settings)


def error(result, settings: Settings) -> Document:
    """A run stopped before any file was checked (a bad option, a missing file): one visible failed test, so the
    student sees why, not an empty result."""
    test = _test(f"backprop {result.command}", 0.0, 0.0, printable(result.message), "visible", ["failed"], "0.0")
    data = {"score": 0.0, "output": printable(result.message), "output_format": "md", "visibility": "visible"}
    return Document({**data, "stdout_visibility": "hidden", "tests": [test]}, settings.pretty)
