"""CSV: hand answers graded (gradcheck --answers), a row per student: points, max points, the score, the answers
carried forward, the slips, or the error that kept a student's answers from being graded (outputs/grade_report.py)."""

from __future__ import annotations

from . import Settings


def grade(result, settings: Settings) -> str:
    from ..grade_report import graded_csv

    return graded_csv(result.grades)
