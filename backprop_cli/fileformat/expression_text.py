"""Expression trees (fileformat/expressions.py) back to text: the `expr` column, the index brackets, keyword values."""

from __future__ import annotations

from .expressions import BINARY, COMPARE, LOGICAL, SUBSCRIPT, Call, Expr, Name, Num
from .literals import Lit, Range

SYMBOLS = {op: symbol for symbol, op in {**BINARY, **COMPARE, **LOGICAL}.items()}  # op -> its infix symbol
# how tightly each infix op binds, loosest first, as the grammar of expressions.py reads them
PRECEDENCE = {**dict.fromkeys(COMPARE.values(), 1), "logical_or": 2, "logical_and": 3}
PRECEDENCE |= {"add": 4, "sub": 4, "mul": 5, "div": 5, "matmul": 5, "neg": 6, "logical_not": 6, "pow": 7}
PRECEDENCE[SUBSCRIPT] = 8


def render(tree: Expr, names: dict[int, str] | None = None) -> str:
    """Expression text of a tree (for the `expr` column); iterative so deep trees print too."""
    out: list[str] = []
    stack: list[object] = [(tree, 0)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        node, outer = item
        if isinstance(node, Num):
            out.append(f"{node.value:g}" if node.value >= 0 or outer == 0 else f"({node.value:g})")
        elif isinstance(node, Name):
            out.append(node.id)
        elif isinstance(node, Lit):
            out.append(literal_text(node.value, node.mask))
        elif isinstance(node, Range):
            out.append(range_text(node.bounds))
        elif is_subscript(node):
            texts = [render(a) for a in node.args[1:]]  # index operands: short, rendered on their own
            parts = [(node.args[0], PRECEDENCE[SUBSCRIPT]), f"[{subscript_text(node.kwargs[0][1], texts)}]"]
            stack.extend(reversed(parts))
        elif node.func in PRECEDENCE and (
            node.func in ("neg", "logical_not") or (len(node.args) == 2 and not node.kwargs)
        ):
            mine = PRECEDENCE[node.func]
            parts: list[object] = []
            if node.func in ("neg", "logical_not"):
                parts = ["-" if node.func == "neg" else "~", (node.args[0], mine)]
            else:
                chained = node.func in COMPARE.values()  # a comparison's operands never chain: (a < b) < c
                left_p, right_p = (mine + 1, mine) if node.func == "pow" else (mine + chained, mine + 1)
                parts = [(node.args[0], left_p), f" {SYMBOLS[node.func]} ", (node.args[1], right_p)]
            if mine < outer:
                parts = ["(", *parts, ")"]
            stack.extend(reversed(parts))
        else:
            parts = [f"{node.func}("]
            for k, arg in enumerate(node.args):
                parts += [", "] if k else []
                parts.append((arg, 0))
            for key, value in node.kwargs:
                parts.append(f", {key}={value_text(value)}" if node.args else f"{key}={value_text(value)}")
            parts.append(")")
            stack.extend(reversed(parts))
    return "".join(out)


def value_text(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def literal_text(value: tuple, mask: bool = False) -> str:
    """A tensor literal as written: [1, 2.5], [[true, false]]."""
    if not isinstance(value, tuple):
        return ("true" if value else "false") if mask else f"{value:g}"
    return "[" + ", ".join(literal_text(v, mask) for v in value) + "]"


def range_text(bounds: tuple) -> str:
    shown = [f"len({b})" if isinstance(b, str) else str(b) for b in bounds]
    return f"range({', '.join(shown[:2] if shown[2] == '1' else shown)})"


def is_subscript(call: Call) -> bool:
    return call.func == SUBSCRIPT and len(call.args) >= 1 and [k for k, _ in call.kwargs] == ["at"]


def subscript_text(at: object, operands: list[str] | tuple = ()) -> str:
    """The `at` of an index as written between brackets: 0, -1, 1:3, ::2, and the index operands in their places."""
    if not isinstance(at, list):
        return value_text(at)
    fill = iter(operands)

    def item(v: object) -> str:
        if v in ("array", "mask"):
            return next(fill, str(v))
        if isinstance(v, list) and len(v) == 3:
            start, stop, step = ("" if p is None else value_text(p) for p in v)
            return f"{start}:{stop}" + (f":{step}" if step else "")
        return value_text(v)

    return ", ".join(item(v) for v in at)
