"""The terminal's text: tables (rich on a terminal, plain columns in a pipe or a file), matrices, summaries.

On a terminal a presenter prints through rich itself and returns None; anywhere else it returns the text."""

from __future__ import annotations

import numpy as np

from ...errors import printable
from . import Settings


# ------------------------------------------------------------ trace
def trace(result, settings: Settings) -> str | None:
    """The trace table (a block per node where a terminal is too narrow), then --explain's lines."""
    from ..tables import RICH_ROWS, plain_table, print_trace

    lines = None
    if settings.options.get("explain"):
        from ..explain import explain_lines  # only --explain pays for it

        lines = explain_lines(result, settings.full)
    if settings.terminal and len(result.rows) <= RICH_ROWS:  # rich (and its ~40 ms) only for a terminal
        print_trace(result, settings.full, lines)
        return None
    text = plain_table(result, settings.full, width=40 if settings.terminal else None)
    return text + "\n".join(map(printable, lines)) if lines else text


# ------------------------------------------------------------ gradcheck
def gradcheck(result, settings: Settings) -> str | None:
    """One file: its table, findings and verdict line (--quiet: the verdict line). Several files: the
    summary (each file's line was shown as it was checked: gradcheck_file)."""
    from ..gradcheck_report import print_report, report_text, verdict_line

    if not result.single:
        statuses = [f.status for f in result.files]
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("pass", "kink", "fail", "error") if statuses.count(s))
        lines = [] if settings.options.get("streamed") else [gradcheck_file(f, settings) for f in result.files]
        return "\n".join([*lines, f"{len(result.files)} files: {counts}", *_score(result.score, settings)])
    checked = result.files[0]
    if checked.report is None or settings.quiet:
        return gradcheck_file(checked, settings)
    if settings.terminal:
        print_report(checked.path, checked.report)
        return "\n".join(_score(checked.score, settings)) or None
    text = report_text(checked.report) + "\n" + verdict_line(checked.path, checked.report)
    return "\n".join([text, *_score(checked.score, settings)])


def _score(score, settings: Settings) -> list[str]:
    """Where the graph file gives points: each part's points, then the score (the same as every format's)."""
    from ..score_text import part_title, score_line

    if score is None or not score.declared:
        return []
    return [printable(f"  {part_title(p)}") for p in score.parts] + [score_line(score)]


def gradcheck_file(checked, settings: Settings) -> str:
    """One file's line: `PASS  path  3 leaves, max rel error ...`, or `ERROR  path  the error`."""
    from ..gradcheck_report import verdict_line

    if checked.report is None:
        return printable(f"ERROR  {checked.path}  {checked.failure.line}")
    return printable(verdict_line(checked.path, checked.report))


# ------------------------------------------------------------ grade (gradcheck --answers)
def grade(result, settings: Settings) -> str:
    """A student's answers, a line each (--quiet: the points); a class: the graded CSV, a row per student."""
    from ..grade_report import grade_lines, graded_csv, summary_line

    if not result.single:
        return graded_csv(result.grades)
    ((student, graded),) = result.grades.items()
    if settings.quiet or isinstance(graded, str):
        return printable(summary_line(result.graph, student, graded))
    return "\n".join(grade_lines(result.graph, graded))


# ------------------------------------------------------------ jacobian and hessian
def jacobian(result, settings: Settings) -> str:
    from ..matrices import jacobian_lines

    return "\n".join(jacobian_lines(result, settings.full, settings.width))  # on a terminal: fitted to its width


def hessian(result, settings: Settings) -> str:
    from ..matrices import hessian_lines

    return "\n".join(hessian_lines(result, settings.full, settings.width))


def derivatives(result, settings: Settings) -> str:
    from ..derivatives_report import derivatives_lines

    lines = derivatives_lines(result, settings.options.get("source", settings.graph.source), settings.width)
    return "\n".join(printable(line) for line in lines)


# ------------------------------------------------------------ train
def hyper_text(hyper: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in hyper.items())


def train(result, settings: Settings) -> str | None:
    """One line per run: the loss before and after, and the trained params when they are small; a diverged run
    says where, from which loss, and what trains instead. --quiet: nothing."""
    from ...numbers import number, summary

    if settings.quiet:
        return None
    graph, lines = result.graph, []
    for k, run in enumerate(result.runs):
        head = f"{run.optimizer} ({hyper_text(run.hyper)}): "
        if not run.finished:
            last = f"{graph.output} {number(run.losses[0])} → {number(run.losses[-1])}, then " if run.losses else ""
            lines.append(head + last + run.diverged_text())
            if k in result.retries:
                lines.append(f"  with a smaller learning rate it trains: {result.retries[k]}")
            continue
        lines.append(head + f"{result.steps} steps, {graph.output} {number(run.losses[0])} → {number(run.final_loss)}")
        small = {p: v for p, v in run.params.items() if np.size(v) <= 4}
        if small:
            lines.append("  " + ", ".join(f"{p} = {summary(v)}" for p, v in small.items()))
    return "\n".join(lines)


# ------------------------------------------------------------ the listings
def examples(result, settings: Settings) -> str:
    """One line per example; on a terminal, each about wrapped under itself (piped: whole, for grep)."""
    import textwrap

    width = max((len(i["name"]) for i in result), default=0)
    columns = None if settings.width is None else settings.width - 1  # short of a terminal's last column
    lines = []
    for item in result:
        about = printable(item["about"])
        if columns is None or width + 2 + len(about) <= columns:
            lines.append(f"{item['name']:<{width}}  {about}")
            continue
        wrapped = textwrap.wrap(about, max(20, columns - width - 2), break_on_hyphens=False)
        lines.append(f"{item['name']:<{width}}  {wrapped[0]}")
        lines += [f"{'':<{width}}  {line}" for line in wrapped[1:]]
    return "\n".join(lines)


def example(result, settings: Settings) -> str:
    """One example's graph file, as it is (backprop examples circuit > mine.yaml)."""
    return result


COLUMNS = ("op", "formula", "gate", "what the gate does to the gradient", "keywords")


def op_texts(rows: list[dict]) -> list[list[str]]:
    """The cells of the op table: op, formula (with the operands' domains), gate, meaning, keywords."""
    from ...ops.table import DOMAINS

    texts = []
    for r in rows:
        kw = ", ".join(f"{k}={v}" for k, v in r["keywords"].items())
        limits = [f"operand {i + 1}: {DOMAINS[d]}" for i, d in enumerate(r["domain"]) if d != "real"]
        texts.append([r["op"], r["formula"] + "".join(f"\n({text})" for text in limits), r["gate"], r["meaning"], kw])
    return texts


def ops(result, settings: Settings) -> str | None:
    """The op table; on a narrow terminal two cells stacked per column, or a block per op."""
    from rich.table import Table

    from ..terminal import cell, console, plain_table, print_table

    texts = op_texts(result)
    table = Table(title="backprop ops", title_justify="left")
    for col in COLUMNS:
        table.add_column(col)
    for row in texts:
        table.add_row(*map(cell, row))
    if not settings.terminal:
        return plain_table(table)
    stacked = Table(title="backprop ops", title_justify="left", show_lines=True)
    for col in ("op\nformula", "gate\nwhat the gate does to the gradient", "keywords"):
        stacked.add_column(col)
    for op, formula, gate, meaning, kw in texts:
        stacked.add_row(cell(f"{op}\n{formula}"), cell(f"{gate}\n{meaning}"), cell(kw))
    blocks = [(f"{op}   {formula}", list(zip(COLUMNS[2:], rest, strict=True))) for op, formula, *rest in texts]
    print_table(console(), table, blocks, [stacked])
    return None
