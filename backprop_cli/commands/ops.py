"""`backprop ops`: the op table."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="A JSON list of the op table.")
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
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="backprop ops", title_justify="left")
    for col in ("op", "formula", "gate", "what the gate does to the gradient", "keywords"):
        table.add_column(col)
    from ..ops.table import DOMAINS

    for r in rows:
        kw = ", ".join(f"{k}={v}" for k, v in r["keywords"].items())
        limits = [f"operand {i + 1}: {DOMAINS[d]}" for i, d in enumerate(r["domain"]) if d != "real"]
        formula = r["formula"] + "".join(f"\n({text})" for text in limits)
        table.add_row(r["op"], formula, r["gate"], r["meaning"], kw)
    Console().print(table)


command = ops
