"""JSON: every --json document of every command, built here and nowhere else (schemas in backprop_cli/schemas).

Every document starts with {"schema": "backprop.<command>", "version": N}. Fields are only ever added within a
version; a field whose meaning or type changes moves its schema to the next version (trace: 2, issue 23).
A run stopped by an error prints the error document instead, the same for every command:
    {"schema": "backprop.<command>", "version": N, "exit_code": N,
     "error": {"message": ..., "file": ..., "line": ..., "column": ..., "exit_code": N}}
Arrays stay numpy arrays here: json_output.emit_json writes them as lists of numbers, slice by slice.
"""

from __future__ import annotations

import numpy as np

from ...numbers import to_json
from . import Document, Settings

VERSIONS = {"trace": 2}  # the current version of each schema (1 where not listed)


def header(command: str, graph=None) -> dict:
    """The document's first fields: its schema and version; the graph's name and file, for a result on one."""
    first = {"schema": f"backprop.{command}", "version": VERSIONS.get(command, 1)}
    return first if graph is None else {**first, "graph": graph.name, "file": graph.source}


def _number(x: float | None) -> float | str | None:
    """A float for JSON: None stays null, NaN and inf (which JSON lacks) become "nan", "inf", "-inf"."""
    return None if x is None else float(x) if np.isfinite(x) else str(x)


# ------------------------------------------------------------ errors
def error_object(message: str, exit_code: int, where=None) -> dict:
    """What went wrong and where: file, line and column are null where unknown."""
    return {
        "message": " ".join(message.split()),
        "file": where.file if where else None,
        "line": where.line if where else None,
        "column": where.column if where else None,
        "exit_code": int(exit_code),
    }


def error(result, settings: Settings) -> Document:
    """The document of a run that stopped on an error (outputs.destination.Stop; stderr says the same), in the
    version of the command's schema."""
    document = {**header(result.command), "exit_code": int(result.exit_code)}
    return Document({**document, "error": error_object(result.message, result.exit_code, result.where)})


# ------------------------------------------------------------ trace
def trace(result, settings: Settings) -> Document:
    """schema backprop.trace, version 2: values, gradients (null where none exists: no_gradient says why),
    tangents, the nodes; with --explain the chain-rule lines."""
    from ...engines.reverse_mode import no_gradient

    g = result.graph
    data = {
        **header("trace", g),
        "output": g.output,
        "mode": result.mode,
        "dtype": g.dtype.name,
        "values": dict(result.values),
    }
    if result.gradients is not None:
        missing = no_gradient(g)
        data["gradients"] = {name: None if name in missing else value for name, value in result.gradients.items()}
        data["no_gradient"] = missing
        data["grad_output"] = to_json(result.gradients[g.output])  # the upstream gradient the pass started from
    if result.tangents is not None:
        data["wrt"] = result.wrt
        data["tangents"] = dict(result.tangents)
    data["nodes"] = [
        {
            "name": r.node.name,
            "kind": r.node.kind,
            "op": r.node.op,
            "gate": r.node.operation.gate_kind.role if not r.node.is_leaf else None,
            "expr": r.node.expr,
            "inputs": [str(x) for x in r.node.inputs],
            "shape": list(r.node.shape),
            "origin": r.node.origin or r.node.name,
        }
        for r in result.rows
    ]
    if settings.options.get("explain"):
        from ..explain import explain_lines

        data["explain"] = explain_lines(result, settings.full)
    return Document(data, settings.pretty)


# ------------------------------------------------------------ gradcheck
def gradcheck(result, settings: Settings) -> Document:
    """schema backprop.gradcheck, version 1: one file's report, or {"passed", "files": [...]} for several."""
    if result.single:
        entry = file_entry(result.files[0])
        return Document({**header("gradcheck"), "passed": result.passed, **entry}, settings.pretty)
    files = [file_entry(f) for f in result.files]
    data = {**header("gradcheck"), "passed": result.passed, "files": files, "score": score(result.score)}
    return Document({**data, "gradable": result.gradable}, settings.pretty)


# ------------------------------------------------------------ grade (gradcheck --answers)
def grade(result, settings: Settings) -> Document:
    """schema backprop.grade, version 1: one student's graded answers, or {"graph", "students": [...]}."""
    if result.single:
        ((student, graded),) = result.grades.items()
        return Document(_grade(result.graph, student, graded), settings.pretty)
    students = [_grade(result.graph, s, g) for s, g in result.grades.items()]
    return Document({**header("grade"), "graph": result.graph, "students": students}, settings.pretty)


def _grade(graph: str, student: str, grade) -> dict:
    if isinstance(grade, str):  # the answers could not be read: not graded (not zero)
        return {**header("grade"), "graph": graph, "student": student, "error": grade}
    answers = [
        {"column": i.column, "kind": i.kind, "name": i.name, "given": i.given, "right": i.truth, "status": i.status}
        | {"points": i.points, "max_points": i.max_points, "slip": i.slip, "hint": i.hint, "why": i.why}
        for i in grade.items
    ]
    data = {**header("grade"), "graph": graph, "student": grade.student, "points": grade.points}
    data |= {"max_points": grade.max_points, "passed": grade.full_marks, "score": grade.score().fraction}
    return {**data, "answers": answers, "not_asked": grade.ignored}


def file_entry(checked) -> dict:
    """A file's object: the report's fields, or {"file", "status": "error", "exit_code", "error", ...};
    "stdout" with --allow-python; "score" (issue 23)."""
    if checked.report is None:
        failure = checked.failure
        entry = {"file": checked.path, "status": "error", "exit_code": failure.exit_code, "error": failure.line}
        entry.update(message=" ".join(failure.message.split()), line=failure.at_line, column=failure.column)
    else:
        entry = report_object(checked.report)
    if checked.printed is not None:
        entry["stdout"] = checked.printed
    if checked.score is not None:
        entry["score"] = score(checked.score)
    return entry


def report_object(report) -> dict:
    return {
        "passed": report.passed,
        "status": report.status,
        "graph": report.graph,
        "file": report.file,
        "dtype": report.dtype,
        "method": report.method,
        "mode": report.mode,
        "strict": report.strict,
        "tolerance": {"rtol": report.tolerance.rtol, "atol": report.tolerance.atol, "floor": report.tolerance.floor},
        "leaves": {name: _leaf(leaf) for name, leaf in report.leaves.items()},
        "skipped": report.skipped,
        "expect": [
            {
                "kind": e.kind,
                "name": e.name,
                "expected": e.expected,
                "actual": e.actual,
                "ok": e.ok,
                "why": e.why,
                "slip": e.slip,
                "hint": e.hint,
                "credit": e.credit,
                "steps": e.steps or [],
            }
            for e in report.expect
        ],
        "errors": report.errors,
        "order": report.order,
        "second_order": {name: _leaf(leaf) for name, leaf in report.second_order.items()},
        "ops": {key: _leaf(leaf) for key, leaf in report.ops.items()},
        "higher_order": {name: _leaf(leaf) for name, leaf in report.higher_order.items()},
    }


def _leaf(leaf) -> dict:
    return {
        "status": leaf.status,
        "kind": leaf.kind,
        "shape": list(leaf.shape),
        "method": leaf.method,
        "mode": leaf.mode,
        "elements": leaf.elements,
        "directions": leaf.directions,
        "max_abs_error": _number(leaf.max_abs_error),
        "max_rel_error": _number(leaf.max_rel_error),
        "worst_index": None if leaf.worst_index is None else list(leaf.worst_index),
        "reverse": _number(leaf.worst_reverse),
        "forward": _number(leaf.worst_forward),
        "numeric": _number(leaf.worst_numeric),
        "failures": leaf.failures,
        "kinks": leaf.kinks,
        "forward_checked": leaf.forward_checked,
        "findings": [
            {
                "index": None if f.index is None else list(f.index),
                "status": f.status,
                "gate": f.gate,
                "reverse": _number(f.reverse),
                "forward": _number(f.forward),
                "numeric": _number(f.numeric),
                "left": _number(f.left),
                "right": _number(f.right),
                "note": f.note,
            }
            for f in leaf.findings
        ],
        "notes": leaf.notes,
        "slip": leaf.slip,
        "slip_hint": leaf.slip_hint or None,
    }


def score(score) -> dict:
    """The score of verify/grading.py: the points earned of the points possible, and each graded part."""
    return {
        "earned": score.earned,
        "possible": score.possible,
        "fraction": score.fraction,
        "parts": [
            {
                "kind": p.kind,
                "name": p.name,
                "points": p.points,
                "earned": p.earned,
                "passed": p.passed,
                "visibility": p.visibility,
                "note": p.note or None,
                "slip": p.slip,
            }
            for p in score.parts
        ],
    }


# ------------------------------------------------------------ jacobian and hessian
def _check(check) -> dict:
    if check is None:
        return {"checked": False}
    return {
        "checked": True,
        "status": check.status,
        "passed": check.status != "fail",
        "method": check.method,
        "entries": check.elements,
        "failures": check.failures,
        "kinks": check.kinks,
        "max_abs_error": _number(check.max_abs_error),
        "max_rel_error": _number(check.max_rel_error),
        "worst_index": None if check.worst_index is None else list(check.worst_index),
    }


def _checked(command: str, graph, fields: dict, result, pretty) -> Document:
    """A checked matrix's document (jacobian, hessian): its own fields, then the check and the notes."""
    return Document({**header(command, graph), **fields, "check": _check(result.check), "notes": result.notes}, pretty)


def jacobian(result, settings: Settings) -> Document:
    """schema backprop.jacobian, version 1."""
    fields = {"of": result.of, "wrt": result.wrt, "shape": list(result.shape), "jacobian": result.array}
    fields.update(nonzeros=result.nonzeros, mode=result.mode, passes=result.passes)
    return _checked("jacobian", settings.graph, fields, result, settings.pretty)


def hessian(result, settings: Settings) -> Document:
    """schema backprop.hessian, version 1."""
    fields = {"output": settings.graph.output, "wrt": result.wrt, "shapes": [list(s) for s in result.shapes]}
    fields.update(hessian=result.matrix, eigenvalues=result.eigenvalues, condition_number=result.condition_number)
    return _checked("hessian", settings.graph, {**fields, "method": result.method}, result, settings.pretty)


# ------------------------------------------------------------ derivatives
def derivatives(result, settings: Settings) -> Document:
    """schema backprop.derivatives, version 1: f, f′, …, f⁽ᴺ⁾ along one leaf, each with its check."""
    from ..derivatives_report import words

    graph, check = settings.graph, result.check
    data = {
        **header("derivatives"),
        "passed": result.status != "fail",
        "status": result.status,
        "graph": graph.name,
        "file": graph.source,
        "output": result.output,
        "wrt": result.wrt,
        "direction": result.direction,
        "point": result.point,
        "order": result.order,
        "derivatives": [
            {
                "order": k,
                "value": _number(result.values[k]),
                "error": _number(result.errors[k]),
                "taylor": _number(result.taylor[k]),
                "reference": _number(result.reference[k]) if k < len(result.reference) else None,
                "reference_error": _number(result.reference_errors[k]) if k < len(result.reference_errors) else None,
                "zero": result.zero(k),  # within its error estimate: the table and the Taylor line show 0
                "reference_zero": result.reference_zero(k),
                "relative_error": _number(result.relative_errors[k - 1])
                if 0 < k <= len(result.relative_errors)
                else None,
                "meaning": words(k),
            }
            for k in range(result.order + 1)
        ],
        "method": result.method,
        "radius": result.radius,
        "points": result.points,
        "kink": result.kink,
        "check": None
        if check is None
        else {
            "status": check.status,
            "orders": check.elements,
            "failures": check.failures,
            "max_abs_error": _number(check.max_abs_error),
            "max_rel_error": _number(check.max_rel_error),
            "findings": [{"note": f.note, "value": f.reverse, "reference": f.numeric} for f in check.findings],
        },
        "notes": result.notes,
    }
    return Document(data, settings.pretty)


# ------------------------------------------------------------ train
def train(result, settings: Settings) -> Document:
    """schema backprop.train, version 1: the losses of steps every, 2·every, … and the last. A diverged run
    (only in a race: alone it is an error) has its losses up to the last finite one, final_loss null, where it
    diverged and why, and the learning rate with which it trains (suggested_lr), if one was found."""
    graph, runs, every = result.graph, result.runs, result.every

    def shown(run) -> list[int]:
        last = len(run.losses)
        return [t for t in range(1, last + 1) if t % every == 0 or t == last]

    data = {
        **header("train", graph),
        "output": graph.output,
        "steps": max(len(run.losses) for run in runs if run.finished),
        "every": every,
        "batch_size": result.batch_size,
        "seed": result.seed,
        "schedule": result.schedule,
        "runs": [
            {
                "optimizer": run.optimizer,
                "hyper": run.hyper,
                "initial_loss": run.losses[0] if run.losses else None,
                "final_loss": run.final_loss if run.finished else None,
                "step": shown(run),
                "loss": [run.losses[t - 1] for t in shown(run)],
                "params": dict(run.params),
                "notes": run.notes,
                "diverged_at": run.diverged_at,  # null: the run finished
                "diverged": run.diverged or None,
                "suggested_lr": result.suggested.get(k),
            }
            for k, run in enumerate(runs)
        ],
    }
    return Document(data, settings.pretty)


# ------------------------------------------------------------ the listings
def examples(result, settings: Settings) -> Document:
    """schema backprop.examples, version 1: name, file and about of each bundled example."""
    return Document({**header("examples"), "examples": result}, settings.pretty)


def ops(result, settings: Settings) -> Document:
    """schema backprop.ops, version 1: the op table."""
    return Document({**header("ops"), "ops": result}, settings.pretty)
