"""The score in words: each graded part (verify/grading.py Part) as the student reads it, for every format that
shows parts (the table's score lines, Markdown, Gradescope, PrairieLearn, JUnit): one wording, many formats."""

from __future__ import annotations

from ..numbers import number
from ..verify.grading import Part, Score
from .gradcheck_report import WORDS, _answer, checked_text, error_text, finding_line

UNCHECKED_FORWARD = "forward mode not checked"  # a note on the op's set-up (no jvp), not on the student's work


def points_text(earned: float, points: float) -> str:
    """7/8, 2.5/4: whole numbers without a decimal point."""
    return f"{number(earned)}/{number(points)}"


def score_line(score: Score) -> str:
    """score 7/8 (88%): 3 of 4 parts right."""
    right = sum(p.passed for p in score.parts)
    return (
        f"score {points_text(score.earned, score.possible)} ({score.fraction:.0%}): "
        f"{right} of {len(score.parts)} part{'s' * (len(score.parts) != 1)} right"
    )


def part_title(part: Part) -> str:
    """PASS gradient of W (2/2)."""
    status = "PASS" if part.passed else "PART" if part.earned > 0 else "FAIL"
    carried = part.passed and any(getattr(c, "ok", True) is False for c in part.checks)
    how = ", error carried forward" if carried else ""
    return f"{status} {part.label} ({points_text(part.earned, part.points)}{how})"


def part_lines(part: Part) -> list[str]:
    """What was found, in the words of gradcheck's report: the verdict, the elements that failed, the expected
    answer and the right one with how it comes about, the slip it looks like."""
    lines = [part.note] if part.note else []
    for check in part.checks:
        if part.kind in ("value", "gradient"):
            lines += _answer_lines(check)
        else:
            lines += _check_lines(part, check)
    return lines


def _check_lines(part: Part, leaf) -> list[str]:
    where = f"{leaf.name}: " if part.kind == "op" else ""
    lines = [
        f"{where}{WORDS[leaf.status]}, {checked_text(leaf)} checked, max rel error {error_text(leaf.max_rel_error)}"
    ]
    lines += [f"  {finding_line(leaf, f)}" for f in leaf.findings]
    hidden = leaf.failures + leaf.kinks - len(leaf.findings)
    if hidden > 0:
        lines.append(f"  … and {hidden} more element{'s' * (hidden != 1)}")
    lines += [f"  note: {n}" for n in leaf.notes if not n.startswith(UNCHECKED_FORWARD)]
    if leaf.slip and leaf.status == "fail":
        lines.append(f"  likely bug: {leaf.slip_hint}")
    return lines


def _answer_lines(answer) -> list[str]:
    if answer.ok:
        return [f"✓ {answer.label} = {_answer(answer.expected)}"]
    lines = [f"✗ {answer.label} = {_answer(answer.expected)}, but it is {_answer(answer.actual)}"]
    if answer.why:
        lines.append(f"  {answer.why}")
    if answer.hint:
        lines.append(f"  likely slip: {answer.hint}")
    lines += [f"  {line}" for line in getattr(answer, "steps", None) or []]  # error carried forward
    return lines


def part_markdown(part: Part) -> str:
    """The part's lines as a Markdown list: findings, formulas and numbers as code spans under their verdict."""
    from ..errors import printable

    out = []
    for line in part_lines(part):
        text = printable(line.strip()).replace("`", "'")
        out.append(f"  - `{text}`" if line.startswith("  ") else f"- {text}")
    return "\n".join(out)
