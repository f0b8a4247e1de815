"""`backprop ops`: the op table."""

from __future__ import annotations

import click

from .options import epilog, reports_errors

SCHEMA = "backprop.ops"


@click.command(epilog=epilog("ops"))
@click.option("--json", "as_json", is_flag=True, help="One JSON object (schema backprop.ops, version 1): the op table.")
@reports_errors
def ops(as_json: bool) -> None:
    """List every op with its formula and gate kind."""
    from ..ops import OPS

    rows = [
        {
            "op": op.name,
            "operands": op.arity_range[0] if op.variadic else op.arity,
            "variadic": op.variadic,  # takes `operands` or more
            "formula": op.formula,
            "gate": op.gate_kind.role,
            "meaning": op.gate_kind.meaning,
            "keywords": {k: v for k, v in op.attrs.items()},
            "domain": [op.domain_of(i) for i in range(op.arity_range[0] if op.variadic else op.arity)],
            "kinks": op.kinks is not None,
        }
        for op in OPS.values()
    ]
    if as_json:
        from ..outputs.json_document import VERSION
        from ..outputs.json_output import emit_json as write

        write({"schema": SCHEMA, "version": VERSION, "ops": rows})
        return
    from rich.table import Table

    from ..outputs.terminal import cell, console, print_table

    columns = ("op", "formula", "gate", "what the gate does to the gradient", "keywords")
    table = Table(title="backprop ops", title_justify="left")
    for col in columns:
        table.add_column(col)
    from ..ops.table import DOMAINS

    texts = []
    for r in rows:
        kw = ", ".join(f"{k}={v}" for k, v in r["keywords"].items())
        limits = [f"operand {i + 1}: {DOMAINS[d]}" for i, d in enumerate(r["domain"]) if d != "real"]
        formula = r["formula"] + "".join(f"\n({text})" for text in limits)
        texts.append([r["op"], formula, r["gate"], r["meaning"], kw])
        table.add_row(*map(cell, texts[-1]))
    stacked = Table(title="backprop ops", title_justify="left", show_lines=True)
    for col in ("op\nformula", "gate\nwhat the gate does to the gradient", "keywords"):
        stacked.add_column(col)
    for op, formula, gate, meaning, kw in texts:
        stacked.add_row(cell(f"{op}\n{formula}"), cell(f"{gate}\n{meaning}"), cell(kw))
    blocks = [(f"{op}   {formula}", list(zip(columns[2:], rest, strict=True))) for op, formula, *rest in texts]
    print_table(console(), table, blocks, [stacked])


command = ops
