"""Generated graphs (issue 5): random expression graphs over the op table, built by a recursive strategy.

Properties, on every generated graph:
- evaluating, reverse mode and forward mode raise nothing but the project's own errors;
- reverse mode equals forward mode (⟨ḡ, J t⟩ both ways);
- both equal central finite differences, away from kinks (each op's `kink` distance, plus a
  two-step agreement check for kinks no op reports, like ties in a max);
- writing the graph back to YAML with `dumps` and loading it gives the same graph.

The strategy is shared with tests/test_torch_differential.py: a tree knows its shape and renders
itself both as graph-file text and as any other library's calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import backprop_cli
from backprop_cli.engines.evaluate import evaluate
from backprop_cli.engines.forward_mode import forward_mode
from backprop_cli.engines.reverse_mode import reverse_mode
from backprop_cli.errors import BackpropError
from backprop_cli.fileformat.writer import dumps

N = 3  # the length of every vector leaf
# leaf name -> (shape, kind of values): the domains that ops with restricted arguments need
LEAVES = {
    "x": ((N,), "real"),
    "w": ((N,), "real"),
    "y": ((), "real"),
    "k": ((), "label"),  # a class index into a vector of N scores
    "s": ((N,), "sign"),
    "b": ((N,), "binary"),
}
DIFFERENTIABLE = ("x", "w", "y")
UNARY = ["sigmoid", "tanh", "softplus", "relu", "leaky_relu", "elu", "identity", "neg", "exp", "log"]
UNARY += ["sqrt", "abs", "sin", "cos"]
BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"]
REDUCE = ["sum", "mean", "max", "min"]
NORMALIZE = ["softmax", "log_softmax"]
SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@"}
COVERED = set(UNARY + BINARY + REDUCE + NORMALIZE) | {"matmul", "mse", "cross_entropy", "log_loss", "hinge"}
COVERED |= {"transpose", "reshape"}


@dataclass(frozen=True)
class Tree:
    """One expression: an op applied to subtrees, a leaf name, or a number."""

    op: str  # "leaf", "num" or an op name
    args: tuple[Tree, ...] = ()
    shape: tuple[int, ...] = ()
    name: str = ""
    number: float = 0.0
    attrs: tuple[tuple[str, object], ...] = ()

    def text(self) -> str:
        if self.op == "leaf":
            return self.name
        if self.op == "num":
            return f"({self.number!r})" if self.number < 0 else repr(self.number)
        if self.op in SYMBOL:
            return f"({self.args[0].text()} {SYMBOL[self.op]} {self.args[1].text()})"
        if self.op == "neg":
            return f"(-{self.args[0].text()})"
        words = [a.text() for a in self.args] + [f"{k}={v!r}".replace("'", "") for k, v in self.attrs]
        return f"{self.op}({', '.join(words)})"


def leaf(name: str) -> Tree:
    return Tree("leaf", shape=LEAVES[name][0], name=name)


numbers = st.sampled_from([0.5, 1.5, 2.0, -1.0, 3.0]).map(lambda v: Tree("num", number=v))
real_leaves = st.sampled_from(DIFFERENTIABLE).map(leaf)


def _extend(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    def unary(op: str, a: Tree, alpha: float) -> Tree:
        attrs = (("alpha", alpha),) if op in ("leaky_relu", "elu") else ()
        return Tree(op, (a,), a.shape, attrs=attrs)

    def binary(op: str, a: Tree, b: Tree) -> Tree:
        shape = a.shape if len(a.shape) >= len(b.shape) else b.shape
        return Tree(op, (a, b), shape)

    def vector_op(op: str, a: Tree) -> Tree:
        """Ops that need a vector: a scalar operand is first spread over N entries."""
        if a.shape == ():
            a = Tree("mul", (a, leaf("x")), (N,))
        if op == "matmul":
            return Tree("matmul", (a, leaf("w")), ())
        if op == "mse":
            return Tree("mse", (a, leaf("w")), ())
        if op == "cross_entropy":
            return Tree("cross_entropy", (a, leaf("k")), ())
        if op == "log_loss":
            return Tree("log_loss", (a, leaf("b")), ())
        if op == "hinge":
            return Tree("hinge", (a, leaf("s")), ())
        if op == "transpose":
            return Tree("transpose", (a,), (N,))
        if op == "reshape":
            return Tree("reshape", (a,), (N,), attrs=(("shape", [N]),))
        if op in NORMALIZE:
            return Tree(op, (a,), (N,))
        return Tree(op, (a,), ())  # reductions

    vector_ops = REDUCE + NORMALIZE + ["matmul", "mse", "cross_entropy", "log_loss", "hinge", "transpose", "reshape"]
    return st.one_of(
        st.builds(unary, st.sampled_from(UNARY), children, st.sampled_from([0.01, 0.3, 1.0])),
        st.builds(binary, st.sampled_from(BINARY), children, children),
        st.builds(vector_op, st.sampled_from(vector_ops), children),
    )


trees = st.recursive(st.one_of(real_leaves, numbers), _extend, max_leaves=8)


@dataclass(frozen=True)
class Generated:
    text: str
    a: Tree
    b: Tree
    values: dict[str, object]


def _value(kind: str, shape: tuple[int, ...], draw) -> object:
    size = int(np.prod(shape))
    if kind == "label":
        return draw(st.integers(0, N - 1))
    if kind == "sign":
        items = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=size, max_size=size))
    elif kind == "binary":
        items = draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=size, max_size=size))
    else:
        real = st.floats(-2.5, 2.5, allow_nan=False).map(lambda v: round(v, 3))
        items = draw(st.lists(real, min_size=size, max_size=size))
    return items[0] if shape == () else items


@st.composite
def graphs(draw) -> Generated:
    """A graph file with two expression nodes and a scalar output that uses both: p → q → f, a fork at p."""
    a = draw(trees)
    b_tree = draw(trees)
    b = Tree("add", (b_tree, Tree("leaf", shape=a.shape, name="p")), a.shape if a.shape else b_tree.shape)
    values = {name: _value(kind, shape, draw) for name, (shape, kind) in LEAVES.items()}
    inputs = ", ".join(f"{n}: {v}" for n, v in values.items() if n not in DIFFERENTIABLE)
    params = ", ".join(f"{n}: {v}" for n, v in values.items() if n in DIFFERENTIABLE)
    text = (
        f"inputs: {{{inputs}}}\nparams: {{{params}}}\nnodes:\n"
        f"  p: {a.text()}\n  q: {b.text()}\n  f: sum(q) + sum(p * p)\noutput: f\n"
    )
    return Generated(text, a, b, values)


def load_or_reject(text: str):
    """The graph, or None when the project refuses it with its own error (anything else propagates)."""
    try:
        return backprop_cli.loads(text)
    except BackpropError:
        return None


def near_a_kink(graph, values: dict[str, np.ndarray], margin: float = 1e-3) -> bool:
    for node in graph.gates:
        kink = node.operation.kink
        if kink is not None:
            xs = [np.asarray(x.value) if not isinstance(x, str) else values[x] for x in node.inputs]
            if np.min(kink(*xs, **node.attrs), initial=np.inf) < margin:
                return True
    return False


def _directional_differences(graph, tangents: dict[str, np.ndarray], h: float = 1e-6) -> tuple[float, float, float]:
    """Central, forward and backward differences of the output along the tangents."""

    def at(t: float) -> float:
        moved = {n: graph.leaf_values[n] + t * tangents[n] for n in tangents}
        return float(evaluate(graph, {**graph.leaf_values, **moved})[graph.output])

    below, here, above = at(-h), at(0.0), at(h)
    return (above - below) / (2 * h), (above - here) / h, (here - below) / h


SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(graphs(), st.randoms(use_true_random=False))
def test_reverse_forward_and_finite_differences_agree(generated, rnd):
    graph = load_or_reject(generated.text)
    assume(graph is not None)
    try:
        values = evaluate(graph)
        grads = reverse_mode(graph, values)
    except BackpropError:
        return  # a NaN, an overflow or a log of a negative number, reported as the project's own error
    assume(not near_a_kink(graph, values))
    rng = np.random.default_rng(rnd.getrandbits(32))
    tangents = {n: rng.standard_normal(graph.nodes[n].shape) for n in DIFFERENTIABLE}
    try:
        tangent = forward_mode(graph, values, tangents)[graph.output]
    except BackpropError:
        return
    reverse = sum(float(np.sum(grads[n] * tangents[n])) for n in DIFFERENTIABLE)
    forward = float(tangent)
    scale = max(1.0, abs(reverse), abs(forward))
    assert abs(reverse - forward) <= 1e-9 * scale, f"reverse {reverse} vs forward {forward}\n{generated.text}"
    try:
        fd, ahead, behind = _directional_differences(graph, tangents)
    except BackpropError:
        return  # a step left the domain (log, sqrt near 0)
    assume(abs(ahead - behind) <= 1e-5 * max(1.0, abs(fd)))  # one-sided slopes differ: a kink no op reports
    assert abs(reverse - fd) <= 1e-5 * max(1.0, abs(fd)), f"reverse {reverse} vs numeric {fd}\n{generated.text}"


@SETTINGS
@given(graphs())
def test_writing_and_loading_gives_the_same_graph(generated):
    graph = load_or_reject(generated.text)
    assume(graph is not None)
    again = backprop_cli.loads(dumps(graph))
    assert list(again.nodes) == list(graph.nodes)
    for name, node in graph.nodes.items():
        other = again.nodes[name]
        assert (other.kind, other.op, other.inputs, other.attrs, other.shape) == (
            node.kind,
            node.op,
            node.inputs,
            node.attrs,
            node.shape,
        ), name
    assert again.output == graph.output and again.dtype == graph.dtype
    for name, value in graph.leaf_values.items():
        np.testing.assert_array_equal(again.leaf_values[name], value)
    assert dumps(again) == dumps(graph)


def test_the_generator_covers_the_elementwise_reduction_and_loss_ops():
    """conv2d and max_pool2d need 4-d shapes: the op sweep covers them, not these graphs."""
    missing = set(backprop_cli.ops.OPS) - COVERED - {"conv2d", "max_pool2d", "prelu", "multiclass_hinge"}
    assert not missing, f"ops the generator never draws: {sorted(missing)}"


@pytest.mark.parametrize("seed", range(3))
def test_evaluation_of_generated_text_raises_only_project_errors(seed):
    """Random token soup (names, ops, operators, numbers): loading fails cleanly or the graph evaluates."""
    rng = np.random.default_rng(seed)
    tokens = ["x", "w", "y", "(", ")", "+", "-", "*", "/", "**", "@", ",", "1", "0", "1e308", "sum(", "exp(", "log("]
    tokens += ["max(", "softmax(", "axis=0", "alpha=2", "=", "[", "]", "relu(", "mse(", "reshape(", "shape=[3]"]
    for _ in range(400):
        expr = "".join(rng.choice(tokens, size=rng.integers(1, 14)))
        text = f"params: {{x: [1, -2, 3], w: [0.5, 0, -1], y: 2}}\nnodes:\n  f: '{expr}'\noutput: f\n"
        graph = load_or_reject(text)
        if graph is None:
            continue
        try:
            values = evaluate(graph)
            reverse_mode(graph, values)
            forward_mode(graph, values, {"x": np.ones(3)})
        except BackpropError:
            pass
