"""Markdown: for write-ups, answer keys and CI summaries (GitHub's job summary, a merge request's comment)."""

from __future__ import annotations

from ...errors import printable
from . import Settings


def escape(text: object) -> str:
    """A table cell: | escaped, a cell's lines joined with <br>."""
    return printable(str(text).replace("|", "\\|").replace("\n", "<br>"))


def table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(map(escape, header)) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]


# ------------------------------------------------------------ trace
def trace(result, settings: Settings) -> str:
    """The trace table under its title; with --explain the chain rule, node by node."""
    from ..tables import cells, columns, title

    lines = [f"### {escape(title(result))}", ""]
    lines += table(columns(result), [cells(result, row, settings.full) for row in result.rows])
    if settings.options.get("explain"):
        lines += ["", *explain(result, settings.full)]
    return "\n".join(lines)


def explain(trace, full: bool = False) -> list[str]:
    """The backward pass step by step: a heading per node, its chain-rule lines as a list (code spans keep the
    formulas as written)."""
    from ..explain import explain_steps

    lines = []
    for node, steps in explain_steps(trace, full):
        lines += ["#### The backward pass" if node is None else f"#### {escape(node)}", ""]
        for line in steps:
            text = line.strip()
            if text.startswith("# "):  # a gate: its expression and what it does to the gradient
                lines.append(f"*{escape(text[2:])}*")
                continue
            lines.append(
                f"- `{printable(text.removeprefix('⇒ '))}`" + (" (the node as a whole)" if text.startswith("⇒") else "")
            )
        lines.append("")
    return lines


# ------------------------------------------------------------ gradcheck
def gradcheck(result, settings: Settings) -> str:
    """Each file: its verdict line, the leaves' table, the findings; and its score."""
    from ..gradcheck_report import COLUMNS, _cells, detail_lines, verdict_line

    lines = []
    for checked in result.files:
        if checked.report is None:
            lines += [f"### ERROR `{escape(checked.path)}`", "", escape(checked.failure.line), ""]
            continue
        report = checked.report
        lines += [f"### {escape(verdict_line(checked.path, report))}", ""]
        lines += table(list(COLUMNS), [_cells(leaf) for leaf in report.leaves.values()])
        details = detail_lines(report)
        if details:
            lines += ["", *(f"- {escape(line.strip())}" for line in details)]
        lines.append("")
    score = result.score
    if score.declared:
        from ..score_text import part_markdown, part_title, score_line

        lines += [f"### {escape(score_line(score))}", ""]
        for part in score.parts:
            lines += [f"#### {escape(part_title(part))}", "", part_markdown(part), ""]
    return "\n".join(lines)


# ------------------------------------------------------------ grade (gradcheck --answers)
def grade(result, settings: Settings) -> str:
    """Each student's score, then each asked quantity: its verdict and points, what was found (feedback to send)."""
    from ..score_text import part_markdown, part_title, score_line

    lines = []
    for student, graded in result.grades.items():
        if isinstance(graded, str):
            lines += [f"### {escape(result.graph)}, student {escape(student)}: not graded", "", escape(graded), ""]
            continue
        score = graded.score()
        lines += [f"### {escape(result.graph)}, student {escape(student)}: {escape(score_line(score))}", ""]
        for part in score.parts:
            lines += [f"- **{escape(part_title(part))}**", *(f"  {line}" for line in part_markdown(part).splitlines())]
        if graded.ignored:
            lines += [f"- not asked, not graded: {escape(', '.join(graded.ignored))}"]
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------ jacobian and hessian
def _matrix(matrix, rows: list[str], cols: list[str]) -> list[str]:
    from ...numbers import number

    return table(["", *cols], [[r, *(number(v) for v in matrix[i])] for i, r in enumerate(rows)])


def jacobian(result, settings: Settings) -> str:
    from ..matrices import check_line, labels

    rows, cols = labels(result.of, result.of_shape), labels(result.wrt, result.wrt_shape)
    lines = [f"### d{result.of}/d{result.wrt}", "", *_matrix(result.matrix, rows, cols), ""]
    return "\n".join([*lines, escape(check_line(result.check, "finite differences"))])


def hessian(result, settings: Settings) -> str:
    from ...numbers import number
    from ..matrices import check_line, labels

    names = [lb for name, shape in zip(result.wrt, result.shapes, strict=True) for lb in labels(name, shape)]
    lines = [f"### Hessian of {escape(settings.graph.output)}", "", *_matrix(result.matrix, names, names), ""]
    lines.append("eigenvalues: " + ", ".join(number(v) for v in result.eigenvalues))
    cond = result.condition_number
    lines.append("condition number: " + ("∞ (singular)" if cond is None else f"{cond:.4g}"))
    return "\n".join([*lines, "", escape(check_line(result.check, "Richardson differences of gradients"))])


# ------------------------------------------------------------ the listings
def examples(result, settings: Settings) -> str:
    return "\n".join(table(["example", "about"], [[i["name"], i["about"]] for i in result]))


def ops(result, settings: Settings) -> str:
    from .table import COLUMNS, op_texts

    return "\n".join(table(list(COLUMNS), op_texts(result)))
