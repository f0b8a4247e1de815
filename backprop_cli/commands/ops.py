"""`backprop ops`: the op table."""

from __future__ import annotations

import click

from .options import epilog, reports_errors
from .output_options import output_options


@click.command(epilog=epilog("ops"))
@output_options("ops")
@reports_errors
def ops(output) -> None:
    """List every op with its formula and gate kind."""
    output.check()
    output.show(op_rows())


def op_rows() -> list[dict]:
    """The op table as data: one row per op (the JSON's "ops")."""
    from ..ops import OPS

    return [
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


command = ops
