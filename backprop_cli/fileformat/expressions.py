"""Infix expressions of node definitions, parsed (never evaluated as Python).

Grammar, loosest binding first (as in Python):
    expr   := term (('+' | '-') term)*
    term   := unary (('*' | '/' | '@') unary)*
    unary  := '-' unary | power
    power  := postfix ('**' unary)?
    postfix:= atom ('[' item (',' item)* ']')*      NumPy's basic indexing: the op `index`
    item   := WHOLE | [WHOLE] ':' [WHOLE] [':' [WHOLE]]      WHOLE := ['-'] digits
    atom   := NUMBER | NAME | NAME '(' args ')' | '(' expr ')'
    args   := [arg (',' arg)*]   arg := expr | NAME '=' value
    value  := ['-'] NUMBER | true | false | none | '[' [value (',' value)*] ']'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..errors import GraphFileError
from ..ops import OPS
from .slips import explain_character

MAX_LENGTH = 20_000
MAX_NESTING = 100  # each level costs ~5 Python frames of the 1000 allowed


@dataclass(frozen=True)
class Num:
    value: float
    at: int


@dataclass(frozen=True)
class Name:
    id: str
    at: int


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    kwargs: tuple[tuple[str, object], ...]
    at: int


Expr = Num | Name | Call

BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul", "**": "pow"}
SUBSCRIPT = "index"  # x[0, 1:3] is index(x, at=[0, [1, 3, none]]): per axis a whole number or [start, stop, step]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<name>[^\W\d]\w*)
    | (?P<op>\*\*|[-+*/@(),=\[\]:])
    | (?P<bad>\S)
    )""",
    re.VERBOSE,
)


class ExpressionSyntaxError(GraphFileError):
    """Raised with the offset inside the expression; the builder adds the file position."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


_WORD = re.compile(r"\w")


def _combining(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Mc")


def tokenize(text: str) -> list[tuple[str, str, int]]:
    if len(text) > MAX_LENGTH:
        raise ExpressionSyntaxError(f"expression longer than {MAX_LENGTH} characters", 0)
    tokens = []
    pos = 0
    brackets = 0  # depth of [ ]: a ':' is a slice only inside them
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:  # only trailing white space is left
            break
        kind = m.lastgroup
        value = m.group(kind)
        start, end = m.start(kind), m.end()
        if kind == "name":  # combining marks (x̂ is x and U+0302) continue a name: \w does not take them
            while end < len(text) and (_combining(text[end]) or _WORD.match(text[end])):
                end += 1
            value = text[start:end]
        if kind == "bad":
            raise ExpressionSyntaxError(explain_character(value), start)
        if kind == "name" and not value.isidentifier():  # x² reads as one word: \w takes superscript digits
            bad = next(k for k, c in enumerate(value) if not (value[: k + 1]).isidentifier())
            raise ExpressionSyntaxError(explain_character(value[bad]), start + bad)
        brackets += {"[": 1, "]": -1}.get(value, 0) if kind == "op" else 0
        if value == ":" and brackets <= 0:
            raise ExpressionSyntaxError(
                "':' is not part of the expression language outside an index (no lambdas; a slice goes in "
                "brackets, as in v[1:3])",
                start,
            )
        if kind == "name" and end < len(text) and text[end] == "." and not text[end + 1 : end + 2].isdigit():
            raise ExpressionSyntaxError(explain_character("."), end)
        tokens.append((kind, value, start))
        pos = end
    tokens.append(("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    # -- token helpers
    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, value: str, opened: int | None = None) -> None:
        """The closing bracket `value`; at the end of the text, the error points at the one left open."""
        kind, got, at = self.take()
        if got != value:
            if kind == "end" and opened is not None:
                opener = {")": "(", "]": "["}[value]
                raise ExpressionSyntaxError(f"this {opener!r} is never closed: add {value!r}", opened)
            if value == ")" and kind in ("name", "num"):
                raise ExpressionSyntaxError(f"expected ',' or ')' before {got!r}: separate arguments with ','", at)
            raise ExpressionSyntaxError(f"expected {value!r} but found {got or 'the end'!r}", at)

    def nest(self, at: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExpressionSyntaxError(f"expression nested deeper than {MAX_NESTING} levels", at)

    # -- grammar
    def parse(self) -> Expr:
        tree = self.expr()
        kind, value, at = self.peek()
        if kind != "end":
            raise ExpressionSyntaxError(self._leftover(tree), at)
        return tree

    def _leftover(self, tree: Expr) -> str:
        """Why a complete expression is followed by more: the slip and its fix."""
        kind, value, _ = self.peek()
        before = self.tokens[self.i - 1] if self.i else ("end", "", 0)
        if value == "=":
            if self.tokens[self.i + 1][1] == "=":
                return "there are no comparisons ('=='): expressions compute numbers, not true/false"
            return "'=' is not part of an expression: a node is written `name: expression`, as in f: x * 2"
        if value == ")":
            return "this ')' closes nothing: remove it or add the '(' it closes"
        if value == ",":
            return "',' outside a call: separate operands of a call like maximum(x, y)"
        if kind in ("num", "name") or value == "(":
            shown = value if value != "(" else "(...)"
            if before[0] == "num" and kind == "num" and value.startswith("."):
                return f"'{before[1]}{value}' is not a number: a number has one decimal point"
            if before[0] == "num":
                return f"a number is followed by {shown!r}: write {before[1]}*{shown} for a product"
            if before[0] == "name" and value != "(":
                if isinstance(tree, Name) and tree.id in OPS:
                    return f"an op's operand goes in parentheses: write {tree.id}({shown})"
                return f"missing an operator between {before[1]!r} and {shown!r}: write {before[1]} * {shown} for a product"
            return f"missing an operator before {shown!r}: write * for a product, as in (a + b) * {shown}"
        return f"unexpected {value!r}"

    def expr(self) -> Expr:
        left = self.term()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            _, op, at = self.take()
            left = Call(BINARY[op], (left, self.term()), (), at)
        return left

    def term(self) -> Expr:
        left = self.unary()
        while self.peek()[1] in ("*", "/", "@") and self.peek()[0] == "op":
            _, op, at = self.take()
            left = Call(BINARY[op], (left, self.unary()), (), at)
        return left

    def unary(self) -> Expr:
        kind, value, at = self.peek()
        if value == "-" and kind == "op":
            self.take()
            self.nest(at)
            operand = self.unary()
            self.depth -= 1
            if isinstance(operand, Num):
                return Num(-operand.value, at)
            return Call("neg", (operand,), (), at)
        if value == "+" and kind == "op":
            raise ExpressionSyntaxError("unary '+' is not supported", at)
        return self.power()

    def power(self) -> Expr:
        base = self.atom()
        while self.peek()[1] == "[" and self.peek()[0] == "op":
            base = self.subscript(base)
        if self.peek()[1] == "**":
            _, _, at = self.take()
            self.nest(at)
            exponent = self.unary()
            self.depth -= 1
            return Call("pow", (base, exponent), (), at)
        return base

    def atom(self) -> Expr:
        kind, value, at = self.take()
        if kind == "num":
            return Num(float(value), at)
        if kind == "name":
            if self.peek()[1] == "(":
                return self.call(value, at)
            return Name(value, at)
        if value == "(":
            self.nest(at)
            inner = self.expr()
            self.expect(")", at)
            self.depth -= 1
            return inner
        if kind == "end" and self.i > 1:
            last = self.tokens[self.i - 2][1]
            raise ExpressionSyntaxError(f"expected a number, a name or '(' after {last!r}, but the expression ends", at)
        if value == "/" and self.i > 1 and self.tokens[self.i - 2][1] == "/":
            raise ExpressionSyntaxError("'//' (floor division) is not an op: write / for a quotient", at - 1)
        if value in ("*", "**") and self.i > 1 and self.tokens[self.i - 2][1] in ("*", "**"):
            raise ExpressionSyntaxError(f"{value!r} after another operator: one operator between two operands", at)
        raise ExpressionSyntaxError(f"expected a number, a name or '(' but found {value or 'the end'!r}", at)

    def subscript(self, base: Expr) -> Call:
        """base[i, j:k:s]: fixed whole numbers only (the index is checked against the shape at load time)."""
        _, _, at = self.take()
        items: list[object] = []
        while True:
            items.append(self.subscript_item())
            if self.peek()[1] != ",":
                break
            self.take()
        self.expect("]", at)
        return Call(SUBSCRIPT, (base,), (("at", items),), at)

    def subscript_item(self) -> object:
        parts: list[int | None] = [self.whole()]
        while self.peek()[1] == ":" and len(parts) < 3:
            self.take()
            parts.append(self.whole())
        if self.peek()[1] == ":":
            raise ExpressionSyntaxError("a slice has at most three parts, start:stop:step", self.peek()[2])
        if len(parts) == 1:
            if parts[0] is None:
                kind, value, at = self.peek()
                raise ExpressionSyntaxError(
                    f"expected an index (a whole number like 0 or -1, or a slice like 1:3) but found {value or 'the end'!r}",
                    at,
                )
            return parts[0]
        return (parts + [None])[:3]

    def whole(self) -> int | None:
        """A whole number, possibly negative, or None where the slice leaves it out."""
        kind, value, at = self.peek()
        sign = 1
        if value == "-" and kind == "op":
            self.take()
            kind, value, at = self.peek()
            sign = -1
        elif kind != "num":
            return None
        number = _number(value) if kind == "num" else None
        if not isinstance(number, int):
            raise ExpressionSyntaxError(
                f"an index must be a whole number written out (like 0, 2 or -1), not {value or 'nothing'!r}", at
            )
        self.take()
        return sign * number

    def call(self, func: str, at: int) -> Call:
        opened = self.peek()[2]
        self.expect("(")
        self.nest(at)
        args: list[Expr] = []
        kwargs: dict[str, object] = {}
        while self.peek()[1] != ")":
            kind, value, arg_at = self.peek()
            if kind == "name" and self.tokens[self.i + 1][1] == "=":
                self.i += 2
                if value in kwargs:
                    raise ExpressionSyntaxError(f"keyword argument {value!r} given twice", arg_at)
                kwargs[value] = self.value()
            elif kwargs:
                raise ExpressionSyntaxError("positional argument after a keyword argument", arg_at)
            else:
                args.append(self.expr())
            if self.peek()[1] != ",":
                break
            self.take()
        self.expect(")", opened)
        self.depth -= 1
        return Call(func, tuple(args), tuple(kwargs.items()), at)

    def value(self) -> object:
        kind, value, at = self.take()
        if value == "-" and self.peek()[0] == "num":
            return -_number(self.take()[1])
        if kind == "num":
            return _number(value)
        if kind == "name" and value.lower() in ("true", "false", "none"):
            return {"true": True, "false": False, "none": None}[value.lower()]
        if value == "[":
            items = []
            while self.peek()[1] != "]":
                items.append(self.value())
                if self.peek()[1] != ",":
                    break
                self.take()
            self.expect("]", at)
            return items
        raise ExpressionSyntaxError(
            f"a keyword argument takes a number, true/false, none or a list of numbers, not {value or 'nothing'!r}", at
        )


def _number(text: str) -> int | float:
    number = float(text)
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def parse_expression(text: str) -> Expr:
    """Parse one node expression. Raises ExpressionSyntaxError with the offset of the problem."""
    if not text.strip():
        raise ExpressionSyntaxError("empty expression", 0)
    return _Parser(text).parse()
