"""Expression trees of generated graphs (tests/generated_graphs.py), and per op the rule that draws one.

A rule is asked for a tensor of some shape and builds an op producing it, asking the builder
(`b.tensor(shape, depth, domain)`) for operands of the shapes the op needs.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hypothesis import strategies as st

from backprop_cli.fileformat.expression_text import SYMBOLS, subscript_text
from backprop_cli.ops import OPS
from backprop_cli.ops.table import VARIADIC

if TYPE_CHECKING:
    from generated_graphs import _Builder

Shape = tuple[int, ...]
MAX_ELEMENTS = 256  # per tensor, so one graph evaluates in milliseconds
NUMBERS = (0.5, 1.5, 2.0, -1.0, 3.0, -0.25)
SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@"}
COMPARE_SYMBOLS = {op: SYMBOLS[op] for op in ("greater", "less", "greater_equal", "less_equal", "equal", "not_equal")}
COMPARE_SYMBOLS |= {"logical_and": "&", "logical_or": "|"}


@functools.cache
def integers(low: int, high: int) -> st.SearchStrategy[int]:
    """st.integers(low, high), built once: a graph takes ~50 draws, and st.integers checks its arguments anew at
    every call (a sixth of the drawing time)."""
    return st.integers(low, high)


# ---------------------------------------------------------------- trees


def literal_text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(literal_text(v) for v in value) + "]"
    return str(value)


def _attr_text(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_attr_text(v) for v in value) + "]"
    return repr(value)


@dataclass(frozen=True)
class Tree:
    """One expression: an op applied to subtrees, a name (a leaf or an earlier node), or a number."""

    op: str  # an op of the table, "name" or "num"
    args: tuple[Tree, ...] = ()
    shape: Shape = ()
    name: str = ""
    number: float = 0.0
    attrs: tuple[tuple[str, object], ...] = ()

    def text(self, shared: dict[int, str] | None = None) -> str:
        """The expression; a subtree in shared (by identity) is written as its node's name."""
        if self.op == "name":
            return self.name
        if self.op == "num":
            return f"({self.number!r})" if self.number < 0 else repr(self.number)
        if self.op == "literal":  # a tensor literal: whole numbers (an index array) or true/false (a mask)
            return literal_text(dict(self.attrs)["value"])
        if self.op == "range":
            return f"range({int(self.number)})"
        args = [shared[id(a)] if shared and id(a) in shared else a.text(shared) for a in self.args]
        if self.op in SYMBOL and not self.attrs:
            return f"({args[0]} {SYMBOL[self.op]} {args[1]})"
        if self.op == "neg":
            return f"(-{args[0]})"
        if self.op == "index":  # NumPy's brackets: x[1, 0:3:2], p[[0, 1], k2], x[[true, false]]
            return f"{args[0]}[{subscript_text(dict(self.attrs)['at'], args[1:])}]"
        if self.op in COMPARE_SYMBOLS and not self.attrs:
            return f"({args[0]} {COMPARE_SYMBOLS[self.op]} {args[1]})"
        if self.op == "logical_not":
            return f"(~{args[0]})"
        words = args + [f"{k}={_attr_text(v)}" for k, v in self.attrs]
        return f"{self.op}({', '.join(words)})"

    def ops(self) -> set[str]:
        found = {self.op} if self.op in OPS else set()
        for a in self.args:
            found |= a.ops()
        return found


def name(shape: Shape, label: str) -> Tree:
    return Tree("name", shape=shape, name=label)


def number(value: float) -> Tree:
    return Tree("num", number=value)


# ---------------------------------------------------------------- which op can produce which shape

UNARY = ["sigmoid", "tanh", "softplus", "relu", "leaky_relu", "elu", "identity", "neg", "exp", "log", "sqrt"]
UNARY += ["abs", "sin", "cos", "sign", "square", "stop_gradient"]
FUNCTIONS = ["tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh"]
FUNCTIONS += ["log1p", "expm1", "log2", "log10", "exp2"]
BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "prelu"]
REDUCE = ["sum", "mean", "max", "min"]
NORMALIZE = ["softmax", "log_softmax"]
LOSSES = ["mse", "cross_entropy", "multiclass_hinge", "hinge", "log_loss"]
IMAGE = ["conv2d", "max_pool2d"]
ARRANGE = ["transpose", "reshape", "index", "concat", "stack"]
MASKS = ["greater", "less", "greater_equal", "less_equal", "equal", "not_equal", "logical_and", "logical_or"]
MASKS += ["logical_not", "where"]
FAMILIES = [UNARY, FUNCTIONS, BINARY, REDUCE, NORMALIZE, ARRANGE, ["matmul", "clip"], LOSSES, IMAGE, MASKS]
# ops with an argument in a domain narrower than the reals (the op table's Op.domain); masks and index
# arrays are made by their own rules
RESTRICTED = [
    name for name, op in OPS.items() if set(op.domain) - {"real", "labels", "sign", "binary", "mask", "indices"}
]
DRAWN = {
    "nonzero": "positive",
    "above_minus_one": "positive",
    "off_poles": "unit",
}  # a domain drawn from inside a narrower one
# ops whose output is positive when their arguments are drawn from the domains below
POSITIVE = ["exp", "softplus", "sigmoid", "sqrt", "identity", "add", "mul", "div", "pow", "maximum", "softmax"]
POSITIVE += REDUCE + ["transpose", "reshape", "max_pool2d", "cosh", "exp2", "stop_gradient"]
POSITIVE += ["index", "concat", "stack", "where"]
PASSES_DOMAIN = ["identity", "stop_gradient"]  # a positive result needs a positive operand
PASSES_POSITIVE = {"add": (0, 1), "mul": (0, 1), "div": (0,), "maximum": (0,)}  # likewise, per operand


def possible(op: str, shape: Shape) -> bool:
    if op in LOSSES:
        return shape == ()
    if op in IMAGE:
        return len(shape) in (3, 4)
    if op in NORMALIZE or op in ("transpose", "concat", "stack"):
        return len(shape) >= 1
    if op in REDUCE:
        return len(shape) < 4 or 1 in shape
    return True


# ---------------------------------------------------------------- one rule per op
# (builder, op, shape, depth, domain) -> a tree of that shape, or None when its operands would be too large


def _unary(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree:
    inner = OPS[op].domain_of(0)
    inner = domain if op in PASSES_DOMAIN else inner
    attrs = []
    if op == "leaky_relu" and not b.chance(3):
        attrs = [("alpha", b.pick([0.1, 0.3, 0.01]))]
    if op == "elu" and not b.chance(3):
        attrs = [("alpha", b.pick([0.5, 2.0, 1.0]))]
    return Tree(op, (b.tensor(shape, depth, inner),), shape, attrs=tuple(attrs))


def _binary(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree:
    sa, sb, attrs = b.broadcast_pair(shape)
    if op == "prelu" and len(shape) >= 2 and b.chance(2):  # one slope per channel (axis 1), as torch's prelu
        sa, sb, attrs = shape, (shape[1],) + (1,) * (len(shape) - 2), []
    if op == "pow" and domain == "real" and b.chance(3):  # a whole power of any base
        return Tree(op, (b.tensor(shape, depth), number(b.pick([2.0, 3.0]))), shape)
    first, second = (
        domain if OPS[op].domain_of(i) == "real" and i in PASSES_POSITIVE.get(op, ()) else OPS[op].domain_of(i)
        for i in (0, 1)
    )
    x = b.operand(sa, depth, first)
    y = b.operand(sb, depth, second, numbers=x.op != "num")
    return Tree(op, (x, y), shape, attrs=tuple(attrs))


def _matmul(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree | None:
    k = b.dim()
    if shape == ():
        sa, sb = (k,), (k,)
    elif len(shape) == 1:
        sa, sb = b.pick([((shape[0], k), (k,)), ((k,), (k, shape[0]))])
    else:
        *batch, n, m = shape
        pairs = [((*batch, n, k), (*batch, k, m))]
        pairs += [((*batch, n, k), (k, m)), ((n, k), (*batch, k, m))] if batch else []
        pairs += [((*shape, k), (k,)), ((k,), (*batch, n, k, m))] if len(shape) < 4 else []  # a vector side
        sa, sb = b.pick(pairs)
    if math.prod(sa) > MAX_ELEMENTS or math.prod(sb) > MAX_ELEMENTS:
        return None
    return Tree(op, (b.tensor(sa, depth), b.tensor(sb, depth)), shape)


def _axis_attr(b: _Builder, axes: list[int], ndim: int) -> object:
    """axes as an int, a negative int, a list, or none for all of them."""
    if len(axes) == ndim and b.chance(2):
        return None
    if len(axes) == 1 and not b.chance(3):
        return axes[0] - ndim if b.chance(2) else axes[0]
    return axes


def _reduction(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree | None:
    ones = [i for i, n in enumerate(shape) if n == 1]
    if ones and (len(shape) == 4 or b.chance(2)):  # keepdims: the reduced axes stay, as 1s
        axes = sorted(set(b.draw(st.lists(st.sampled_from(ones), min_size=1, max_size=len(ones)))))
        x = tuple(b.dim() if i in axes else n for i, n in enumerate(shape))
        attrs = [("axis", _axis_attr(b, axes, len(x))), ("keepdims", True)]
    else:
        ndim = len(shape) + b.draw(integers(1, min(2, 4 - len(shape))))
        axes = sorted(b.draw(st.permutations(range(ndim)))[: ndim - len(shape)])
        kept = iter(shape)
        x = tuple(b.dim() if i in axes else next(kept) for i in range(ndim))
        attrs = [("axis", _axis_attr(b, axes, ndim))] + ([("keepdims", False)] if b.chance(4) else [])
    if math.prod(x) > MAX_ELEMENTS:
        return None
    attrs = [(k, v) for k, v in attrs if not (k == "axis" and v is None and b.chance(2))]  # axis=none is the default
    return Tree(op, (b.tensor(x, depth, domain),), shape, attrs=tuple(attrs))


def _normalize(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree:
    axis = b.draw(integers(-len(shape), len(shape) - 1))
    attrs = [] if axis == -1 and b.chance(2) else [("axis", axis)]
    return Tree(op, (b.tensor(shape, depth),), shape, attrs=tuple(attrs))


def _transpose(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree:
    if b.chance(2):
        return Tree(op, (b.tensor(shape[::-1], depth, domain),), shape)
    axes = list(b.draw(st.permutations(range(len(shape)))))
    x = [0] * len(shape)
    for i, a in enumerate(axes):  # out[i] = x[axes[i]]
        x[a] = shape[i]
    return Tree(op, (b.tensor(tuple(x), depth, domain),), shape, attrs=(("axes", axes),))


def _factors(n: int) -> list[int]:
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


def _reshape(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree:
    """The operand: the same elements in 1 to 3 dimensions, grouped at random."""
    rank = b.draw(integers(1, 3))
    dims = [1] * rank
    for p in b.draw(st.permutations(_factors(math.prod(shape)))):
        dims[b.draw(integers(0, rank - 1))] *= p
    target = list(shape)
    if target and b.chance(3):
        target[b.draw(integers(0, len(target) - 1))] = -1
    return Tree(op, (b.tensor(tuple(dims), depth, domain),), shape, attrs=(("shape", target),))


def _loss(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree:
    if op in ("cross_entropy", "multiclass_hinge"):
        classes = b.pick([3, 2, 4])
        rows = b.pick([(), (b.dim(),)])
        scores = b.tensor((*rows, classes), depth)
        labels = b.leaf(rows, "labels", "input", classes)
        margin = [("margin", b.pick([0.5, 2.0, 1.0]))] if op == "multiclass_hinge" and b.chance(2) else []
        return Tree(op, (scores, labels), (), attrs=tuple(margin))
    x = b.shape(b.draw(integers(0, 2)))
    target = {"mse": None, "hinge": "sign", "log_loss": "binary"}[op]
    second = b.tensor(x, depth) if target is None else b.leaf(x, target, "input")
    return Tree(op, (b.tensor(x, depth), second), ())


def _conv2d(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree | None:
    *batch, filters, oh, ow = shape
    channels, kh, kw = b.pick([1, 2, 3]), b.pick([1, 2, 3]), b.pick([1, 2, 3])
    stride, padding = b.pick([1, 2]), b.pick([0, 1])

    def size(out: int, kernel: int) -> int:
        return (out - 1) * stride + kernel - 2 * padding + b.draw(integers(0, stride - 1))

    if (min(oh, ow) - 1) * stride + min(kh, kw) - 2 * padding < 1:  # the padding would be wider than the image
        padding = 0
    x = (*batch, channels, size(oh, kh), size(ow, kw))
    if math.prod(x) > MAX_ELEMENTS:
        return None
    args = [b.tensor(x, depth), b.tensor((filters, channels, kh, kw), depth)]
    if b.chance(2):
        args.append(b.tensor((filters,), depth))
    attrs = [("stride", stride)] if stride != 1 or b.chance(3) else []
    attrs += [("padding", padding)] if padding or b.chance(3) else []
    return Tree(op, tuple(args), shape, attrs=tuple(attrs))


def _max_pool2d(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree | None:
    *lead, oh, ow = shape
    size = b.pick([2, 1, 3])
    stride = b.pick([None, 1, 2, 3])
    step = size if stride is None else stride

    def extent(out: int) -> int:
        return (out - 1) * step + size + b.draw(integers(0, step - 1))

    x = (*lead, extent(oh), extent(ow))
    if math.prod(x) > MAX_ELEMENTS:
        return None
    attrs = [("size", size)] if size != 2 or b.chance(2) else []
    attrs += [("stride", stride)] if stride is not None or b.chance(3) else []
    return Tree(op, (b.tensor(x, depth, domain),), shape, attrs=tuple(attrs))


def _clip(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree:
    """clip(x, lo, hi): bounds written as numbers (lo < hi), or tensors that broadcast against x (either order)."""
    x = b.tensor(shape, depth)
    if b.chance(3):
        bounds = [shape[b.draw(integers(0, len(shape))) :] for _ in range(2)]
        return Tree(op, (x, b.tensor(bounds[0], depth), b.tensor(bounds[1], depth)), shape)
    return Tree(op, (x, number(b.pick([-1.0, -0.25, 0.5])), number(b.pick([1.5, 2.0, 3.0]))), shape)


def _index(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree | None:
    """x[...] of a larger x: a slice per axis of the result (start, stop, step, negative starts), whole
    numbers (negative ones too) for the axes it drops; trailing full slices sometimes left out."""
    items: list[tuple[object, int]] = []  # (what is written, the operand's size along that axis)
    for n in shape:
        step, start = b.pick([1, 1, 2]), b.pick([0, 0, 1])
        if b.chance(3):
            extra = b.draw(integers(0, step - 1))
            size = start + (n - 1) * step + 1 + extra
            stop = None
        else:
            stop = start + (n - 1) * step + 1
            size = stop + b.pick([0, 1])
        written = [start - size if start and b.chance(2) else (start or None), stop, step if step > 1 else None]
        items.append((written, size))
    for _ in range(b.draw(integers(0 if shape else 1, min(2, 4 - len(shape))))):
        size = b.dim()
        items.insert(b.draw(integers(0, len(items))), (b.draw(integers(-size, size - 1)), size))
    x = tuple(size for _, size in items)
    written = [w for w, _ in items]
    while len(written) > 1 and written[-1] == [None, None, None] and b.chance(2):
        written.pop()  # NumPy: the axes not named are taken whole
    if math.prod(x) > MAX_ELEMENTS or len(x) > 4:
        return None
    return Tree(op, (b.tensor(x, depth, domain),), shape, attrs=(("at", written),))


def _index_arrays(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree | None:
    """x[...] with index operands: whole-number literals (repeats too: the gradient adds up there), a labels
    leaf, range(n), a mask literal; side by side with slices or apart (NumPy puts their axes first then)."""
    if not shape:
        return None
    form = b.pick(["take", "pairs", "range", "mask", "apart"])
    n = b.dim() + 1
    if form == "take":  # x[[2, 0, 2]]: rows picked, some twice
        rows = [int(b.draw(integers(-n, n - 1))) for _ in range(shape[0])]
        x, at, arrays = (n, *shape[1:]), ["array"], [literal(rows)]
    elif form in ("pairs", "range"):  # p[[0, 1], k], p[range(2), k]: one element per row, as d2l picks them
        classes = b.pick([2, 3, 4])
        x = (shape[0], classes, *shape[1:])
        first = Tree("range", number=shape[0]) if form == "range" else literal(list(range(shape[0]))[::-1])
        at, arrays = ["array", "array"], [first, b.leaf((shape[0],), "labels", "input", classes)]
    elif form == "mask":  # x[[true, false, true]]
        picked = [True] * shape[0] + [False] * b.draw(integers(0, 2))
        order = b.draw(st.permutations(picked))
        x, at, arrays = (len(order), *shape[1:]), ["array"], [literal(list(order))]
    else:  # x[[2, 0], :, 1]: the array and the whole number apart, so their axis goes first
        if len(shape) < 2:
            return None
        rows = [int(b.draw(integers(0, 2))) for _ in range(shape[0])]
        x = (3, shape[1], 2, *shape[2:])
        at, arrays = ["array", [None, None, None], b.draw(integers(-2, 1))], [literal(rows)]
    if math.prod(x) > MAX_ELEMENTS or len(x) > 4:
        return None
    return Tree(op, (b.tensor(x, depth, domain), *arrays), shape, attrs=(("at", at),))


def literal(value: list) -> Tree:
    return Tree("literal", attrs=(("value", value),))


def _comparison(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree:
    """a > b and its kin (a mask of 0s and 1s), & and | of two of them, ~ of one."""
    if op == "logical_not":
        return Tree(op, (_comparison(b, b.pick(MASKS[:6]), shape, depth, domain),), shape)
    sa, sb, attrs = b.broadcast_pair(shape)
    if op in ("logical_and", "logical_or"):
        parts = [_comparison(b, b.pick(MASKS[:6]), s, depth, domain) for s in (sa, sb)]
        return Tree(op, tuple(parts), shape, attrs=tuple(attrs))
    x = b.operand(sa, depth, "real")
    return Tree(op, (x, b.operand(sb, depth, "real", numbers=x.op != "num")), shape, attrs=tuple(attrs))


def _where(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree:
    """where(mask, a, b): the mask a comparison (or a 0/1 leaf), the branches of any sign or positive."""
    sm = shape[b.draw(integers(0, len(shape))) :] if shape and b.chance(2) else shape
    sa, sb, _ = b.broadcast_pair(shape)
    mask = b.leaf(sm, "binary", "input") if b.chance(4) else _comparison(b, b.pick(MASKS[:6]), sm, depth, domain)
    flag = all(s not in (shape, ()) for s in (sm, sa, sb))
    first = b.operand(sa, depth, domain)
    branches = (first, b.operand(sb, depth, domain, numbers=first.op != "num"))
    return Tree(op, (mask, *branches), shape, attrs=(("broadcast", True),) if flag else ())


def _indexing(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree | None:
    """Basic indexing (slices and whole numbers) or, one time in three, with index arrays and masks."""
    return (_index_arrays if b.chance(3) else _index)(b, op, shape, depth, domain)


def _join(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree:
    """concat: the axis split into 1 to 3 parts; stack: one operand per element along the new axis."""
    axis = b.draw(integers(-len(shape), len(shape) - 1))
    a = axis % len(shape)
    if op == "stack" and shape[a] > VARIADIC:  # more operands than a stack takes (the loader says so): concat
        op = "concat"
    if op == "stack":
        parts = [shape[:a] + shape[a + 1 :]] * shape[a]
    else:
        cuts = sorted(set(b.draw(st.lists(integers(1, shape[a] - 1), max_size=2)))) if shape[a] > 1 else []
        bounds = [0, *cuts, shape[a]]
        parts = [(*shape[:a], hi - lo, *shape[a + 1 :]) for lo, hi in zip(bounds, bounds[1:], strict=False)]
    attrs = [] if axis == 0 and b.chance(2) else [("axis", axis)]
    return Tree(op, tuple(b.tensor(p, depth, domain) for p in parts), shape, attrs=tuple(attrs))


RULES = {op: _unary for op in UNARY + FUNCTIONS} | {op: _binary for op in BINARY} | {op: _reduction for op in REDUCE}
RULES |= {op: _normalize for op in NORMALIZE} | {op: _loss for op in LOSSES}
RULES |= {"matmul": _matmul, "transpose": _transpose, "reshape": _reshape, "conv2d": _conv2d}
RULES |= {"max_pool2d": _max_pool2d, "clip": _clip, "index": _indexing, "concat": _join, "stack": _join}
RULES |= {op: _comparison for op in MASKS[:-1]} | {"where": _where}
