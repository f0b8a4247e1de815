"""One problem, a version for every student (issue 25): which numbers a student's sheet gets, and whether a
draw keeps what the problem is about.

A version is drawn from a seed: HMAC-SHA256, keyed with the course secret, of the graph's name and the
student's identifier, so the same student always gets the same version and nobody without the secret can
work out another student's from their own. Without a student, the file's `seed:` (0 when absent) draws the
version every command uses, so the file stays an ordinary graph.

A draw is accepted when every `require:` condition holds (all elements of it: `h1 == 0`, `abs(q) >= 1`,
`grad(x) < 0`) and no gate's operands lie within `kink_margin` of a kink (a ReLU at 0, a max tie), by the op
table's `Kinks.distance`. Conditions are parsed by the expression parser and evaluated by walking the tree
with the op table's forward functions: never eval'ed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field, replace

import numpy as np

from ..arguments import not_in_graph
from ..engines.evaluate import evaluate, operands
from ..engines.reverse_mode import reverse_mode
from ..errors import EvaluationError, GraphFileError, Position, UsageError, suggest
from ..graph import Graph
from ..ops import OPS
from .expansion import TWO_OPERAND, offset_position
from .expressions import Call, ExpressionSyntaxError, Name, Num, parse_expression
from .literals import Lit
from .ranges import RangeLeaf
from .yaml_source import Located

MAX_DRAWS = 2000  # draws tried before the ranges are declared unable to meet the conditions
COUNTED_DRAWS = 1000  # then draws whose conditions are all evaluated, to say which one fails
KINK_MARGIN = 0.05  # no operand of a piecewise gate this close to its kink (unless the file says otherwise)
GRADIENT = "grad"  # grad(x): d output / d x, as trace and the docs name it
WHOLE = {"any": np.any, "all": np.all}  # a condition on some element rather than on every one
VERSION_TAG = b"backprop-version-1"  # changes every version when the derivation changes
BLANKS = {"gradients": ("gradients",), "values": ("values",), "both": ("values", "gradients")}  # what a sheet asks


@dataclass(frozen=True)
class Condition:
    text: str
    tree: object
    where: Position
    gradients: bool  # whether it reads a gradient (reverse mode runs only then)


@dataclass(frozen=True)
class Variants:
    """What the graph file says about its versions: the drawn leaves, the conditions, the kink margin."""

    ranges: dict[str, RangeLeaf]
    conditions: tuple[Condition, ...] = ()
    kink_margin: float | None = KINK_MARGIN
    where: Position | None = None  # the require: block, or the first drawn leaf
    tried: dict[str, int] = field(default_factory=dict, compare=False)


# ------------------------------------------------------------ reading require: and kink_margin:
def read_require(block: Located, names: dict[str, object]) -> tuple[Condition, ...]:
    if not isinstance(block.value, list):
        raise GraphFileError('require is a list of conditions, like ["h1 == 0", "grad(x) < 0"]', block.where)
    conditions = []
    for item in block.value:
        if not isinstance(item.value, str):
            raise GraphFileError('a condition is an expression in quotes, like "abs(q) >= 1"', item.where)
        try:
            tree = parse_expression(item.value)
        except ExpressionSyntaxError as err:
            raise GraphFileError(f"require: {err.message}", offset_position(item.where, err.offset)) from None
        uses = _check_tree(tree, names, item)
        conditions.append(Condition(item.value, tree, item.where, uses))
    return tuple(conditions)


def _check_tree(tree: object, names: dict[str, object], item: Located) -> bool:
    """Every name is a leaf or node of the graph and every call an op, grad, any or all; whether it reads
    a gradient."""
    gradients, stack = False, [tree]
    while stack:
        node = stack.pop()
        where = offset_position(item.where, getattr(node, "at", 0))
        if isinstance(node, Name) and node.id not in names:
            known = [n for n in names if "." not in n]
            raise GraphFileError(f"require: {not_in_graph(node.id, 'leaf or node', known)}", where)
        if isinstance(node, Call):
            if node.func == GRADIENT:
                if len(node.args) != 1 or not isinstance(node.args[0], Name) or node.kwargs:
                    raise GraphFileError("require: grad takes one name, as in grad(x)", where)
                gradients = True
            elif node.func not in OPS and node.func not in WHOLE and node.func not in TWO_OPERAND:
                raise GraphFileError(
                    f"require: unknown function {node.func!r}{suggest(node.func, [*OPS, *WHOLE, GRADIENT])}", where
                )
            stack.extend(node.args)
        elif not isinstance(node, (Name, Num, Lit, Call)):
            raise GraphFileError("require: ranges and slices have no place in a condition", where)
    return gradients


def read_margin(item: Located) -> float | None:
    value = item.value
    if value is None or value is False:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e15:
        raise GraphFileError("kink_margin is a number ≥ 0 (or false: a kink may stay on the sheet)", item.where)
    return float(value)


# ------------------------------------------------------------ conditions
def _value(node: object, values: dict, gradients: dict) -> np.ndarray:
    if isinstance(node, Num):
        return np.float64(node.value)
    if isinstance(node, Lit):
        return np.asarray(node.value, float)
    if isinstance(node, Name):
        return values[node.id]
    assert isinstance(node, Call)
    if node.func == GRADIENT:
        return gradients[node.args[0].id]
    args = [_value(a, values, gradients) for a in node.args]
    if node.func in WHOLE:
        return np.float64(WHOLE[node.func](np.asarray(args[0]) != 0))
    func = TWO_OPERAND.get(node.func, node.func) if len(args) == 2 else node.func
    op = OPS[func]
    return op.forward(*args, **{**op.attrs, **dict(node.kwargs)})


def holds(condition: Condition, values: dict, gradients: dict) -> bool:
    """Every element of the condition is true (not 0, not NaN); a condition that cannot be evaluated fails."""
    try:
        with np.errstate(all="ignore"):
            result = np.asarray(_value(condition.tree, values, gradients), float)
    except (ArithmeticError, ValueError, TypeError, IndexError):
        return False
    return bool(np.all(np.isfinite(result) & (result != 0)))


def near_kink(graph: Graph, values: dict, margin: float) -> str | None:
    """The first gate with an operand within margin of its kink, or None."""
    for node in graph.gates:
        kinks = node.operation.kinks if node.operation is not None else None
        if kinks is None:
            continue
        with np.errstate(all="ignore"):
            distance = np.asarray(kinks.distance(*operands(node, values, graph.dtype), **node.attrs), float)
        if distance.size and not np.all(distance >= margin):
            return node.name
    return None


# ------------------------------------------------------------ seeds and draws
def student_seed(secret: str, identity: str, student: str) -> int:
    """HMAC-SHA256(secret; tag, graph name, student id) as a 256-bit seed for NumPy's generator."""
    if not secret:
        raise UsageError("a version needs the course secret: give --secret TEXT or set BACKPROP_SECRET")
    message = b"\0".join([VERSION_TAG, identity.encode("utf-8"), student.encode("utf-8")])
    return int.from_bytes(hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest(), "big")


BLOCK = 64  # draws made at once (one call per range instead of one per draw)


def _draws(graph: Graph, rng: np.random.Generator):
    """The drawn leaves' values, one draw after another."""
    ranges = graph.variants.ranges  # type: ignore[attr-defined]
    while True:
        block = {name: leaf.draw(rng, graph.dtype, BLOCK) for name, leaf in ranges.items()}
        for i in range(BLOCK):
            yield {name: values[i] for name, values in block.items()}


def _accepted(graph: Graph, drawn: dict, count: list[int] | None = None) -> bool:
    """Whether a draw keeps the problem: the conditions on values, every kink kink_margin away, then the
    conditions on gradients (reverse mode only then). count: every condition is evaluated and tallied
    (count[-1] the draws that could not be evaluated, count[-2] those beside a kink)."""
    variants: Variants = graph.variants  # type: ignore[assignment]
    try:
        values = evaluate(graph, {**graph.leaf_values, **drawn})
    except EvaluationError:
        if count is not None:
            count[-1] += 1
        return False
    gradients: dict = {}
    ok = True

    def check(conditions) -> bool:
        nonlocal ok
        for i, condition in conditions:
            held = holds(condition, values, gradients)
            ok = ok and held
            if count is None and not ok:
                return False
            if count is not None:
                count[i] += held
        return True

    if not check([(i, c) for i, c in enumerate(variants.conditions) if not c.gradients]):
        return False
    if variants.kink_margin is not None and near_kink(graph, values, variants.kink_margin) is not None:
        if count is None:
            return False
        ok = False
        count[-2] += 1
    later = [(i, c) for i, c in enumerate(variants.conditions) if c.gradients]
    if later:
        try:
            gradients = reverse_mode(graph, values)
        except EvaluationError:
            if count is not None:
                count[-1] += 1
            return False
    return check(later) and ok


def draw_version(graph: Graph, seed: int, who: str = "the file's seed") -> dict[str, np.ndarray]:
    """The drawn leaves' values of the first draw from seed that meets every condition; GraphFileError naming
    how many draws met each condition when MAX_DRAWS draws meet not all of them."""
    variants: Variants = graph.variants  # type: ignore[assignment]
    draws = _draws(graph, np.random.default_rng(seed))
    for _ in range(MAX_DRAWS):
        drawn = next(draws)
        if _accepted(graph, drawn):
            return drawn
    tried = COUNTED_DRAWS
    count = [0] * (len(variants.conditions) + 2)
    for _ in range(tried):
        _accepted(graph, next(draws), count)
    parts = [f"{c.text!r} held in {n} of {tried}" for c, n in zip(variants.conditions, count, strict=False)]
    if variants.kink_margin is not None:
        parts.append(f"{count[-2]} of {tried} had a gate within kink_margin {variants.kink_margin:g} of a kink")
    if count[-1]:
        parts.append(f"{count[-1]} of {tried} could not be evaluated")
    raise GraphFileError(
        f"no draw of the ranges meets every condition ({who}: {MAX_DRAWS:,} draws tried; of {tried} more, "
        f"{'; '.join(parts)}): widen the ranges, loosen the conditions, or lower kink_margin",
        variants.where,
    )


def version(graph: Graph, student: str | None = None, secret: str | None = None) -> Graph:
    """The graph with the drawn leaves of student's version (the file's seed's without a student). A graph
    without drawn leaves is every student's version."""
    variants = graph.variants
    if not isinstance(variants, Variants) or not variants.ranges:
        return graph
    if student is None:
        drawn = draw_version(graph, graph.seed or 0)
    else:
        drawn = draw_version(graph, student_seed(secret or "", graph.name, student), f"student {student!r}")
    return replace(graph, leaf_values={**graph.leaf_values, **drawn})


def asked(graph: Graph, blank: str) -> list[tuple[str, str, str]]:
    """(column, "value" or "gradient", name) for every quantity a sheet with `blank` left empty asks."""
    own = [n for n in graph.nodes.values() if n.is_leaf or not n.generated]
    out = []
    if "values" in BLANKS[blank]:
        out += [(n.name, "value", n.name) for n in own if not n.is_leaf]
    if "gradients" in BLANKS[blank]:
        out += [(f"grad({n.name})", "gradient", n.name) for n in own if n.name != graph.output]
    return out


def attach_variants(graph: Graph, top: dict[str, Located], ranges: dict[str, RangeLeaf], values: dict | None) -> Graph:
    """The graph with its Variants and the leaves of the file's seed's version (then --at's values over them)."""
    conditions: tuple[Condition, ...] = ()
    where = next(iter(ranges.values())).where if ranges else None
    if "require" in top and top["require"].value is not None:
        conditions = read_require(top["require"], graph.nodes)
        where = top["require"].where
    margin = read_margin(top["kink_margin"]) if "kink_margin" in top else KINK_MARGIN
    for key in ("require", "kink_margin"):
        if key in top and not ranges:
            raise GraphFileError(
                f"{key} applies to drawn leaves ({{int: [-5, 5]}}, {{uniform: [-2, 2]}}, {{choice: [1, 2]}}), "
                "and this file has none",
                top[key].where,
            )
    graph = replace(graph, variants=Variants(ranges, conditions, margin, where))
    graph = version(graph)
    if values:
        from ..engines.evaluate import set_leaf_values

        graph = replace(graph, leaf_values=set_leaf_values(graph, values))
    return graph
