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

Shared subexpressions: asked for an operand, the builder now and then hands back a subtree it built
before with the same shape (and a domain at least as narrow), so one value feeds several gates: both
operands of one gate (m1 * m1, m1 @ m1, stack(m1, m1)), gates at different depths (diamonds), many
gates (fan-out). A subtree used more than once is written as a node of its own (m1, m2, ...), so the
graph forks there; `trees` keeps every tree inline (the torch oracle computes a shared value twice,
which is the same function). Now and then a node after f reads the output (off the path to it). On
request, a third of the graphs are all scalars (micrograd's kind: scalar leaves that gradcheck checks
together), and a quarter are float32.

Seeds: the tests run derandomized (the same examples every run, for CI). Set
BACKPROP_HYPOTHESIS_SEED=<int> to draw other examples, and BACKPROP_HYPOTHESIS_SCALE=<factor> to
multiply every example count (e.g. 20 for a long local run).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass

import numpy as np
from generated_trees import (
    DRAWN,
    FAMILIES,
    LOSSES,
    NUMBERS,
    POSITIVE,
    REDUCE,
    RESTRICTED,
    RULES,
    Shape,
    Tree,
    integers,
    name,
    number,
    possible,
)
from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st

from backprop_cli.engines.evaluate import all_finite, operands
from backprop_cli.errors import EvaluationError

__all__ = ["RULES", "Tree", "Generated", "graphs", "kink_distance", "evaluate_holding"]

MAX_DEPTH = 4  # a leaf is certain at this depth; below the root, the chance of one grows by 20% a level

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


# ---------------------------------------------------------------- graphs


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


class _Builder:
    """Draws one graph; remembers its leaves (to read some twice) and its named nodes (to read them later)."""

    def __init__(self, draw, reckless: bool, forks: bool = True, scalars: bool = False) -> None:
        self.draw = draw
        self.reckless = reckless
        self.rng = np.random.default_rng(draw(integers(0, 2**32 - 1)))
        self.leaves: dict[str, Leaf] = {}
        self.nodes: dict[str, Shape] = {}
        self.forks = forks
        self.scalars = scalars and self.chance(3)  # every named node a scalar, built from scalars where it can be
        self.built: list[tuple[Shape, str, Tree]] = []  # subtrees below the roots: to be read again (a fork)

    def pick(self, options: list):
        # an index drawn, not st.sampled_from(options), which is built and checked anew at every call (a fifth of
        # the drawing time); both shrink towards the first option
        return options[self.draw(integers(0, len(options) - 1))]

    def chance(self, one_in: int) -> bool:
        return self.draw(integers(0, one_in - 1)) == 0

    def dim(self) -> int:
        return self.pick([2, 3, 4, 1])

    # ------------------------------------------------------------ leaves

    def values(self, shape: Shape, domain: str, classes: int = 0) -> np.ndarray:
        if domain == "positive":
            if self.chance(4):  # elements apart by orders of magnitude: 0.001 beside 100 under sqrt or log
                return np.asarray(10.0 ** self.rng.uniform(-3.0, 2.0, shape))
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
        again = [tree for s, d, tree in self.built if s == shape and domain in (d, "real")]  # positive is real too
        if depth and again and self.chance(4):
            return self.pick(again)  # a value read again: a fork (written as a node of its own)
        if domain in ("unit", "above_one"):  # a leaf in the domain, or a real subtree squashed or shifted into it
            if depth >= MAX_DEPTH or self.chance(2):
                return self.operand_leaf(shape, domain)
            if domain == "unit":
                tree = Tree("mul", (Tree("tanh", (self.tensor(shape, depth + 1),), shape), number(0.9)), shape)
            else:
                tree = Tree("add", (self.tensor(shape, depth + 1, "positive"), number(1.5)), shape)
            return self.remember(shape, domain, tree, depth)
        allowed = POSITIVE if domain == "positive" else RULES
        if depth >= MAX_DEPTH or (depth and self.draw(integers(0, 9)) < 2 * depth):
            return self.operand_leaf(shape, domain)
        from_tensors = not depth and shape == () and not self.scalars
        kinds = [LOSSES, REDUCE, ["matmul"]] if from_tensors else FAMILIES  # a scalar node: from tensors
        kinds = kinds + [RESTRICTED] if self.reckless else kinds
        families = [[op for op in family if possible(op, shape) and op in allowed] for family in kinds]
        op = self.pick(self.pick([family for family in families if family]))  # rare kinds of op as often as common
        tree = RULES[op](self, op, shape, depth + 1, domain)
        return self.operand_leaf(shape, domain) if tree is None else self.remember(shape, domain, tree, depth)

    def remember(self, shape: Shape, domain: str, tree: Tree, depth: int) -> Tree:
        """A subtree below a root, offered to later operands of its shape and domain (forks)."""
        if self.forks and depth:
            self.built.append((shape, domain, tree))
        return tree

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
        kind = "scalar" if self.scalars else self.pick(["scalar", "tensor", "tensor", "image"])
        if kind == "scalar":
            return ()
        if kind == "tensor":
            shape = self.shape(self.draw(integers(1, 3)))
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
            b = shape[self.draw(integers(1, len(shape) - 1)) :] if len(shape) > 1 else ()
        elif form == "ones":  # (3, 4) with (3, 1)
            ones = self.draw(st.lists(integers(0, len(shape) - 1), min_size=1))
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


def _yaml_value(value: np.ndarray) -> str:
    return json.dumps(value.tolist())  # floats in repr precision; 1e-05 reads back as a number too


@st.composite
def graphs(draw, reckless: bool = False, forks: bool = True, scalars: bool = False, float32: bool = False) -> Generated:
    """A graph (see the module docstring). forks=False: no shared subexpressions; scalars=True: one graph in
    three all scalars (micrograd's kind); float32=True: `dtype: float32` in one graph in four."""
    b = _Builder(draw, reckless, forks, scalars)
    trees: dict[str, Tree] = {}
    for i in range(1, draw(integers(1, 3)) + 1):
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
    lines = _written(trees)
    if forks and b.chance(4):  # a node that reads the output, off the path to it
        lines.append(("after_f", f"(f * {b.pick(NUMBERS)!r})"))
    nodes = "".join(f"  {n}: {text}\n" for n, text in lines)
    text = f"inputs: {{{blocks['input']}}}\nparams: {{{blocks['param']}}}\nnodes:\n{nodes}output: f\n"
    if float32 and b.chance(4):
        text = "dtype: float32\n" + text
    return Generated(text, dict(b.leaves), trees)


def _written(trees: dict[str, Tree]) -> list[tuple[str, str]]:
    """(name, expression) per node of the file: a subtree used more than once (the same object) becomes a node
    m1, m2, ... of its own, defined before its first reader."""
    uses: Counter[int] = Counter()

    def count(tree: Tree) -> None:
        uses[id(tree)] += 1
        if uses[id(tree)] == 1:
            for a in tree.args:
                count(a)

    for tree in trees.values():
        count(tree)
    shared: dict[int, str] = {}
    lines: list[tuple[str, str]] = []

    def define(tree: Tree) -> None:
        if id(tree) in shared or tree.op in ("name", "num"):
            return
        for a in tree.args:
            define(a)
        if uses[id(tree)] > 1:
            lines.append((f"m{len(shared) + 1}", tree.text(shared)))
            shared[id(tree)] = lines[-1][0]

    for n, tree in trees.items():
        define(tree)
        lines.append((n, tree.text(shared)))
    return lines


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
