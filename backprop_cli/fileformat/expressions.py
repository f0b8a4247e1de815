"""Infix expressions of node definitions, parsed (never evaluated as Python).

Grammar, loosest binding first (as in Python):
    expr   := binary ['if' binary 'else' expr]            a if c else b: the op where(c, a, b)
    binary := unary (OP binary)*  by precedence, loosest first: comparisons (< > <= >= == !=, which do not
              chain), | and & (masks: logical_or, logical_and), + -, * / @
    unary  := '-' unary | '~' unary | power
    power  := postfix ('**' unary)?
    postfix:= atom ('[' item (',' item)* ']')*           NumPy's indexing: the op `index`
    item   := WHOLE | [WHOLE] ':' [WHOLE] [':' [WHOLE]] | range(BOUND, ...) | expr (an index array or mask)
    atom   := NUMBER | NAME | NAME '(' args ')' | '(' expr ')' | LITERAL
    LITERAL:= '[' ... ']' nested lists of numbers (or of true/false: a mask), data (literals.py)
    args   := [arg (',' arg)*]   arg := expr | NAME '=' value
    value  := ['-'] NUMBER | true | false | none | '[' [value (',' value)*] ']'

As in Python, '&' and '|' bind tighter than comparisons: (x > 0) & (x < 1) needs its parentheses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..errors import GraphFileError
from .literals import Lit, Range, read_literal, read_range, read_value, whole_number
from .slips import explain_character, leftover

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


Expr = Num | Name | Call | Lit | Range

BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul", "**": "pow"}
COMPARE = {">": "greater", "<": "less", ">=": "greater_equal", "<=": "less_equal", "==": "equal", "!=": "not_equal"}
LOGICAL = {"&": "logical_and", "|": "logical_or"}
BINDING = {**dict.fromkeys(COMPARE, 1), "|": 2, "&": 3, "+": 4, "-": 4, "*": 5, "/": 5, "@": 5}  # Python's order
SUBSCRIPT = "index"  # x[0, 1:3] is index(x, at=[0, [1, 3, none]]): per axis a whole number or [start, stop, step]
MODULES = ("np", "numpy", "jnp", "torch", "tf")  # np.exp(x) is exp(x) here
ARRAY = "array"  # x[y] is index(x, y, at=[array]): an index operand (whole numbers, or a mask the builder names)

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<name>[^\W\d]\w*)
    | (?P<op>\*\*|<=|>=|==|!=|[-+*/@(),=\[\]:<>&|~])
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
            if value in MODULES:  # np.exp(x), torch.arange(n): the names are the same here, without the module
                raise ExpressionSyntaxError(
                    f"'{value}.' is not needed: ops are called without their module, as in exp(x), where(m, a, b), "
                    "and arange(n) or range(n) inside an index",
                    start,
                )
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
    def peek(self, ahead: int = 0) -> tuple[str, str, int]:
        i = self.i + ahead
        return self.tokens[i] if i < len(self.tokens) else self.tokens[-1]

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at_op(self, *values: str) -> bool:
        kind, value, _ = self.peek()
        return kind == "op" and value in values

    def at_word(self, word: str) -> bool:
        return self.peek()[:2] == ("name", word)

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
            raise ExpressionSyntaxError(leftover(self.tokens, self.i, tree.id if isinstance(tree, Name) else None), at)
        return tree

    def expr(self) -> Expr:
        """binary ['if' binary 'else' expr]: Python's conditional expression is the op where."""
        chosen = self.binary()
        if not self.at_word("if"):
            return chosen
        _, _, at = self.take()
        self.nest(at)
        condition = self.binary()
        if not self.at_word("else"):
            kind, value, where = self.peek()
            raise ExpressionSyntaxError(
                f"a conditional needs 'else': write a if condition else b (found {value or 'the end'!r})", where
            )
        self.take()
        otherwise = self.expr()
        self.depth -= 1
        return Call("where", (condition, chosen, otherwise), (), at)

    def binary(self, floor: int = 1) -> Expr:
        """Infix operators by precedence climbing: one loop for every level (a level costs no Python frames, so
        the nesting limit holds for parentheses); comparisons do not chain, && and || are another language's."""
        left = self.unary()
        while True:
            kind, op, at = self.peek()
            level = BINDING.get(op, 0) if kind == "op" else 0
            if level < floor:
                return left
            self.take()
            if op in LOGICAL and self.at_op(op):
                raise ExpressionSyntaxError(
                    f"'{op}{op}' is not an operator: to combine masks write {op} (each comparison in "
                    f"parentheses), as in (x > 0) {op} (y > 0)",
                    at,
                )
            right = self.binary(level + 1)
            if op in COMPARE and self.peek()[0] == "op" and self.peek()[1] in COMPARE:
                raise ExpressionSyntaxError(
                    "comparisons do not chain: write each in parentheses, joined by &, as in (a < b) & (b < c)",
                    self.peek()[2],
                )
            left = Call({**BINARY, **COMPARE, **LOGICAL}[op], (left, right), (), at)

    def unary(self) -> Expr:
        kind, value, at = self.peek()
        if kind == "op" and value in ("-", "~"):
            self.take()
            self.nest(at)
            operand = self.unary()
            self.depth -= 1
            if value == "-" and isinstance(operand, Num):
                return Num(-operand.value, at)
            return Call("neg" if value == "-" else "logical_not", (operand,), (), at)
        if value == "+" and kind == "op":
            raise ExpressionSyntaxError("unary '+' is not supported", at)
        return self.power()

    def power(self) -> Expr:
        base = self.atom()
        while self.at_op("["):
            base = self.subscript(base)
        if self.at_op("**"):
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
            if self.at_op("("):
                return self.call(value, at)
            return Name(value, at)
        if value == "(":
            self.nest(at)
            inner = self.expr()
            self.expect(")", at)
            self.depth -= 1
            return inner
        if value == "[":
            self.i -= 1
            return self.literal()
        if kind == "end" and self.i > 1:
            last = self.tokens[self.i - 2][1]
            raise ExpressionSyntaxError(f"expected a number, a name or '(' after {last!r}, but the expression ends", at)
        if value == "/" and self.i > 1 and self.tokens[self.i - 2][1] == "/":
            raise ExpressionSyntaxError("'//' (floor division) is not an op: write / for a quotient", at - 1)
        if kind == "op" and value in ("&", "|", "<", ">"):
            raise ExpressionSyntaxError(explain_character(value), at)
        if value in ("*", "**") and self.i > 1 and self.tokens[self.i - 2][1] in ("*", "**"):
            raise ExpressionSyntaxError(f"{value!r} after another operator: one operator between two operands", at)
        raise ExpressionSyntaxError(f"expected a number, a name or '(' but found {value or 'the end'!r}", at)

    def literal(self) -> Lit:
        """A tensor literal, read as data (fileformat/literals.py)."""
        try:
            lit, self.i = read_literal(self.tokens, self.i)
        except ValueError as err:
            message, offset = err.args
            raise ExpressionSyntaxError(message, offset) from None
        return lit

    def subscript(self, base: Expr) -> Call:
        """base[i, j:k:s, y, [0, 2], range(n)]: whole numbers and slices are checked against the shape at load
        time; any other item is an index operand (an array of whole numbers, or a mask)."""
        _, _, at = self.take()
        items: list[object] = []
        arrays: list[Expr] = []
        while True:
            item = self.subscript_item()
            if isinstance(item, (Num, Name, Call, Lit, Range)):
                arrays.append(item)
                item = ARRAY
            items.append(item)
            if not self.at_op(","):
                break
            self.take()
        self.expect("]", at)
        return Call(SUBSCRIPT, (base, *arrays), (("at", items),), at)

    def subscript_item(self) -> object:
        kind, value, at = self.peek()
        listed = self.at_word("list") and self.peek(1)[1] == "(" and self.peek(2)[1] == "range"  # d2l's list(range(n))
        if listed or (self.at_word("range") or self.at_word("arange")) and self.peek(1)[1] == "(":
            self.i += 2 if listed else 0
            try:
                found, self.i = read_range(self.tokens, self.i)
            except ValueError as err:
                raise ExpressionSyntaxError(*err.args) from None
            if listed:
                self.expect(")", at + 4)
            return found
        whole_next = kind == "num" or (value == "-" and self.peek(1)[0] == "num")
        ends = self.peek(2 if value == "-" else 1)[1] in (":", ",", "]") or self.peek(1)[0] == "end"
        if not (value == ":" or (whole_next and ends)) and kind != "end" and value not in (",", "]"):
            self.nest(at)
            array = self.expr()
            self.depth -= 1
            if self.at_op(":"):
                raise ExpressionSyntaxError(
                    "a slice's start, stop and step are whole numbers written out (like 1:3)", self.peek()[2]
                )
            return array
        parts: list[int | None] = [self.whole()]
        while self.at_op(":") and len(parts) < 3:
            self.take()
            parts.append(self.whole())
        if self.at_op(":"):
            raise ExpressionSyntaxError("a slice has at most three parts, start:stop:step", self.peek()[2])
        if len(parts) > 1 and self.peek()[1] not in (",", "]", ""):
            raise ExpressionSyntaxError(
                "a slice's start, stop and step are whole numbers written out (like 1:3)", self.peek()[2]
            )
        if len(parts) == 1:
            if parts[0] is None:
                kind, value, at = self.peek()
                raise ExpressionSyntaxError(
                    "expected an index (a whole number like 0 or -1, a slice like 1:3, or an array of whole "
                    f"numbers or a mask) but found {value or 'the end'!r}",
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
        number = whole_number(value) if kind == "num" else None
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
        while not self.at_op(")"):
            kind, value, arg_at = self.peek()
            if kind == "name" and self.peek(1)[1] == "=":
                self.i += 2
                if value in kwargs:
                    raise ExpressionSyntaxError(f"keyword argument {value!r} given twice", arg_at)
                try:
                    kwargs[value], self.i = read_value(self.tokens, self.i)
                except ValueError as err:
                    raise ExpressionSyntaxError(*err.args) from None
            elif kwargs:
                raise ExpressionSyntaxError("positional argument after a keyword argument", arg_at)
            else:
                args.append(self.expr())
            if not self.at_op(","):
                break
            self.take()
        self.expect(")", opened)
        self.depth -= 1
        return Call(func, tuple(args), tuple(kwargs.items()), at)


def parse_expression(text: str) -> Expr:
    """Parse one node expression. Raises ExpressionSyntaxError with the offset of the problem."""
    if not text.strip():
        raise ExpressionSyntaxError("empty expression", 0)
    return _Parser(text).parse()
