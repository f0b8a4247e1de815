"""Grading a student's answers against their own version (issue 25): each asked quantity right, carried
forward (wrong, but right given the student's own earlier numbers: error-carried-forward credit), wrong with
its slip named (check_expect.py's slips), or not answered; and the points.

The points come from the graph file's `points:` block (issue 23): `entry_for` reads its `expect:` entries (which
may name any quantity a worksheet asks, fileformat/points.py) and its default (1 point per asked quantity
without one). A Grade becomes a Score of Parts (verify/grading.py), one per asked quantity, so the graders'
presenters of gradcheck (Gradescope, PrairieLearn, JUnit) write it: `Grades.checks()`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..engines.evaluate import evaluate, operands
from ..engines.trace import Trace, run_trace
from ..graph import Graph
from ..numbers import summary
from .check_expect import DEFAULT_TOLERANCE, ExpectResult, _close, _paths, check_expect
from .grading import Checks, Failure, FileCheck, Part, Score

POINTS = 1.0  # per asked quantity, until the graph file says otherwise (issue 23)
CARRIED = 1.0  # the share of its points a carried-forward answer earns


def entry_for(graph: Graph, kind: str, name: str) -> dict:
    """What an asked quantity is worth and who sees it: the graph file's `points: expect:` entry for it (issue
    23, fileformat/points.py), else its `points: default` and `visibility`, else 1 point, visible."""
    if graph.points is None:
        return {"points": POINTS, "visibility": "visible"}
    section = "values" if kind == "value" else "gradients"
    found = graph.points.get("asked", {}).get(section, {}).get(name) or graph.points["expect"][section].get(name)
    return dict(found or {"points": graph.points["default"], "visibility": graph.points["visibility"]})


def points_for(graph: Graph, kind: str, name: str) -> float:
    """What an asked quantity is worth (entry_for's points)."""
    return float(entry_for(graph, kind, name)["points"])


@dataclass
class Graded:
    column: str  # as answers.csv names it: q, grad(x)
    kind: str  # "value" or "gradient"
    name: str
    given: object  # None: not answered
    truth: object
    status: str  # "right", "carried" (error carried forward), "wrong", "missing"
    max_points: float
    points: float = 0.0
    slip: str | None = None  # a named slip (check_expect.py): sign, fork, dead_relu, ...
    hint: str = ""  # the slip, or what the answer was carried forward from, in words
    why: str = ""  # how the right answer comes about
    visibility: str = "visible"  # who sees its result (fileformat/points.py VISIBILITIES)

    def part(self) -> Part:
        """The answer as a graded Part, judged on an ExpectResult in check_expect's words (given, the truth, how
        it comes about, the slip; a carried-forward answer's reason as its step), or noted as not answered."""
        label = f"value of {self.name}" if self.kind == "value" else f"gradient of {self.name}"
        part = Part(self.kind, self.name, self.max_points, self.points, self.visibility, caption=label)
        if self.status == "missing":
            part.note = f"{self.column}: not answered (it is {summary(np.asarray(self.truth, float))})"
            return part
        right = self.status == "right"
        carried = self.status == "carried"
        judged = ExpectResult(self.kind, self.name, self.given, self.truth, right, self.why, self.slip)
        judged.hint, judged.steps = ("", [self.hint]) if carried else (self.hint, None)
        part.checks = [judged]
        return part


@dataclass
class Grade:
    student: str | None
    items: list[Graded]
    ignored: list[str] = field(default_factory=list)  # answers to quantities the sheet did not ask

    @property
    def points(self) -> float:
        return sum(i.points for i in self.items)

    @property
    def max_points(self) -> float:
        return sum(i.max_points for i in self.items)

    @property
    def slips(self) -> list[str]:
        """Each wrong answer as `column: slip` (`column: wrong` when no slip is recognised)."""
        return [f"{i.column}: {i.slip or i.status}" for i in self.items if i.status in ("wrong", "missing")]

    def score(self) -> Score:
        """The grade as a Score: one Part per asked quantity, the same points (every format shows these)."""
        return Score([item.part() for item in self.items], declared=True)

    @property
    def full_marks(self) -> bool:
        """Every point earned (the score's fraction is 1: with no points to earn, every answer right)."""
        return self.score().fraction >= 1.0


def grade_answers(graph: Graph, answers: dict, asked: list[tuple[str, str, str]], student: str | None = None) -> Grade:
    """answers: the `expect:` form ({values: {...}, gradients: {...}, tolerance}) of a student's numbers for
    graph (their version); asked: (column, kind, name) of every quantity the sheet asks."""
    tolerance = float(answers.get("tolerance", DEFAULT_TOLERANCE))
    given = {"value": dict(answers.get("values") or {}), "gradient": dict(answers.get("gradients") or {})}
    wanted = {(kind, name) for _, kind, name in asked}
    ignored = [
        f"{name}" if kind == "value" else f"grad({name})"
        for kind in given
        for name in given[kind]
        if (kind, name) not in wanted
    ]
    block = {
        "values": {n: v for n, v in given["value"].items() if ("value", n) in wanted},
        "gradients": {n: v for n, v in given["gradient"].items() if ("gradient", n) in wanted},
        "tolerance": tolerance,
    }
    values = evaluate(graph)
    checked = {(r.kind, r.name): r for r in check_expect(replace(graph, expect=block), values)}
    trace = run_trace(graph, "reverse")
    items = []
    for column, kind, name in asked:
        entry = entry_for(graph, kind, name)
        worth, seen = float(entry["points"]), entry["visibility"]
        truth = trace.values[name] if kind == "value" else trace.gradients[name]
        result = checked.get((kind, name))
        if result is None:
            missing = Graded(column, kind, name, None, _plain(truth), "missing", worth, hint="not answered")
            missing.visibility = seen
            items.append(missing)
            continue
        item = Graded(column, kind, name, result.expected, result.actual, "right", worth, worth, visibility=seen)
        if not result.ok:
            item.status, item.points, item.why = "wrong", 0.0, result.why
            item.slip, item.hint = result.slip, result.hint
            carried = _carried(trace, kind, name, given, tolerance)
            if carried is not None:
                item.status, item.points, item.hint = "carried", worth * CARRIED, carried
        items.append(item)
    return Grade(student, items, ignored)


def _plain(value: object) -> object:
    array = np.asarray(value, float)
    return float(array) if array.ndim == 0 else array.tolist()


# ------------------------------------------------------------ error carried forward
def _carried(trace: Trace, kind: str, name: str, given: dict, tolerance: float) -> str | None:
    """Why a wrong answer is right given the student's own (wrong) answers one step before it, or None."""
    if kind == "value":
        redone, used = _value_from(trace, name, given["value"])
    else:
        redone, used = _gradient_from(trace, name, given["gradient"])
    if redone is None or not used or not _close(given[kind][name], redone, tolerance):
        return None
    yours = ", ".join(used)
    return f"carried forward: right from your own {yours} (error-carried-forward credit)"


def _value_from(trace: Trace, name: str, answered: dict) -> tuple[object, list[str]]:
    """The node recomputed from the student's values of the nodes it reads (the true ones where not given)."""
    graph = trace.graph
    gates = [n for n in graph.gates if n.origin == name]
    inside = {n.name for n in gates}
    reads = {x for n in gates for x in n.inputs if isinstance(x, str) and x not in inside}
    used = [r for r in reads if r in answered and not _close(answered[r], trace.values[r], 1e-12)]
    if not gates or not used:
        return None, []
    values = dict(trace.values)
    try:
        for r in reads:
            if r in answered:
                values[r] = np.asarray(answered[r], graph.dtype).reshape(np.shape(trace.values[r]))
        with np.errstate(all="ignore"):
            for node in gates:
                values[node.name] = node.operation.forward(*operands(node, values, graph.dtype), **node.attrs)
    except (ValueError, TypeError, ArithmeticError):
        return None, []
    return values[name], sorted(used)


def _gradient_from(trace: Trace, name: str, answered: dict) -> tuple[object, list[str]]:
    """d output / d name from the student's gradients of the nodes reading it: Σ upstream · local."""
    paths = _paths(trace, name)
    if not paths or any(local is None or np.ndim(local) != 0 for _, _, _, local, _ in paths):
        return None, []
    total, used = 0.0, []
    for node, _, upstream, local, _ in paths:
        if node in answered and np.ndim(answered[node]) == 0:
            if not _close(answered[node], np.asarray(upstream), 1e-12):
                used.append(f"grad({node})")
            upstream = float(answered[node])
        if np.ndim(upstream) != 0:
            return None, []
        total += float(upstream) * float(local)
    return total, used


def grade_all(graph: Graph, answers: dict[str, dict], asked: list, secret: str) -> dict[str, Grade]:
    """Every student's answers against their own version."""
    from ..fileformat.variants import version

    return {
        student: grade_answers(version(graph, student, secret), block, asked, student)
        for student, block in answers.items()
    }


# ------------------------------------------------------------ the result the output layer receives
@dataclass
class Grades:
    """gradcheck GRAPH --answers ...: each student's Grade against their own version, or the line that says why
    their answers could not be graded (ungradable, not zero); the file each came from; `single` for --student."""

    graph: str  # the graph's name
    grades: dict[str, Grade | str]
    files: dict[str, str]  # student -> their answers file (a class's CSV file: the same for all)
    single: bool = True
    seconds: float = 0.0

    @property
    def full_marks(self) -> bool:
        return all(not isinstance(g, str) and g.full_marks for g in self.grades.values())

    def each(self) -> dict[str, Grades]:
        """One Grades per student (a results file each: -o DIR)."""
        return {s: Grades(self.graph, {s: g}, {s: self.files[s]}, True, self.seconds) for s, g in self.grades.items()}

    def checks(self) -> Checks:
        """The grades as gradcheck's result: a FileCheck per student (named by their id), whose Score has a Part
        per asked quantity; a student whose answers could not be read is a failure without a score (not
        gradable), as a graph file that does not load is."""
        files = []
        for student, grade in self.grades.items():
            checked = FileCheck(self.files[student], label=student)
            if isinstance(grade, str):
                checked.failure = Failure(grade, grade, 2, self.files[student], gradable=False)
            else:
                checked.score = grade.score()
            files.append(checked)
        return Checks(files, single=self.single, seconds=self.seconds)


__all__ = ["Grade", "Graded", "Grades", "entry_for", "grade_all", "grade_answers", "points_for"]
