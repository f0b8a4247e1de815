"""PrairieLearn's external grader results (/grade/results/results.json), as PrairieLearn documents them
(https://prairielearn.readthedocs.io/en/latest/externalGrading/): gradable, score in [0, 1], message, output,
images [{label, url}] with data URIs, tests [{name, description, points, max_points, message, output}]. A
submission that cannot be graded (its file does not load) is gradable: false with format_errors, so the student
keeps the attempt. At most 1 MB: images are dropped, then outputs cut, to stay under it (MAX_BYTES).
Schema: backprop_cli/schemas/prairielearn.schema.json."""

from __future__ import annotations

import json

from ...errors import printable, printable_lines
from ..score_text import part_lines, part_title, score_line
from . import Document, Settings

MAX_BYTES = 1_000_000  # PrairieLearn refuses larger results
OUTPUT_CHARS = 20_000  # a test's output beyond this is cut (said so)


def _cut(text: str, limit: int = OUTPUT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit:,} more characters cut)"


def gradcheck(result, settings: Settings) -> Document:
    errors = [printable(f.failure.line) for f in result.files if f.score is None and f.failure is not None]
    tests = []
    for checked in result.files:
        if checked.score is None:
            continue
        prefix = f"{checked.name}: " if not result.single else ""
        for part in checked.score.parts:
            lines = part_lines(part)
            tests.append(
                {
                    "name": printable(prefix + part.label),
                    "description": printable(part_title(part)),
                    "points": part.earned,
                    "max_points": part.points,
                    "message": printable(lines[0]) if lines else "",
                    "output": _cut(printable_lines("\n".join(lines))),
                }
            )
    score = result.score
    if errors:
        data = {"gradable": False, "score": 0.0, "format_errors": errors, "message": errors[0], "tests": tests}
    else:
        data = {"gradable": True, "score": score.fraction, "message": printable(score_line(score)), "tests": tests}
    data["output"] = _cut(printable_lines("\n".join(part_title(p) for p in score.parts)))
    data["images"] = [*settings.options.get("images", []), *(image for f in result.files for image in f.images)]
    while len(json.dumps(data)) > MAX_BYTES and data["images"]:
        data["images"].pop()
    for test in data["tests"]:
        if len(json.dumps(data)) <= MAX_BYTES:
            break
        test["output"] = _cut(test["output"], 200)
    return Document(data, settings.pretty)


def grade(result, settings: Settings):
    """Hand answers graded (gradcheck --answers): each student's grade as gradcheck's result, a part per asked
    quantity (verify/answer_grading.py Grades.checks), in the same PrairieLearn's results.json as a gradcheck's."""
    return gradcheck(result.checks(), settings)


def error(result, settings: Settings) -> Document:
    """A run that stopped before any file was checked: not gradable, the student keeps the attempt."""
    message = printable(result.message)
    data = {"gradable": False, "score": 0.0, "format_errors": [message], "message": message, "tests": []}
    return Document({**data, "output": message, "images": []}, settings.pretty)
