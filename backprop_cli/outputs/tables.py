"""The trace as a rich table (terminal) or a Markdown table (homework write-ups)."""

from __future__ import annotations

from ..engines.trace import Row, Trace
from ..errors import printable, shortened
from ..numbers import summary
from .terminal import cell, console, print_table


def _kind(row: Row) -> str:
    if row.node.is_leaf:
        return row.node.kind
    return f"{row.node.op} ({row.node.operation.gate_kind.role})"


def _edges(row: Row, full: bool, attr: str) -> str:
    parts = []
    for e in row.edges:
        if not e.is_node:
            continue
        value = getattr(e, attr)
        if attr == "local" and value is None:
            parts.append(f"{e.operand}: {e.local_text}")
        elif value is not None:
            parts.append(f"{e.operand}: {summary(value, full)}")
    return "\n".join(parts)


def columns(trace: Trace) -> list[str]:
    cols = ["node", "op (gate)", "expression", "value"]
    if trace.gradients is not None:
        cols += ["upstream grad", "local grad", "sent to inputs"]
    if trace.tangents is not None:
        cols += [f"tangent (d/d{shortened(trace.wrt, 40)})"]
    return cols


def cells(trace: Trace, row: Row, full: bool) -> list[str]:
    out = [row.node.name, _kind(row), row.node.expr, summary(row.value, full)]
    if trace.gradients is not None:
        out += [summary(row.gradient, full), _edges(row, full, "local"), _edges(row, full, "sent")]
    if trace.tangents is not None:
        out += [summary(row.tangent, full)]
    return out


def title(trace: Trace) -> str:
    g = trace.graph
    text = f"{g.name}: {g.about}" if g.about else g.name
    modes = {
        "reverse": "reverse mode",
        "forward": f"forward mode along {shortened(trace.wrt, 40)}",
        "both": f"reverse mode and forward mode along {shortened(trace.wrt, 40)}",
    }
    return f"{text} — output {g.output}, {modes[trace.mode]}"


def rich_table(trace: Trace, full: bool = False):  # -> rich.table.Table
    from rich.table import Table

    table = Table(title=cell(title(trace)), show_lines=True, title_justify="left")
    for col in columns(trace):
        table.add_column(col, overflow="fold")
    for row in trace.rows:
        table.add_row(
            *(cell(c) for c in cells(trace, row, full)), style="bold" if row.node.name == trace.graph.output else None
        )
    return table


def blocks(trace: Trace, full: bool = False) -> list[tuple[str, list[tuple[str, str]]]]:
    """The table one node at a time, for a terminal too narrow for its columns."""
    out = []
    for row in trace.rows:
        name, kind, expr, *rest = cells(trace, row, full)
        heading = f"{name} = {expr}   {kind}" if expr else f"{name}   {kind}"
        out.append((heading, list(zip(columns(trace)[3:], rest, strict=True))))
    return out


def print_trace(trace: Trace, full: bool = False, explain: list[str] | None = None) -> None:
    """The trace on stdout: the table (or a block per node where it cannot fit), then the explanation."""
    con = console()
    print_table(con, rich_table(trace, full), blocks(trace, full))
    if explain:
        con.print(cell("\n".join(explain)), soft_wrap=True)


RICH_ROWS = 2000  # beyond this many rows rich's layout takes minutes; plain columns take seconds


def plain_table(trace: Trace, full: bool = False, width: int | None = 40) -> str:
    """Fixed-width columns, for files and pipes and for very large graphs (a 100,000-node chain). Nothing is
    cut: width only caps the alignment (None: none), a longer cell pushes the rest of its line to the right."""
    header = columns(trace)
    rows = [[printable(c.replace("\n", "; ")) for c in cells(trace, row, full)] for row in trace.rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    widths = widths if width is None else [min(width, w) for w in widths]

    def line(items: list[str]) -> str:
        return "  ".join(t.ljust(w) for t, w in zip(items, widths, strict=True)).rstrip()

    return "\n".join([printable(title(trace)), line(header), line(["-" * w for w in widths]), *map(line, rows)]) + "\n"


def markdown(trace: Trace, full: bool = False, explain: list[str] | None = None) -> str:
    def esc(text: str) -> str:
        return printable(text.replace("|", "\\|").replace("\n", "<br>"))

    cols = columns(trace)
    lines = [f"### {esc(title(trace))}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in trace.rows:
        lines.append("| " + " | ".join(esc(c) for c in cells(trace, row, full)) + " |")
    if explain:
        lines += ["", "```text", *explain, "```"]
    return "\n".join(lines) + "\n"
