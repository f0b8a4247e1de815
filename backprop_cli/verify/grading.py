"""A gradcheck run as the output layer receives it: each file's report, or the failure that stopped its
check (a bad graph file, a student module that does not load, student code that crashed), and its score.

The score (issue 23) is computed here once, from the report and the graph file's `points:` block
(fileformat/points.py): one Part per graded part (a leaf's gradient check, an `expect` answer, a plugin op
checked alone), each with the points it earned of its points. Every output format (the table, JSON, Markdown,
Gradescope, PrairieLearn, JUnit) shows this one score: none computes its own. From Python:

    graph = backprop_cli.load("hw.yaml", allow_python=True)
    score = grade(graph, backprop_cli.gradcheck(graph))    # score.earned, score.possible, score.fraction
    run = Checks.of(graph, report)                         # what the presenters take (outputs/formats)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .verdicts import LeafCheck, Report


def _right(check) -> bool:
    return check.ok if hasattr(check, "ok") else check.status != "fail"


NOT_CHECKED_ALONE = "not checked alone: the graph's own check failed first, so its backward was not isolated"


@dataclass
class Part:
    """One graded part of a file: its kind (leaf, value, gradient, op), its name, the points it earned of its
    points, who sees it (fileformat/points.py VISIBILITIES), and what it was judged on (a LeafCheck, the
    op's LeafChecks, an ExpectResult) or the words of what stopped it (note)."""

    kind: str
    name: str
    points: float
    earned: float
    visibility: str = "visible"
    checks: list = field(default_factory=list)
    note: str = ""
    caption: str = ""  # its name for a reader, where not its kind's (a hand answer: "gradient of x")

    @property
    def passed(self) -> bool:
        return self.earned >= self.points and not self.note

    @property
    def slip(self) -> str | None:
        """The classic bug the part's wrong gradient looks like (an expect answer's slip; a plugin op's)."""
        return next((c.slip for c in self.checks if not _right(c) and getattr(c, "slip", None)), None)

    @property
    def label(self) -> str:
        if self.caption:
            return self.caption
        return {
            "leaf": f"gradient of {self.name}",
            "value": f"value of {self.name}",
            "gradient": f"expected gradient of {self.name}",
            "op": f"plugin op {self.name} (its backward alone)",
        }[self.kind]


@dataclass
class Score:
    """The parts of one file (or of several: Checks.score) and their sum."""

    parts: list[Part] = field(default_factory=list)
    declared: bool = False  # the graph file has a points: block (the table then shows the score)

    @property
    def earned(self) -> float:
        return sum(p.earned for p in self.parts)

    @property
    def possible(self) -> float:
        return sum(p.points for p in self.parts)

    @property
    def fraction(self) -> float:
        """earned / possible in [0, 1]; with nothing graded, 1 if every part passed (0 parts: 0)."""
        if self.possible > 0:
            return min(1.0, max(0.0, self.earned / self.possible))
        return 1.0 if self.parts and all(p.passed for p in self.parts) else 0.0


def graded(graph) -> dict:
    """The graph's points: its `points:` block, or 1 for each leaf, expect answer and plugin op."""
    if graph.points is not None:
        return graph.points
    from ..fileformat.points import default_points

    return graph.derived(
        "points", lambda: default_points(list(graph.leaf_values), graph.expect, list(graph.plugin_ops))
    )


def grade(graph, report: Report) -> Score:
    """The score of a gradcheck report on graph (points: graded(graph)). A part worth 0 points is left out."""
    points = graded(graph)
    parts: list[Part] = []
    for name, entry in points["leaves"].items():
        leaf = report.leaves.get(name)
        if name in report.skipped or (leaf is None and not report.errors):
            continue  # no gradient (labels), or not asked for (--wrt)
        if leaf is None:
            parts.append(Part("leaf", name, entry["points"], 0.0, entry["visibility"], note="; ".join(report.errors)))
        else:
            ok = leaf.status != "fail"
            parts.append(Part("leaf", name, entry["points"], entry["points"] * ok, entry["visibility"], [leaf]))
    for answer in report.expect:
        section = "values" if answer.kind == "value" else "gradients"
        entry = points["expect"][section].get(answer.name, {"points": points["default"], "visibility": "visible"})
        credit = getattr(answer, "credit", None)
        credit = float(answer.ok) if credit is None else credit
        parts.append(
            Part(answer.kind, answer.name, entry["points"], entry["points"] * credit, entry["visibility"], [answer])
        )
    for op, entry in points["ops"].items():
        nodes = {n.name for n in graph.gates if n.op == op}
        if not nodes or op in report.skipped:
            continue
        checks: list[LeafCheck] = [leaf for key, leaf in report.ops.items() if key.split(": ", 1)[0] in nodes]
        note = "" if checks else "; ".join(report.errors) or NOT_CHECKED_ALONE
        ok = bool(checks) and all(leaf.status != "fail" for leaf in checks)
        parts.append(Part("op", op, entry["points"], entry["points"] * ok, entry["visibility"], checks, note))
    return Score([p for p in parts if p.points > 0 or not p.passed], graph.points is not None)


def failed(graph, note: str) -> Score:
    """Every part of graph failed with one note (the student's code crashed before any verdict)."""
    points = graded(graph)
    parts = [Part("leaf", n, e["points"], 0.0, e["visibility"], note=note) for n, e in points["leaves"].items()]
    for section, kind in (("values", "value"), ("gradients", "gradient")):
        parts += [
            Part(kind, n, e["points"], 0.0, e["visibility"], note=note) for n, e in points["expect"][section].items()
        ]
    parts += [Part("op", n, e["points"], 0.0, e["visibility"], note=note) for n, e in points["ops"].items()]
    return Score([p for p in parts if p.points > 0], graph.points is not None)


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
    seconds: float = 0.0  # how long its check took
    score: Score | None = None  # None: the file's graph did not load (nothing to grade: not gradable)
    images: list[dict[str, str]] = field(default_factory=list)  # {label, url}: the failing graph drawn (PrairieLearn)
    label: str = ""  # what the graders' formats call it, where not its path (a student's id: gradcheck --answers)

    @property
    def name(self) -> str:
        return self.label or self.path

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
    seconds: float = 0.0  # the whole run

    @property
    def exit_code(self) -> int:
        return max((f.exit_code for f in self.files), default=0)

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    @classmethod
    def of(cls, graph, report: Report, path: str | None = None, seconds: float = 0.0) -> Checks:
        """One graph's report as the output layer takes it (outputs.formats.present("gradcheck", fmt, ...))."""
        checked = FileCheck(path or graph.source, report, seconds=seconds, score=grade(graph, report))
        return cls([checked], single=True, seconds=seconds)

    @property
    def gradable(self) -> bool:
        """False when a file could not be checked at all (it does not load): a grader keeps the attempt."""
        return all(f.score is not None for f in self.files)

    @property
    def score(self) -> Score:
        """Every file's parts together."""
        scores = [f.score for f in self.files if f.score is not None]
        return Score([p for s in scores for p in s.parts], any(s.declared for s in scores))
