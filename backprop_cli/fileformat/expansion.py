"""One node's expression into gates, one per operation, with stable generated names (f.mul1, f.add2)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import GraphFileError, Position, suggest
from ..graph import Const, Node
from ..ops import Op
from .expression_text import SYMBOLS, range_text, subscript_text, value_text
from .expressions import SUBSCRIPT, Call, Name, Num
from .literals import Lit, check_range, range_values

# calls whose meaning depends on how many operands they get
TWO_OPERAND = {"max": "maximum", "min": "minimum"}
# names other tools use for ops that exist here under another name or as an operator
ALIASES = {
    "ln": "log(x) (the natural logarithm)",
    "log_e": "log(x) (the natural logarithm)",
    "power": "x ** p",
    "dot": "x @ y",
    "mm": "x @ y",
    "multiply": "x * y",
    "mult": "x * y",
    "times": "x * y",
    "divide": "x / y",
    "plus": "x + y",
    "minus": "x - y",
    "subtract": "x - y",
    "sqr": "square(x)",
    "fabs": "abs(x)",
    "absolute": "abs(x)",
    "logistic": "sigmoid(x)",
    "expit": "sigmoid(x)",
    "sigm": "sigmoid(x)",
    "sinus": "sin(x)",
    "relu6": "minimum(relu(x), 6)",
    "ReLU": "relu(x)",
    "Sigmoid": "sigmoid(x)",
    "Tanh": "tanh(x)",
    "amax": "max(x)",
    "amin": "min(x)",
    "average": "mean(x)",
    "avg": "mean(x)",
    "T": "transpose(x)",
    "asin": "arcsin(x)",
    "acos": "arccos(x)",
    "atan": "arctan(x)",
    "asinh": "arcsinh(x)",
    "acosh": "arccosh(x)",
    "atanh": "arctanh(x)",
    "clamp": "clip(x, lo, hi)",
    "detach": "stop_gradient(x)",
    "cat": "concat(a, b, axis=0)",
    "concatenate": "concat(a, b, axis=0)",
    "range": "a literal such as [0, 1, 2]; range(n) goes inside an index, as in p[range(2), y]",
    "arange": "a literal such as [0, 1, 2]; range(n) goes inside an index, as in p[range(2), y]",
    "len": "the number: shapes are fixed when the file is loaded (len(x) works inside range() in an index)",
    "array": "the literal itself: [1, 2, 3] (nested lists of numbers)",
    "tensor": "the literal itself: [1, 2, 3] (nested lists of numbers)",
    "gt": "a > b",
    "lt": "a < b",
    "ge": "a >= b",
    "le": "a <= b",
    "eq": "a == b",
    "ne": "a != b",
    "and": "m & n (masks; each comparison in parentheses)",
    "or": "m | n (masks; each comparison in parentheses)",
    "not": "~m",
    "select": "where(m, a, b)",
    "ifelse": "where(m, a, b), or a if m else b",
}


@dataclass(frozen=True)
class LengthRange:
    """range(...) with a len(name) bound, inside an index: a constant once name's shape is known (builder)."""

    bounds: tuple[int | str, int | str, int | str]
    where: Position

    def resolve(self, lengths: dict[str, int]) -> Const:
        bounds = tuple(lengths.get(b, b) if isinstance(b, str) else b for b in self.bounds)
        try:
            check_range(bounds, self.where)
        except ValueError as err:
            raise GraphFileError(*err.args) from None
        return Const(range_values(bounds))

    def __str__(self) -> str:
        return range_text(self.bounds)


@dataclass
class Pending:
    """A gate whose operand names are not yet checked."""

    node: Node
    operand_at: tuple[Position | None, ...]


def offset_position(where: Position, offset: int) -> Position:
    if where.line is None or where.column is None:
        return where
    return Position(where.file, where.line, where.column + offset)


class Expander:
    """Turns one node's expression into gates, one per operation, with stable generated names."""

    def __init__(self, node_name: str, where: Position, group: str | None, ops: dict[str, Op]) -> None:
        self.ops = ops
        self.node_name = node_name
        self.where = where
        self.group = group
        self.counts: dict[str, int] = {}
        self.gates: list[Pending] = []

    def _name_for(self, op: str, is_root: bool) -> str:
        if is_root:
            return self.node_name
        self.counts[op] = self.counts.get(op, 0) + 1
        return f"{self.node_name}.{op}{self.counts[op]}"

    def _resolve(self, call: Call) -> str:
        func = call.func
        if func in TWO_OPERAND and len(call.args) == 2:
            return TWO_OPERAND[func]
        if func not in self.ops:
            hint = f"; write {ALIASES[func]}" if func in ALIASES else suggest(func, self.ops)
            raise GraphFileError(
                f"unknown op {func!r}{hint} (`backprop ops` lists them)",
                offset_position(self.where, call.at),
            )
        return func

    def expand(self, tree: object) -> None:
        """Post-order walk with an explicit stack (deep expressions need no recursion)."""
        if not isinstance(tree, Call):  # a bare name or number: an identity gate
            tree = Call("identity", (tree,), (), 0)
        results: dict[int, str | Const] = {}
        stack: list[tuple[Call, bool]] = [(tree, False)]
        while stack:
            call, ready = stack.pop()
            if not ready:
                stack.append((call, True))
                stack.extend((a, False) for a in reversed(call.args) if isinstance(a, Call))
                continue
            op_name = self._resolve(call)
            op = self.ops[op_name]
            lo, hi = op.arity_range
            if not lo <= len(call.args) <= hi:
                want = str(hi) if lo == hi else f"{lo} or more (up to {hi})" if op.variadic else f"{lo} to {hi}"
                raise GraphFileError(
                    f"{call.func} takes {want} operand{'s' if hi > 1 else ''}, got {len(call.args)}",
                    offset_position(self.where, call.at),
                )
            attrs = dict(op.attrs)
            for key, value in call.kwargs:
                if key not in op.attrs:
                    accepted = ", ".join(op.attrs) or "none"
                    raise GraphFileError(
                        f"{call.func} takes no keyword argument {key!r}{suggest(key, op.attrs)} (it takes: {accepted})",
                        offset_position(self.where, call.at),
                    )
                _check_attr_type(call.func, key, value, op.attrs[key], offset_position(self.where, call.at))
                attrs[key] = value
            operands: list[str | Const] = []
            operand_at: list[Position | None] = []
            for arg in call.args:  # the most common first: a name, a gate's result, a number
                if isinstance(arg, Name):
                    operands.append(arg.id)
                    operand_at.append(offset_position(self.where, arg.at))
                elif isinstance(arg, Call):
                    operands.append(results.pop(id(arg)))
                    operand_at.append(None)
                elif isinstance(arg, Num):
                    operands.append(Const(arg.value))
                    operand_at.append(None)
                elif isinstance(arg, Lit):
                    operands.append(Const(arg.value, arg.mask))
                    operand_at.append(offset_position(self.where, arg.at))
                else:  # range(...) inside an index: numbers now, or len(name) once name's shape is known
                    at = offset_position(self.where, arg.at)
                    known = all(isinstance(b, int) for b in arg.bounds)
                    operands.append(Const(range_values(arg.bounds)) if known else LengthRange(arg.bounds, at))
                    operand_at.append(at)
            name = self._name_for(op_name, call is tree)
            results[id(call)] = name
            shown = gate_text(call.func, [str(o) for o in operands], call.kwargs)
            node = Node(
                name=name,
                kind="gate",
                shape=(),
                where=offset_position(self.where, call.at),
                op=op_name,
                operation=op,
                inputs=tuple(operands),
                attrs=attrs,
                expr=shown,
                origin=self.node_name,
                group=self.group,
            )
            self.gates.append(Pending(node, tuple(operand_at)))


def _check_attr_type(func: str, key: str, value: object, default: object, where: Position) -> None:
    """A keyword argument takes the kind of value its default has (a default of None: the shape rule checks)."""
    if isinstance(default, bool):
        ok, kind = isinstance(value, bool), "true or false"
    elif isinstance(default, int):
        ok, kind = isinstance(value, int) and not isinstance(value, bool), "a whole number"
    elif isinstance(default, float):
        ok, kind = isinstance(value, (int, float)) and not isinstance(value, bool), "a number"
    elif isinstance(default, str):  # a plugin op's keyword
        ok, kind = isinstance(value, str), "text"
    else:
        return
    if not ok:
        raise GraphFileError(f"{func}: {key} must be {kind}, not {value_text(value)}", where)


def gate_text(func: str, operands: list[str], kwargs: tuple[tuple[str, object], ...]) -> str:
    """One gate in terms of its operands' names: `q * z`, `exp(f.neg1)`, `-f.add2`."""
    if func == "identity":
        return operands[0]
    if func == "neg":
        return f"-{operands[0]}"
    if func == SUBSCRIPT and [k for k, _ in kwargs] == ["at"]:
        return f"{operands[0]}[{subscript_text(kwargs[0][1], operands[1:])}]"
    symbol = SYMBOLS.get(func)
    if symbol and len(operands) == 2 and not kwargs:
        return f"{operands[0]} {symbol} {operands[1]}"
    if func == "logical_not" and len(operands) == 1:
        return f"~{operands[0]}"
    keywords = [f"{k}={value_text(v)}" for k, v in kwargs]
    return f"{func}({', '.join(operands + keywords)})"
