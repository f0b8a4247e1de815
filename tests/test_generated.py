"""Generated graphs (issue 5): random expression graphs over the whole op table, from tests/generated_graphs.py.

Tensors of small random shapes (scalars to 4-d images), every op of the table with its keywords
(axis, keepdims, broadcast, stride, padding, ...), forks at leaves and between named nodes.
Properties, on every generated graph:
- evaluating, reverse mode and forward mode raise nothing but the project's own errors, also on
  "reckless" graphs whose log, sqrt, divisions and powers get arguments of any sign;
- reverse mode equals forward mode (⟨ḡ, J t⟩ both ways, t a random tangent of every leaf);
- both equal central finite differences, away from kinks (each op's `Op.kinks` distance; a two-step
  agreement check rejects the kinks nothing reports), with stop_gradient's output held constant;
- writing the graph back to YAML with `dumps` and loading it gives the same graph;
- the generator has a rule for every op of the table and draws every one of them.

Seeds: derandomized, the same examples every run (CI). BACKPROP_HYPOTHESIS_SEED=<int> draws other
examples; BACKPROP_HYPOTHESIS_SCALE=<factor> multiplies every example count (e.g. 20 for a long
local run). tests/test_torch_differential.py checks the same graphs against torch.autograd.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from generated_graphs import (
    MAX_DEPTH,
    RULES,
    _Builder,
    evaluate_holding,
    examples,
    graphs,
    hypothesis_run,
    kink_distance,
    seed_note,
)
from generated_trees import FAMILIES, possible
from hypothesis import assume, given, reject
from hypothesis import strategies as st

import backprop_cli
from backprop_cli.engines.evaluate import evaluate
from backprop_cli.engines.forward_mode import forward_mode
from backprop_cli.engines.reverse_mode import reverse_mode
from backprop_cli.errors import BackpropError, EvaluationError
from backprop_cli.fileformat.writer import dumps
from backprop_cli.ops import OPS

KINK_MARGIN = 1e-3  # a step of 1e-6 along a random tangent stays on one side of every kink this far away
STEP = 1e-6
AGREE = 1e-9  # reverse mode vs forward mode: the same products, summed in another order
NUMERIC = 1e-5  # vs central differences: truncation h² and rounding ε/h


def _directional_differences(graph, tangents: dict[str, np.ndarray]) -> tuple[float, float, float]:
    """Central, forward and backward differences of the output along the tangents."""

    base = evaluate(graph)

    def at(t: float) -> float:
        moved = {n: graph.leaf_values[n] + t * tangents[n] for n in tangents}
        return float(evaluate_holding(graph, {**graph.leaf_values, **moved}, base)[graph.output])

    below, here, above = at(-STEP), at(0.0), at(STEP)
    return (above - below) / (2 * STEP), (above - here) / STEP, (here - below) / STEP


def test_reverse_forward_and_finite_differences_agree():
    verified = 0

    @hypothesis_run(300)
    @given(graphs(), st.integers(0, 2**32 - 1))
    def check(generated, tangent_seed):
        graph = backprop_cli.loads(generated.text)
        try:
            values = evaluate(graph)
            grads = reverse_mode(graph, values)
        except EvaluationError:
            reject()  # NaN or inf, reported as the project's own error
        assume(kink_distance(graph, values) > KINK_MARGIN)
        rng = np.random.default_rng(tangent_seed)
        tangents = {n: rng.standard_normal(graph.nodes[n].shape) for n in generated.differentiable}
        forward = float(forward_mode(graph, values, tangents)[graph.output])
        reverse = sum(float(np.sum(grads[n] * t)) for n, t in tangents.items())
        scale = max(1.0, abs(reverse), abs(forward))
        assert abs(reverse - forward) <= AGREE * scale, f"reverse {reverse} vs forward {forward}\n{generated.text}"
        try:
            numeric, ahead, behind = _directional_differences(graph, tangents)
        except EvaluationError:
            reject()  # a step left the domain
        assume(abs(ahead - behind) <= NUMERIC * max(1.0, abs(numeric)))  # one-sided slopes differ: a kink
        assert abs(reverse - numeric) <= NUMERIC * max(1.0, abs(numeric)), (
            f"reverse {reverse} vs numeric {numeric} ({seed_note()})\n{generated.text}"
        )
        nonlocal verified
        verified += 1

    check()
    assert verified >= examples(300), f"only {verified} graphs verified: too many rejected"


@hypothesis_run(120)  # (the verdict's property tests run ~1,000 more graphs end to end)
@given(graphs(reckless=True), st.integers(0, 2**32 - 1))
def test_evaluation_raises_only_project_errors(generated, tangent_seed):
    graph = backprop_cli.loads(generated.text)
    rng = np.random.default_rng(tangent_seed)
    tangents = {n: rng.standard_normal(graph.nodes[n].shape) for n in generated.differentiable}
    try:
        values = evaluate(graph)
        reverse_mode(graph, values)
        forward_mode(graph, values, tangents)
    except BackpropError:
        pass  # anything else fails the test


@hypothesis_run(120)  # every CLI property test also writes and loads its graph
@given(graphs())
def test_writing_and_loading_gives_the_same_graph(generated):
    graph = backprop_cli.loads(generated.text)
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


def test_the_generator_has_a_rule_for_every_op():
    """A newly registered op fails here until tests/generated_graphs.py can build it (and torch_oracle.py map it)."""
    assert set(RULES) == set(OPS), f"ops without a rule: {sorted(set(OPS) - set(RULES))}"


SHAPES = [(2, 3), (), (3,), (2, 1, 3), (1, 2, 3, 2)]


@st.composite
def each_rule(draw) -> list:
    """What each op's rule builds, asked for the first shape of SHAPES the op can make (its operands leaves)."""
    builder = _Builder(draw, reckless=False)
    return [
        rule(builder, op, next(s for s in SHAPES if possible(op, s)), MAX_DEPTH, "real") for op, rule in RULES.items()
    ]


def test_the_generator_can_draw_every_op():
    """Every op is in a family the generator picks from, and its rule builds it (drawn 10 times: a rule gives up on
    operands too large). That drawn graphs use every op, in their proportions, is tests/test_torch_differential.py's
    test: its ≥ 1,000 graphs together use all of them."""
    assert set(OPS) <= set().union(*FAMILIES), f"ops in no family: {sorted(set(OPS) - set().union(*FAMILIES))}"
    built = Counter()

    @hypothesis_run(10)
    @given(each_rule())
    def build(trees):
        built.update(op for op, tree in zip(RULES, trees, strict=True) if tree is not None and op in tree.ops())

    build()
    assert not set(OPS) - set(built), f"ops no rule built: {sorted(set(OPS) - set(built))}"


@pytest.mark.parametrize("seed", range(3))
def test_evaluation_of_generated_text_raises_only_project_errors(seed):
    """Random token soup (names, ops, operators, numbers): loading fails cleanly or the graph evaluates."""
    rng = np.random.default_rng(seed)
    tokens = ["x", "w", "y", "(", ")", "+", "-", "*", "/", "**", "@", ",", "1", "0", "1e308", "sum(", "exp(", "log("]
    tokens += ["max(", "softmax(", "axis=0", "alpha=2", "=", "[", "]", "relu(", "mse(", "reshape(", "shape=[3]"]
    tokens += [":", "x[", "[0]", "[-1:]", "[::2]", "[1, 2]", "concat(", "stack(", "clip(", "stop_gradient(", "-3"]
    tokens += [
        " > ",
        " == ",
        " & ",
        " | ",
        "~",
        " if ",
        " else ",
        "where(",
        "[true, false, true]",
        "range(2)",
        "len(x)",
    ]
    tokens += ["[[0, 2]]", "x[x > 0]", "[0.5, 1]"]
    for _ in range(400):
        expr = "".join(rng.choice(tokens, size=rng.integers(1, 14)))
        text = f"params: {{x: [1, -2, 3], w: [0.5, 0, -1], y: 2}}\nnodes:\n  f: '{expr}'\noutput: f\n"
        try:
            graph = backprop_cli.loads(text)
        except BackpropError:
            continue
        try:
            values = evaluate(graph)
            reverse_mode(graph, values)
            forward_mode(graph, values, {"x": np.ones(3)})
        except BackpropError:
            pass
