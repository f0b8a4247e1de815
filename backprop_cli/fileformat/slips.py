"""Slips in graph files, said the way a person would fix them: operators from other languages and
maths in expressions (x^2, &&, ×); in the YAML a tab, an indentation that matches no key, a `{` or `[`
left open (reported where it opened), a key at the wrong level."""

from __future__ import annotations

from ..errors import GraphFileError, Position
from ..numbers import is_number
from ..ops import OPS

# ------------------------------------------------------------ expressions
# characters other languages (and maths) use, and what to write here instead
_SLIPS = {
    "^": "'^' is not a power here: write x ** 2",
    "&": "'&' goes between two masks, as in (x > 0) & (y > 0) (each comparison in parentheses)",
    "|": "'|' goes between two masks, as in (x > 0) | (y > 0); for an absolute value write abs(x)",
    "!": "there is no '!': for 'not' write ~ before a mask, as in ~(x > 0); for 'not equal' write !=",
    "%": "'%' (remainder) is not an op: its gradient is not useful; write the expression with + - * / **",
    "×": "'×' is not an operator: write * for a product (x * y)",
    "·": "'·' is not an operator: write * for a product (x * y) or @ for a matrix product",
    "⋅": "'⋅' is not an operator: write * for a product (x * y) or @ for a matrix product",
    "∗": "'∗' is not an operator: write * for a product (x * y)",
    "÷": "'÷' is not an operator: write / for a quotient (x / y)",
    "−": "'−' (a Unicode minus) is not an operator: write - (the ASCII minus)",
    "–": "'–' (a dash) is not an operator: write - (the ASCII minus)",
    "²": "'²' is not an operator: write x ** 2",
    "³": "'³' is not an operator: write x ** 3",
    "¹": "'¹' is not an operator: write x",
    "√": "'√' is not an operator: write sqrt(x)",
    "<": "'<' goes between two operands, as in x < 1 (a mask); for max(0, x) write relu(x) or maximum(x, 0)",
    ">": "'>' goes between two operands, as in x > 0 (a mask); for max(0, x) write relu(x) or maximum(x, 0)",
    ";": "one expression per node: put the next one on its own line as another node",
    "{": "'{' is not part of an expression: group with ( )",
    "}": "'}' is not part of an expression: group with ( )",
    "$": "'$' is not part of an expression: names are letters, digits and _",
    "#": "'#' starts a YAML comment: it cannot be inside an expression",
}


def explain_character(ch: str) -> str:
    """Why a character cannot be in an expression, and what to write instead."""
    if ch in "\"'":
        return "strings are not allowed in expressions"
    if ch == ".":
        return "attribute access ('.') is not allowed: call an op instead, e.g. transpose(x)"
    if ch in _SLIPS:
        return _SLIPS[ch]
    return f"unexpected character {ch!r}" + ("" if ch.isprintable() else f" (U+{ord(ch):04X}, an invisible character)")


def leftover(tokens: list[tuple[str, str, int]], i: int, name: str | None) -> str:
    """Why a complete expression (a bare name: `name`) is followed by more, at tokens[i]: the slip and its fix."""
    kind, value, _ = tokens[i]
    before = tokens[i - 1] if i else ("end", "", 0)
    after = tokens[min(i + 1, len(tokens) - 1)]
    if value == "=":
        if after[1] in ("<", ">"):
            return f"write {after[1]}= for a comparison (the '=' goes second)"
        return "'=' is not part of an expression: a node is written `name: expression`, as in f: x * 2"
    if value == ")":
        return "this ')' closes nothing: remove it or add the '(' it closes"
    if value == ",":
        return "',' outside a call: separate operands of a call like maximum(x, y)"
    if value in ("<", ">", "<=", ">=", "==", "!="):
        return "comparisons do not chain: write each in parentheses, joined by &, as in (a < b) & (b < c)"
    if name == "not":
        return "'not' is not an operator here: write ~ before a mask, as in ~(x > 0)"
    if kind == "name" and value in ("and", "or", "not"):
        symbol = {"and": "&", "or": "|", "not": "~"}[value]
        return f"'{value}' is not an operator here: write {symbol} between masks, each comparison in parentheses"
    if kind == "name" and value == "else":
        return "'else' without 'if': write a if condition else b"
    if kind in ("num", "name") or value == "(":
        shown = value if value != "(" else "(...)"
        if before[0] == "num" and kind == "num" and value.startswith("."):
            return f"'{before[1]}{value}' is not a number: a number has one decimal point"
        if before[0] == "num":
            return f"a number is followed by {shown!r}: write {before[1]}*{shown} for a product"
        if before[0] == "name" and value != "(":
            if name is not None and name in OPS:
                return f"an op's operand goes in parentheses: write {name}({shown})"
            return f"missing an operator between {before[1]!r} and {shown!r}: write {before[1]} * {shown} for a product"
        return f"missing an operator before {shown!r}: write * for a product, as in (a + b) * {shown}"
    return f"unexpected {value!r}"


# ------------------------------------------------------------ YAML
OPENERS = {"flow mapping": ("{", "}"), "flow sequence": ("[", "]")}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _has_value(line: str) -> bool:
    """`key: value` (not `key:` opening a block below it)."""
    return ":" in line and bool(line.split(":", 1)[1].split(" #", 1)[0].strip())


def _line_above(lines: list[str], index: int) -> int | None:
    """The nearest line above `index` with content (not blank, not only a comment)."""
    for k in range(index - 1, -1, -1):
        if lines[k].strip() and not lines[k].lstrip().startswith("#"):
            return k
    return None


LONGEST_KEY = 1024  # YAML's limit on a plain key (a "simple key")


def _list_then_more(line: str) -> int | None:
    """`key: [1, 2] * x`: where the value's '[' is, when more than a comment follows the list it opens."""
    head = line.split(":", 1)
    if len(head) < 2 or not head[1].startswith(" ") or not head[1].lstrip().startswith("["):
        return None
    start = len(head[0]) + 1 + (len(head[1]) - len(head[1].lstrip()))
    depth = 0
    for k in range(start, len(line)):
        depth += {"[": 1, "]": -1}.get(line[k], 0)
        if depth == 0:
            rest = line[k + 1 :].strip()
            return start if rest and not rest.startswith("#") and not rest.startswith(",") else None
    return None


def yaml_slip(text: str, filename: str, problem: str, mark, context: str | None, context_mark) -> GraphFileError:
    """A YAML syntax error as one line saying what to change, at the place to change it."""
    lines = text.split("\n")
    line = mark.line if mark is not None else 0
    column = mark.column if mark is not None else 0
    here = lines[line] if line < len(lines) else ""
    at = Position(filename, line + 1, column + 1) if mark is not None else Position(filename)

    found = here[column] if column < len(here) else ""
    opened = _list_then_more(here)
    if opened is not None:
        return GraphFileError(
            "a value starting with '[' is a YAML list, and this one goes on after its ']': quote the expression, "
            'as in f: "[1, 2] * x"',
            Position(filename, line + 1, opened + 1),
        )
    if found in "}]" and found and not (context and "flow" in context):
        return GraphFileError(f"this {found!r} closes nothing: remove it", at)
    if "tab" in problem or (column < len(here) and here[column] == "\t") or here[: column + 1].lstrip(" ") == "\t":
        return GraphFileError("a tab: YAML indents with spaces only; replace the tab by spaces", at)
    for what, (opener, closer) in OPENERS.items():
        if context and what in context and context_mark is not None and f"'{closer}'" in problem:
            opened = Position(filename, context_mark.line + 1, context_mark.column + 1)
            if context_mark.line != line or (found and found in "}])"):
                bad = f" (found {found!r} at line {line + 1}, column {column + 1})" if found and found in "}])" else ""
                return GraphFileError(f"this {opener!r} is never closed: end it with {closer!r}{bad}", opened)
            return GraphFileError(f"expected ',' between two entries or {closer!r} to close the {opener!r}", at)
    if "expected ':'" in problem and context_mark is not None and context_mark.line < len(lines):
        text = lines[context_mark.line].strip()
        where = Position(filename, context_mark.line + 1, context_mark.column + 1)
        key = text.split(": ", 1)[0]
        if ": " in text and len(key) > LONGEST_KEY:  # libyaml looks at most this far for a key's ':'
            return GraphFileError(
                f"a key of {len(key):,} characters: YAML reads keys of at most {LONGEST_KEY:,} ({key[:20]!r}…)", where
            )
        if ":" in text:
            return GraphFileError(f"{text!r}: put a space after ':' (write `key: value`)", where)
        above = _line_above(lines, context_mark.line)
        if above is not None and lines[above].rstrip().endswith(":"):
            return GraphFileError(
                f"{text!r} has no ':'; if it is the value of the key above, indent it deeper than that key", where
            )
        return GraphFileError(f"{text!r} has no ':': write `key: value`", where)
    if "mapping values are not allowed" in problem:
        above = _line_above(lines, line)
        if above is not None and _indent(here) > _indent(lines[above]) and _has_value(lines[above]):
            key = lines[above].strip().split(":", 1)[0]
            mine = here.strip().split(":", 1)[0]
            return GraphFileError(
                f"{mine!r} is indented deeper than {key!r} on line {above + 1}, which already has a value: "
                f"start {mine + ':'!r} in the same column as {key + ':'!r}",
                Position(filename, line + 1, _indent(here) + 1),
            )
        return GraphFileError("a second ':' on one line: one key per line (quote the value if ':' belongs in it)", at)
    if "expected key" in problem or "expected <block end>" in problem:
        return GraphFileError(
            f"line {line + 1} is indented by {_indent(here)} space{'s' * (_indent(here) != 1)}, which matches no key "
            "above it: keys of one mapping start in the same column (top-level keys in column 1)",
            Position(filename, line + 1, _indent(here) + 1),
        )
    if "block scalar" in (context or "") and column > 0:
        return GraphFileError(
            "a value cannot start with '|' or '>' (YAML block text); for an absolute value write abs(x)",
            Position(filename, context_mark.line + 1, context_mark.column + 1) if context_mark else at,
        )
    if "cannot start any token" in problem and column < len(here):
        return GraphFileError(
            f"a value cannot start with {here[column]!r}: quote the value, or remove the character", at
        )
    if "quoted scalar" in (context or "") and context_mark is not None:
        opened = Position(filename, context_mark.line + 1, context_mark.column + 1)
        return GraphFileError("this quote is never closed: end the text with the same quote", opened)
    return GraphFileError(f"YAML syntax error: {problem}", at)


# ------------------------------------------------------------ keys at the wrong level
LEAF_KEYS = ("shape", "init", "scale", "value", "file", "data")
NODE_KEYS = ("op", "expr", "group")


def top_level_hint(key: str, value: object, top: dict, close: str = "") -> str:
    """Where an unknown top-level key most likely belongs (`close`: a near spelling of a known key)."""
    if key in LEAF_KEYS:
        return f"; {key}: belongs inside a leaf, as in inputs: {{x: {{{key}: ...}}}}"
    if key in NODE_KEYS:
        return f"; {key}: belongs inside a node, as in nodes: {{f: {{{key}: ...}}}}"
    if close:
        return close
    empty = [section for section in ("inputs", "params", "nodes") if section in top and top[section].value is None]
    if empty:
        return f"; {empty[0]}: above is empty: indent {key!r} under it (two spaces)"
    if isinstance(value, str) and not is_number(value):
        return f"; a node? indent it under nodes:, as in nodes: {{{key}: {value}}}"
    if isinstance(value, (int, float, list)) and not isinstance(value, bool) or isinstance(value, dict):
        return f"; a leaf? indent it under inputs: (values you give) or params: (values to train), as in inputs: {{{key}: ...}}"
    return ""


def misplaced_section(top: dict, missing: str) -> str:
    """A required top-level key missing because it was indented into another section."""
    for section, item in top.items():
        if isinstance(item.value, dict) and missing in item.value:
            where = item.key_where[missing]
            return f"; {missing!r} is indented under {section}: (line {where.line}): move it to column 1"
    return ""
