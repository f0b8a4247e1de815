"""Expression trees (fileformat/expressions.py) back to text: the `expr` column, the index brackets, keyword values."""

from __future__ import annotations

from .expressions import BINARY, SUBSCRIPT, Call, Expr, Name, Num


def render(tree: Expr, names: dict[int, str] | None = None) -> str:
    """Expression text of a tree (for the `expr` column); iterative so deep trees print too."""
    precedence = {"add": 1, "sub": 1, "mul": 2, "div": 2, "matmul": 2, "neg": 3, "pow": 4, SUBSCRIPT: 5}
    symbol = {v: k for k, v in BINARY.items()}
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
        elif is_subscript(node):
            parts = [(node.args[0], precedence[SUBSCRIPT]), f"[{subscript_text(node.kwargs[0][1])}]"]
            stack.extend(reversed(parts))
        elif node.func in precedence and (node.func == "neg" or (len(node.args) == 2 and not node.kwargs)):
            mine = precedence[node.func]
            parts: list[object] = []
            if node.func == "neg":
                parts = ["-", (node.args[0], mine)]
            else:
                left_p, right_p = (mine + 1, mine) if node.func == "pow" else (mine, mine + 1)
                parts = [(node.args[0], left_p), f" {symbol[node.func]} ", (node.args[1], right_p)]
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


def is_subscript(call: Call) -> bool:
    return call.func == SUBSCRIPT and len(call.args) == 1 and [k for k, _ in call.kwargs] == ["at"]


def subscript_text(at: object) -> str:
    """The `at` of an index as written between brackets: 0, -1, 1:3, ::2."""
    if not isinstance(at, list):
        return value_text(at)

    def item(v: object) -> str:
        if isinstance(v, list) and len(v) == 3:
            start, stop, step = ("" if p is None else value_text(p) for p in v)
            return f"{start}:{stop}" + (f":{step}" if step else "")
        return value_text(v)

    return ", ".join(item(v) for v in at)
