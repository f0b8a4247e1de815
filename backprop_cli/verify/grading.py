"""A gradcheck run as the output layer receives it: each file's report, or the failure that stopped its
check (a bad graph file, a student module that does not load, student code that crashed), and its score."""

from __future__ import annotations

from dataclasses import dataclass, field

from .verdicts import Report


@dataclass
class Failure:
    """What stopped a file's check, as the command line says it: the line on stderr, the message alone, the
    exit code, and where (file, line, column; None where unknown)."""

    line: str
    message: str
    exit_code: int
    file: str | None = None
    at_line: int | None = None
    column: int | None = None
    gradable: bool = True  # False: the submission could not be checked at all (it does not load)
    student: bool = False  # the student's code crashed, was killed or ran out of time: the file's verdict
    error: Exception | None = field(default=None, repr=False, compare=False)


@dataclass
class FileCheck:
    """One graph file: its report, or its failure; what its plugin code printed (None: no --allow-python)."""

    path: str
    report: Report | None = None
    failure: Failure | None = None
    printed: str | None = None
    score: object = None  # score.Score

    @property
    def status(self) -> str:
        return "error" if self.report is None else self.report.status

    @property
    def exit_code(self) -> int:
        from ..errors import ExitCode

        if self.failure is not None:
            return self.failure.exit_code
        return int(ExitCode.OK if self.report.passed else ExitCode.FAILED)


@dataclass
class Checks:
    """gradcheck GRAPH...: the files in the order given; `single` when one file was named."""

    files: list[FileCheck] = field(default_factory=list)
    single: bool = True

    @property
    def exit_code(self) -> int:
        return max((f.exit_code for f in self.files), default=0)

    @property
    def passed(self) -> bool:
        return self.exit_code == 0
