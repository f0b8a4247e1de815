"""What `backprop gradcheck` shows: a table per leaf, the elements that failed or sit on kinks, the
students' answers, one line per file (its JSON: formats/json.py)."""

from __future__ import annotations

import numpy as np

from ..numbers import number, summary
from ..verify import Finding, LeafCheck, Report
from ..verify.verdicts import UNSETTLED

WORDS = {"pass": "PASS", "fail": "FAIL", "kink": "KINK", "error": "ERROR"}
STYLES = {"pass": "green", "fail": "bold red", "kink": "yellow", "error": "bold red"}


def error_text(value: float) -> str:
    return "-" if value is None else "nan" if np.isnan(value) else f"{value:.1e}"


def at(name: str, index: tuple[int, ...] | None) -> str:
    if index is None:
        return f"{name} (random direction)"
    return f"{name}[{','.join(map(str, index))}]" if index else name


def orders(order: int) -> str:
    """The orders gradcheck --order N checks along a direction: 3 to N."""
    return "order 3" if order == 3 else f"orders 3 to {order}"


def checked_text(leaf: LeafCheck) -> str:
    size = int(np.prod(leaf.shape, dtype=np.int64))
    parts = []
    if leaf.elements:
        parts.append(f"{leaf.elements}" if leaf.elements == size else f"{leaf.elements} of {size:,}")
    if leaf.directions:
        parts.append(f"{leaf.directions} dir{'s' * (leaf.directions != 1)}")
    return " + ".join(parts) or "0"


def finding_line(leaf: LeafCheck, f: Finding) -> str:
    where = at(leaf.name, f.index)
    modes = f"reverse {number(f.reverse)}" + ("" if f.forward is None else f", forward {number(f.forward)}")
    if f.status == "kink" and f.note == UNSETTLED:
        return f"unconfirmed {where}: {modes}, numeric {number(f.numeric)}: {UNSETTLED}"
    if f.status == "kink":
        gate = f" at gate {f.gate}" if f.gate else ""
        slopes = ""
        if f.left is not None and f.right is not None:
            slopes = f"; one-sided slopes {number(f.left)} (left) and {number(f.right)} (right)"
        note = f" ({f.note})" if f.note else ""
        return f"kink {where}{gate}: the stencil crosses a non-differentiable point{slopes}; {modes}{note}"
    note = f": {f.note}" if f.note else ""
    return f"FAIL {where}: {modes}, numeric {number(f.numeric)}{note}"


def detail_lines(report: Report) -> list[str]:
    """Findings, notes, skipped names and the students' answers, one line each."""
    lines = [f"error: {e}" for e in report.errors]
    for leaf in report.leaves.values():
        lines += ["  " + finding_line(leaf, f) for f in leaf.findings]
        hidden = leaf.failures + leaf.kinks - len(leaf.findings)
        if hidden > 0:
            lines.append(f"  … and {hidden} more element{'s' * (hidden != 1)} of {leaf.name}")
        lines += [f"  note: {leaf.name}: {n}" for n in leaf.notes]
    for leaf in report.second_order.values():
        lines += ["  second order: " + finding_line(leaf, f).replace("reverse", "H·v") for f in leaf.findings]
        lines += [f"  note: {leaf.name}: {n}" for n in leaf.notes]
        if leaf.status != "pass" or not leaf.findings:
            lines.append(
                f"  second order {leaf.name}: {WORDS[leaf.status]}, {checked_text(leaf)} checked, "
                f"max rel error {error_text(leaf.max_rel_error)} (H·v against differences of gradients)"
            )
    for key, leaf in report.ops.items():
        if leaf.status == "pass":
            continue
        node = key.partition(": ")[0]
        alone = f"  op at {node} alone (a random upstream gradient): "
        lines += [alone + finding_line(leaf, f) for f in leaf.findings]
        lines += [f"{alone}note: {leaf.name}: {n}" for n in leaf.notes]
        if leaf.slip:
            lines.append(f"{alone}likely bug: {leaf.slip_hint}")
    for leaf in report.higher_order.values():
        lines += [
            f"  orders 3 to {report.order}: " + finding_line(leaf, f).replace("reverse", leaf.method)
            for f in leaf.findings
        ]
        lines += [f"  note: {leaf.name}: {n}" for n in leaf.notes]
        if leaf.status != "pass" or not leaf.findings:
            lines.append(
                f"  {orders(report.order)} {leaf.name}: {WORDS[leaf.status]}, "
                f"{'along a random direction' if leaf.directions else 'checked'}, max rel error "
                f"{error_text(leaf.max_rel_error)} ({leaf.method} against central differences of the same order)"
            )
    lines += [f"  skipped {name}: {why}" for name, why in report.skipped.items()]
    for e in report.expect:
        if e.ok:
            lines.append(f"  ✓ expected {e.label} = {_answer(e.expected)}")
            continue
        lines.append(f"  ✗ expected {e.label} = {_answer(e.expected)}, but it is {_answer(e.actual)}")
        if e.why:
            lines.append(f"      {e.why}")
        if e.hint:
            lines.append(f"      likely slip: {e.hint}")
        lines += [f"      {step}" for step in e.steps or []]  # error carried forward
    return lines


def _answer(value: object) -> str:
    try:
        return summary(np.asarray(value, dtype=float))  # one line: numbers, or shape and summary
    except (TypeError, ValueError):
        return str(value)


def verdict_line(path: str, report: Report) -> str:
    """One line per file, for scripts: status, file, and the worst thing found."""
    leaves = list(report.leaves.values())
    worst = max((lf.max_rel_error for lf in leaves if not np.isnan(lf.max_rel_error)), default=0.0)
    if any(np.isnan(lf.max_rel_error) for lf in leaves):
        worst = float("nan")  # a NaN reference is the worst: "0.0e+00" would read as a perfect match
    gates = sum(lf.kind == "gate" for lf in leaves)
    bits = [f"{len(leaves) - gates} lea{'ves' if len(leaves) - gates != 1 else 'f'}"]
    if gates:
        bits.append(f"{gates} node{'s' * (gates != 1)}")
    bits.append(f"max rel error {error_text(worst)}")
    failing = [lf for lf in leaves if lf.status == "fail"]
    if failing:
        lf = failing[0]
        if lf.failures and np.isnan(lf.max_rel_error):
            where = "the numerical reference is NaN: the step leaves an op's domain"
        elif lf.failures:
            where = f"rel {error_text(lf.max_rel_error)} at {at(lf.name, lf.worst_index)}"
        else:
            where = lf.notes[-1] if lf.notes else "see above"
        bits.append(f"{len(failing)} failing: {lf.name} ({where})")
    kinks = sum(lf.kinks for lf in leaves)
    if kinks:
        bits.append(f"{kinks} kink{'s' * (kinks != 1)}")
    if report.order >= 2:
        second = report.second_order.values()
        worst2 = max((lf.max_rel_error for lf in second if not np.isnan(lf.max_rel_error)), default=0.0)
        failing2 = [lf.name for lf in second if lf.status == "fail"]
        bits.append(f"second order max rel error {error_text(worst2)}")
        if failing2:
            bits.append(f"second order failing: {', '.join(failing2)}")
    failing_ops = [key for key, leaf in report.ops.items() if leaf.status == "fail"]
    if failing_ops:
        bits.append(f"plugin op alone failing: {', '.join(failing_ops)}")
    if report.order >= 3:
        higher = report.higher_order.values()
        worst3 = max((lf.max_rel_error for lf in higher if not np.isnan(lf.max_rel_error)), default=0.0)
        failing3 = [lf.name for lf in higher if lf.status == "fail"]
        bits.append(f"{orders(report.order)} max rel error {error_text(worst3)}")
        if failing3:
            bits.append(f"{orders(report.order)} failing: {', '.join(failing3)}")
    wrong = [e for e in report.expect if not e.ok]
    if report.expect:
        bits.append(f"{len(report.expect) - len(wrong)}/{len(report.expect)} expected answers right")
    if report.errors:
        bits.append(report.errors[0])
    return f"{WORDS[report.status]}  {path}  " + ", ".join(bits)


COLUMNS = (
    "leaf",
    "status",
    "method",
    "checked",
    "max abs err",
    "max rel err",
    "worst",
    "reverse",
    "forward",
    "numeric",
)


def _cells(leaf: LeafCheck) -> list[str]:
    return [
        leaf.name,
        leaf.status,
        leaf.method,
        checked_text(leaf),
        error_text(leaf.max_abs_error),
        error_text(leaf.max_rel_error),
        "-" if leaf.worst_reverse is None else at("", leaf.worst_index).strip(),
        "-" if leaf.worst_reverse is None else number(leaf.worst_reverse),
        "-" if leaf.worst_forward is None else number(leaf.worst_forward),
        "-" if leaf.worst_numeric is None else number(leaf.worst_numeric),
    ]


def _title(report: Report) -> str:
    return f"gradcheck {report.file}: {WORDS[report.status]}"


def rich_table(report: Report):
    from rich.table import Table

    from .terminal import cell

    caption = f"{report.dtype}; rtol {report.tolerance.rtol:g}, atol {report.tolerance.atol:g}"
    table = Table(title=cell(_title(report)), caption=caption, title_justify="left")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("leaf", "status", "method", "worst") else "right")
    for leaf in report.leaves.values():
        texts = _cells(leaf)
        table.add_row(*(cell(t, STYLES[leaf.status] if k == 1 else None) for k, t in enumerate(texts)))
    return table


def stacked_table(report: Report):
    """The same cells in fewer columns, one above the other, for a narrower terminal."""
    from rich.table import Table

    from .terminal import cell

    table = Table(title=cell(_title(report)), caption=rich_table(report).caption, title_justify="left")
    for column in ("leaf", "status", "method\nchecked", "abs err\nrel err", "worst", "reverse\nforward\nnumeric"):
        table.add_column(column, justify="left" if column in ("leaf", "status", "worst") else "right")
    for leaf in report.leaves.values():
        name, status, method, checked, abs_err, rel_err, worst, reverse, forward, numeric = _cells(leaf)
        table.add_row(
            cell(name),
            cell(status, STYLES[leaf.status]),
            cell(f"{method}\n{checked}"),
            cell(f"{abs_err}\n{rel_err}"),
            cell(worst),
            cell(f"{reverse}\n{forward}\n{numeric}"),
        )
    return table


def blocks(report: Report) -> list[tuple[str, list[tuple[str, str]]]]:
    """The table one leaf at a time, for a terminal too narrow for its columns."""
    out = []
    for leaf in report.leaves.values():
        name, status, *rest = _cells(leaf)
        out.append((f"{name}   {WORDS[status]}", list(zip(COLUMNS[2:], rest, strict=True))))
    return out


def print_report(path: str, report: Report) -> None:
    """The table (or a block per leaf), the findings, the verdict line: on a terminal."""
    from .terminal import cell, console, print_table

    con = console()
    print_table(con, rich_table(report), blocks(report), [stacked_table(report)])
    for line in (*detail_lines(report), verdict_line(path, report)):
        con.print(cell(line), soft_wrap=True)


def report_text(report: Report) -> str:
    """The same as plain text, for a pipe or a file: the table in plain columns, then the findings."""
    from ..errors import printable
    from .terminal import plain_table

    return "\n".join([plain_table(rich_table(report)), *map(printable, detail_lines(report))])
