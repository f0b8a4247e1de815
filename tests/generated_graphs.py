"""Random graphs over the whole op table: the strategy of tests/test_generated.py and tests/test_torch_differential.py.

A graph is built top-down. Asked for a tensor of some shape, the strategy picks an op that can produce
that shape and asks for operands of the shapes the op needs (matmul's inner size, conv2d's image,
filters and bias, a reduction's extra axes, a transpose's permutation, a reshape's other factoring,
two shapes that broadcast, an index's larger operand), so every graph type-checks by construction.
Arguments are drawn inside the domain the op table declares for them (Op.domain): log, sqrt, a
power's base and a divisor get positive subtrees (exp, softplus, softmax, positive leaves, ...),
arcsin and arctanh subtrees scaled into (-1, 1), arccosh subtrees shifted above 1; losses get
labels, ±1 or 0/1 targets. `reckless=True` drops the domains, for the tests of evaluation errors.

Each graph has one to three named nodes n1, n2, ... (a later one may read an earlier one, and a leaf
may be read twice: forks) and the scalar output f = Σ sum(n_i · g_i), each g_i a random input of
n_i's shape: a random cotangent, so that a node like softmax gets a gradient that tests its rule
(Σ softmax = 1 would hide it).

Seeds: the tests run derandomized (the same examples every run, for CI). Set
BACKPROP_HYPOTHESIS_SEED=<int> to draw other examples, and BACKPROP_HYPOTHESIS_SCALE=<factor> to
multiply every example count (e.g. 20 for a long local run).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st

from backprop_cli.engines.evaluate import all_finite, operands
from backprop_cli.errors import EvaluationError
from backprop_cli.fileformat.expressions import subscript_text
from backprop_cli.ops import OPS

Shape = tuple[int, ...]
MAX_DEPTH = 4  # a leaf is certain at this depth; below the root, the chance of one grows by 20% a level
MAX_ELEMENTS = 256  # per tensor, so one graph evaluates in milliseconds
NUMBERS = (0.5, 1.5, 2.0, -1.0, 3.0, -0.25)
SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@"}

SEED = os.environ.get("BACKPROP_HYPOTHESIS_SEED")  # unset: derandomized, the same examples every run
SCALE = float(os.environ.get("BACKPROP_HYPOTHESIS_SCALE", "1"))


def examples(count: int) -> int:
    """An example count scaled by BACKPROP_HYPOTHESIS_SCALE."""
    return max(1, round(count * SCALE))


def hypothesis_run(count: int):
    """Settings for a @given test: examples(count) valid examples, derandomized unless
    BACKPROP_HYPOTHESIS_SEED is set; a failure prints the blob that reproduces it."""

    def decorate(test):
        test = settings(
            max_examples=examples(count),
            deadline=None,
            derandomize=SEED is None,
            database=None,
            print_blob=True,
            suppress_health_check=list(HealthCheck),
        )(test)
        return test if SEED is None else seed(int(SEED))(test)

    return decorate


def seed_note() -> str:
    """How to draw the same examples again, for failure messages."""
    return "derandomized run" if SEED is None else f"BACKPROP_HYPOTHESIS_SEED={SEED}"


# ---------------------------------------------------------------- trees and graphs


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

    def text(self) -> str:
        if self.op == "name":
            return self.name
        if self.op == "num":
            return f"({self.number!r})" if self.number < 0 else repr(self.number)
        if self.op in SYMBOL and not self.attrs:
            return f"({self.args[0].text()} {SYMBOL[self.op]} {self.args[1].text()})"
        if self.op == "neg":
            return f"(-{self.args[0].text()})"
        if self.op == "index":  # NumPy's brackets: x[1, 0:3:2]
            return f"{self.args[0].text()}[{subscript_text(dict(self.attrs)['at'])}]"
        words = [a.text() for a in self.args] + [f"{k}={_attr_text(v)}" for k, v in self.attrs]
        return f"{self.op}({', '.join(words)})"

    def ops(self) -> set[str]:
        found = {self.op} if self.op in OPS else set()
        for a in self.args:
            found |= a.ops()
        return found


@dataclass(frozen=True)
class Leaf:
    name: str
    kind: str  # "param" or "input"
    domain: str  # real, positive, labels, sign (±1) or binary (0/1)
    value: np.ndarray


@dataclass(frozen=True)
class Generated:
    text: str
    leaves: dict[str, Leaf]
    trees: dict[str, Tree]  # the named nodes in file order; the last one is the output f

    def ops(self) -> set[str]:
        return set().union(*(t.ops() for t in self.trees.values()))

    @property
    def differentiable(self) -> list[str]:
        """Leaves with a derivative (labels have none)."""
        return [name for name, leaf in self.leaves.items() if leaf.domain != "labels"]


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
FAMILIES = [UNARY, FUNCTIONS, BINARY, REDUCE, NORMALIZE, ARRANGE, ["matmul", "clip"], LOSSES, IMAGE]
# ops with an argument in a domain narrower than the reals (the op table's Op.domain)
RESTRICTED = [name for name, op in OPS.items() if set(op.domain) - {"real", "labels", "sign", "binary"}]
DRAWN = {"nonzero": "positive", "above_minus_one": "positive"}  # a domain drawn from inside a narrower one
# ops whose output is positive when their arguments are drawn from the domains below
POSITIVE = ["exp", "softplus", "sigmoid", "sqrt", "identity", "add", "mul", "div", "pow", "maximum", "softmax"]
POSITIVE += REDUCE + ["transpose", "reshape", "max_pool2d", "cosh", "exp2", "stop_gradient"]
POSITIVE += ["index", "concat", "stack"]
PASSES_DOMAIN = ["identity", "stop_gradient"]  # a positive result needs a positive operand
PASSES_POSITIVE = {"add": (0, 1), "mul": (0, 1), "div": (0,), "maximum": (0,)}  # likewise, per operand


def _possible(op: str, shape: Shape) -> bool:
    if op in LOSSES:
        return shape == ()
    if op in IMAGE:
        return len(shape) in (3, 4)
    if op in NORMALIZE or op in ("transpose", "concat", "stack"):
        return len(shape) >= 1
    if op in REDUCE:
        return len(shape) < 4 or 1 in shape
    return True


class _Builder:
    """Draws one graph; remembers its leaves (to read some twice) and its named nodes (to read them later)."""

    def __init__(self, draw, reckless: bool) -> None:
        self.draw = draw
        self.reckless = reckless
        self.rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        self.leaves: dict[str, Leaf] = {}
        self.nodes: dict[str, Shape] = {}

    def pick(self, options: list):
        return self.draw(st.sampled_from(options))

    def chance(self, one_in: int) -> bool:
        return self.draw(st.integers(0, one_in - 1)) == 0

    def dim(self) -> int:
        return self.pick([2, 3, 4, 1])

    # ------------------------------------------------------------ leaves

    def values(self, shape: Shape, domain: str, classes: int = 0) -> np.ndarray:
        if domain == "positive":
            return np.asarray(self.rng.uniform(0.3, 2.5, shape))
        if domain == "unit":
            return np.asarray(self.rng.uniform(-0.9, 0.9, shape))
        if domain == "above_one":
            return np.asarray(self.rng.uniform(1.2, 3.0, shape))
        if domain == "labels":
            return np.asarray(self.rng.integers(0, classes, shape))
        if domain == "sign":
            return np.asarray(self.rng.choice([-1.0, 1.0], shape))
        if domain == "binary":
            return np.asarray(self.rng.choice([0.0, 1.0], shape))
        return np.asarray(self.rng.uniform(-2.0, 2.0, shape))

    def leaf(self, shape: Shape, domain: str = "real", kind: str = "param", classes: int = 0) -> Tree:
        """A new leaf, or now and then one already read elsewhere with the same shape and domain (a fork)."""
        prefix = {"real": "x", "positive": "v", "labels": f"k{classes}_", "sign": "s", "binary": "b", "unit": "u"}.get(
            domain, "a"
        )
        prefix = "g" if kind == "input" and domain == "real" else prefix  # g: the cotangents of the output
        same = [n for n, leaf in self.leaves.items() if leaf.value.shape == shape and n.rstrip("0123456789") == prefix]
        if same and self.chance(3):
            return name(shape, self.pick(same))
        label = f"{prefix}{len(self.leaves) + 1}"
        self.leaves[label] = Leaf(label, kind, domain, self.values(shape, domain, classes))
        return name(shape, label)

    def operand_leaf(self, shape: Shape, domain: str) -> Tree:
        earlier = [n for n, s in self.nodes.items() if s == shape]
        if domain == "real" and earlier and self.chance(2):
            return name(shape, self.pick(earlier))
        return self.leaf(shape, domain)

    # ------------------------------------------------------------ any tensor

    def tensor(self, shape: Shape, depth: int = 0, domain: str = "real") -> Tree:
        """A tree whose value has this shape (and is positive for domain "positive")."""
        domain = "real" if self.reckless else DRAWN.get(domain, domain)
        if domain in ("unit", "above_one"):  # a leaf in the domain, or a real subtree squashed or shifted into it
            if depth >= MAX_DEPTH or self.chance(2):
                return self.operand_leaf(shape, domain)
            if domain == "unit":
                return Tree("mul", (Tree("tanh", (self.tensor(shape, depth + 1),), shape), number(0.9)), shape)
            return Tree("add", (self.tensor(shape, depth + 1, "positive"), number(1.5)), shape)
        allowed = POSITIVE if domain == "positive" else RULES
        if depth >= MAX_DEPTH or (depth and self.draw(st.integers(0, 9)) < 2 * depth):
            return self.operand_leaf(shape, domain)
        kinds = FAMILIES if depth or shape != () else [LOSSES, REDUCE, ["matmul"]]  # a scalar node: from tensors
        kinds = kinds + [RESTRICTED] if self.reckless else kinds
        families = [[op for op in family if _possible(op, shape) and op in allowed] for family in kinds]
        op = self.pick(self.pick([family for family in families if family]))  # rare kinds of op as often as common
        tree = RULES[op](self, op, shape, depth + 1, domain)
        return self.operand_leaf(shape, domain) if tree is None else tree

    def operand(self, shape: Shape, depth: int, domain: str, numbers: bool = True) -> Tree:
        """A tree, or for a scalar operand of an elementwise op sometimes a number written inline."""
        if shape == () and numbers and self.chance(3):
            allowed = [v for v in NUMBERS if v > 0 or domain == "real" or self.reckless]
            return number(self.pick(allowed))
        return self.tensor(shape, depth, domain)

    # ------------------------------------------------------------ shapes

    def shape(self, rank: int) -> Shape:
        return tuple(self.dim() for _ in range(rank))

    def node_shape(self) -> Shape:
        kind = self.pick(["scalar", "tensor", "tensor", "image"])
        if kind == "scalar":
            return ()
        if kind == "tensor":
            shape = self.shape(self.draw(st.integers(1, 3)))
            return shape[:-1] + shape[-2:-1] if len(shape) > 1 and self.chance(3) else shape  # square: (n, n)
        batch = (self.pick([1, 2]),) if self.chance(2) else ()
        return (*batch, self.pick([1, 2, 3]), self.pick([1, 2, 3]), self.pick([1, 2, 3]))

    def broadcast_pair(self, shape: Shape) -> tuple[Shape, Shape, list]:
        """Two operand shapes that broadcast to `shape`, and broadcast=true when both are expanded."""
        form = self.pick(["same", "scalar", "suffix", "ones", "outer"]) if shape else "same"
        a, b = shape, shape
        if form == "scalar":
            b = ()
        elif form == "suffix":  # (3, 4) with (4,)
            b = shape[self.draw(st.integers(1, len(shape) - 1)) :] if len(shape) > 1 else ()
        elif form == "ones":  # (3, 4) with (3, 1)
            ones = self.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1))
            b = tuple(1 if i in ones else n for i, n in enumerate(shape))
        elif form == "outer":  # each axis from one operand: (n, 1) with (m,), or with (n,)
            mine = [self.draw(st.booleans()) for _ in shape[:-2]] + self.pick([[True, False], [False, True]])
            mine = mine[-len(shape) :]
            a = tuple(n if m else 1 for n, m in zip(shape, mine, strict=True))
            b = tuple(1 if m else n for n, m in zip(shape, mine, strict=True))
            b = b[next((i for i, n in enumerate(b) if n != 1), len(b)) :] if self.chance(2) else b
        if self.chance(2):
            a, b = b, a
        expanded = all(s not in (shape, ()) for s in (a, b))
        flag = expanded or self.chance(5)
        return a, b, ([("broadcast", True)] if flag else [])


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
        ndim = len(shape) + b.draw(st.integers(1, min(2, 4 - len(shape))))
        axes = sorted(b.draw(st.permutations(range(ndim)))[: ndim - len(shape)])
        kept = iter(shape)
        x = tuple(b.dim() if i in axes else next(kept) for i in range(ndim))
        attrs = [("axis", _axis_attr(b, axes, ndim))] + ([("keepdims", False)] if b.chance(4) else [])
    if math.prod(x) > MAX_ELEMENTS:
        return None
    attrs = [(k, v) for k, v in attrs if not (k == "axis" and v is None and b.chance(2))]  # axis=none is the default
    return Tree(op, (b.tensor(x, depth, domain),), shape, attrs=tuple(attrs))


def _normalize(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree:
    axis = b.draw(st.integers(-len(shape), len(shape) - 1))
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
    rank = b.draw(st.integers(1, 3))
    dims = [1] * rank
    for p in b.draw(st.permutations(_factors(math.prod(shape)))):
        dims[b.draw(st.integers(0, rank - 1))] *= p
    target = list(shape)
    if target and b.chance(3):
        target[b.draw(st.integers(0, len(target) - 1))] = -1
    return Tree(op, (b.tensor(tuple(dims), depth, domain),), shape, attrs=(("shape", target),))


def _loss(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree:
    if op in ("cross_entropy", "multiclass_hinge"):
        classes = b.pick([3, 2, 4])
        rows = b.pick([(), (b.dim(),)])
        scores = b.tensor((*rows, classes), depth)
        labels = b.leaf(rows, "labels", "input", classes)
        margin = [("margin", b.pick([0.5, 2.0, 1.0]))] if op == "multiclass_hinge" and b.chance(2) else []
        return Tree(op, (scores, labels), (), attrs=tuple(margin))
    x = b.shape(b.draw(st.integers(0, 2)))
    target = {"mse": None, "hinge": "sign", "log_loss": "binary"}[op]
    second = b.tensor(x, depth) if target is None else b.leaf(x, target, "input")
    return Tree(op, (b.tensor(x, depth), second), ())


def _conv2d(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree | None:
    *batch, filters, oh, ow = shape
    channels, kh, kw = b.pick([1, 2, 3]), b.pick([1, 2, 3]), b.pick([1, 2, 3])
    stride, padding = b.pick([1, 2]), b.pick([0, 1])

    def size(out: int, kernel: int) -> int:
        return (out - 1) * stride + kernel - 2 * padding + b.draw(st.integers(0, stride - 1))

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
        return (out - 1) * step + size + b.draw(st.integers(0, step - 1))

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
        bounds = [shape[b.draw(st.integers(0, len(shape))) :] for _ in range(2)]
        return Tree(op, (x, b.tensor(bounds[0], depth), b.tensor(bounds[1], depth)), shape)
    return Tree(op, (x, number(b.pick([-1.0, -0.25, 0.5])), number(b.pick([1.5, 2.0, 3.0]))), shape)


def _index(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree | None:
    """x[...] of a larger x: a slice per axis of the result (start, stop, step, negative starts), whole
    numbers (negative ones too) for the axes it drops; trailing full slices sometimes left out."""
    items: list[tuple[object, int]] = []  # (what is written, the operand's size along that axis)
    for n in shape:
        step, start = b.pick([1, 1, 2]), b.pick([0, 0, 1])
        if b.chance(3):
            extra = b.draw(st.integers(0, step - 1))
            size = start + (n - 1) * step + 1 + extra
            stop = None
        else:
            stop = start + (n - 1) * step + 1
            size = stop + b.pick([0, 1])
        written = [start - size if start and b.chance(2) else (start or None), stop, step if step > 1 else None]
        items.append((written, size))
    for _ in range(b.draw(st.integers(0 if shape else 1, min(2, 4 - len(shape))))):
        size = b.dim()
        items.insert(b.draw(st.integers(0, len(items))), (b.draw(st.integers(-size, size - 1)), size))
    x = tuple(size for _, size in items)
    written = [w for w, _ in items]
    while len(written) > 1 and written[-1] == [None, None, None] and b.chance(2):
        written.pop()  # NumPy: the axes not named are taken whole
    if math.prod(x) > MAX_ELEMENTS or len(x) > 4:
        return None
    return Tree(op, (b.tensor(x, depth, domain),), shape, attrs=(("at", written),))


def _join(b: _Builder, op: str, shape: Shape, depth: int, domain: str) -> Tree:
    """concat: the axis split into 1 to 3 parts; stack: one operand per element along the new axis."""
    axis = b.draw(st.integers(-len(shape), len(shape) - 1))
    a = axis % len(shape)
    if op == "stack":
        parts = [shape[:a] + shape[a + 1 :]] * shape[a]
    else:
        cuts = sorted(set(b.draw(st.lists(st.integers(1, shape[a] - 1), max_size=2)))) if shape[a] > 1 else []
        bounds = [0, *cuts, shape[a]]
        parts = [(*shape[:a], hi - lo, *shape[a + 1 :]) for lo, hi in zip(bounds, bounds[1:], strict=False)]
    attrs = [] if axis == 0 and b.chance(2) else [("axis", axis)]
    return Tree(op, tuple(b.tensor(p, depth, domain) for p in parts), shape, attrs=tuple(attrs))


RULES = {op: _unary for op in UNARY + FUNCTIONS} | {op: _binary for op in BINARY} | {op: _reduction for op in REDUCE}
RULES |= {op: _normalize for op in NORMALIZE} | {op: _loss for op in LOSSES}
RULES |= {"matmul": _matmul, "transpose": _transpose, "reshape": _reshape, "conv2d": _conv2d}
RULES |= {"max_pool2d": _max_pool2d, "clip": _clip, "index": _index, "concat": _join, "stack": _join}


def _yaml_value(value: np.ndarray) -> str:
    return json.dumps(value.tolist())  # floats in repr precision; 1e-05 reads back as a number too


@st.composite
def graphs(draw, reckless: bool = False) -> Generated:
    b = _Builder(draw, reckless)
    trees: dict[str, Tree] = {}
    for i in range(1, draw(st.integers(1, 3)) + 1):
        shape = b.node_shape()
        trees[f"n{i}"] = b.tensor(shape)
        b.nodes[f"n{i}"] = shape
    terms = [Tree("sum", (Tree("mul", (name(s, n), b.leaf(s, "real", "input")), s),)) for n, s in b.nodes.items()]
    f = terms[0]
    for term in terms[1:]:
        f = Tree("add", (f, term))
    trees["f"] = f
    blocks = {
        kind: ", ".join(f"{n}: {_yaml_value(leaf.value)}" for n, leaf in b.leaves.items() if leaf.kind == kind)
        for kind in ("input", "param")
    }
    nodes = "".join(f"  {n}: {tree.text()}\n" for n, tree in trees.items())
    text = f"inputs: {{{blocks['input']}}}\nparams: {{{blocks['param']}}}\nnodes:\n{nodes}output: f\n"
    return Generated(text, dict(b.leaves), trees)


# ---------------------------------------------------------------- kinks and stopped gradients


def kink_distance(graph, values: dict[str, np.ndarray]) -> float:
    """How close any gate is to a kink: the smallest of the ops' own distances (Op.kinks)."""
    nearest = np.inf
    for node in graph.gates:
        kinks = node.operation.kinks
        if kinks is not None:
            gaps = kinks.distance(*operands(node, values, graph.dtype), **node.attrs)
            nearest = min(nearest, float(np.min(gaps, initial=np.inf)))
    return nearest


def evaluate_holding(graph, leaf_values: dict[str, np.ndarray], base: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The values at moved leaves with every gate that stops the gradient held at its base value: the function
    whose derivative reverse mode computes (a finite difference through stop_gradient would see the change)."""
    values = dict(leaf_values)
    with np.errstate(all="ignore"):
        for node in graph.gates:
            op = node.operation
            out = (
                base[node.name] if op.stops_gradient else op.forward(*operands(node, values, graph.dtype), **node.attrs)
            )
            if not all_finite(np.asarray(out)):
                raise EvaluationError(f"{node.name} is not finite")
            values[node.name] = np.asarray(out)
    return values
