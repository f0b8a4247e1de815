"""A gate's role cannot contradict its numbers: every gate kind's words (what `backprop ops` and every
diagram's legend say) are held against the local derivatives of every op of that kind, on operands drawn
in each op's domain (the op table swept generically: a new op is checked the moment it is registered);
and the words a diagram writes on a gate (dead 50%, ×0.01 at 50%, ×-1, saturated) against its local
derivatives here, on generated inputs."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from test_ops_sweep import cases, operands  # the op table's cases and operands (tests/ is on sys.path)

import backprop_cli
from backprop_cli.engines.reverse_mode import unbroadcast
from backprop_cli.engines.trace import run_trace
from backprop_cli.ops import OPS, GateKind
from backprop_cli.outputs.routes import gate_note, short_note


def jacobians(op, xs: list[np.ndarray], attrs: dict) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """The output and, per operand, d(output element k)/d(operand element j) from the reverse rule."""
    out = np.asarray(op.forward(*xs, **attrs), dtype=float)
    found: list[np.ndarray | None] = []
    for i, x in enumerate(xs):
        rule = op.vjp[i]
        if rule is None:
            found.append(None)
            continue
        rows = []
        for k in range(out.size):
            g = np.zeros(out.size)
            g[k] = 1.0
            rows.append(np.ravel(unbroadcast(np.asarray(rule(g.reshape(out.shape), out, *xs, **attrs)), np.shape(x))))
        found.append(np.array(rows, dtype=float).reshape(out.size, np.size(x)))
    return out, found


def diagonal(j: np.ndarray) -> np.ndarray:
    """An elementwise op's Jacobian: nothing off the diagonal; its diagonal."""
    assert j.shape[0] == j.shape[1]
    assert not np.any(j - np.diag(np.diag(j))), "an elementwise gate mixes elements"
    return np.diag(j)


def resampled(op, xs, attrs, i, rng):
    """The operands with operand i drawn again in its domain (away from kinks)."""
    from test_ops_sweep import sample

    fresh = sample(op, [np.shape(x) for x in xs], attrs, rng)
    return [fresh[i] if k == i else x for k, x in enumerate(xs)]


# ------------------------------------------------------------ what each kind claims, per kind
def wire(op, xs, attrs, rng):  # "passes the gradient through, only rearranged"
    _, js = jacobians(op, xs, attrs)
    stacked = np.hstack([j for j in js if j is not None])
    assert set(np.unique(stacked)) <= {0.0, 1.0}
    assert np.all(stacked.sum(axis=1) == 1) and np.all(stacked.sum(axis=0) == 1)  # each element once, whole


def distributor(op, xs, attrs, rng):  # "hands it to every input, times a fixed factor: 1, -1, 1/n"
    _, js = jacobians(op, xs, attrs)
    _, again = jacobians(op, [x + rng.standard_normal(np.shape(x)) for x in xs], attrs)
    for j, k in zip(js, again, strict=True):
        np.testing.assert_array_equal(j, k)  # fixed: does not depend on the values
        assert np.all(np.any(j != 0, axis=0)), "every input element gets the gradient"
        for factor in np.unique(j[j != 0]):
            assert factor in (1.0, -1.0) or Fraction(1 / factor).limit_denominator(1) == 1 / factor, factor


def switcher(op, xs, attrs, rng):  # "multiplies it by the other input's value"
    _, js = jacobians(op, xs, attrs)
    for i, other in ((0, 1), (1, 0)):
        j = js[i]
        moved = resampled(op, xs, attrs, i, rng)  # its own value does not matter
        np.testing.assert_allclose(jacobians(op, moved, attrs)[1][i], j, atol=1e-12)
        doubled = [2 * x if k == other else x for k, x in enumerate(xs)]  # linear in the other's
        np.testing.assert_allclose(jacobians(op, doubled, attrs)[1][i], 2 * j, rtol=1e-12, atol=1e-12)


def router(op, xs, attrs, rng):  # "sends the whole gradient to what won or was picked, 0 elsewhere"
    _, js = jacobians(op, xs, attrs)
    stacked = np.hstack([j for j in js if j is not None])
    assert set(np.unique(stacked)) <= {0.0, 1.0}
    np.testing.assert_array_equal(stacked.sum(axis=1), 1)  # each output element's gradient goes to one place


def same_shape(xs: list[np.ndarray]) -> list[np.ndarray]:
    """Broadcast operands (prelu's x and a) to one shape: an elementwise gate's Jacobian is then square."""
    return [np.array(x) for x in np.broadcast_arrays(*xs)]


def killer(op, xs, attrs, rng):  # "passes it where its input is positive, kills it (0) elsewhere"
    xs = same_shape(xs)
    _, js = jacobians(op, xs, attrs)
    local, x = diagonal(js[0]), np.ravel(xs[0])
    np.testing.assert_array_equal(local, (x > 0).astype(float))


def leaky(op, xs, attrs, rng):  # "passes it where its input is positive, scales it by a small slope elsewhere"
    xs = same_shape(xs)
    _, js = jacobians(op, xs, attrs)
    local, x = diagonal(js[0]), np.ravel(xs[0])
    np.testing.assert_array_equal(local[x > 0], 1.0)
    assert np.all(local[x < 0] != 0), "never kills it"
    assert np.all(np.abs(local[x < 0]) <= max(1.0, *np.abs(np.ravel(xs[1:] or [0])))), "a slope, not a blow-up"


def squashing(op, xs, attrs, rng):  # "scales it by a slope that vanishes when saturated"
    _, js = jacobians(op, xs, attrs)
    local = diagonal(js[0])
    assert np.all((local > 0) & (local <= 1))
    far = np.array([-40.0, 40.0])
    _, (edge,) = jacobians(op, [far], attrs)
    assert np.min(np.diag(edge)) < 1e-9, "saturated on at least one side"


def scaler(op, xs, attrs, rng):  # "scales it by the local derivative", element by element
    out, js = jacobians(op, xs, attrs)
    for x, j in zip(xs, js, strict=True):
        if j is not None and np.shape(x) == out.shape:
            diagonal(j)


def normalizer(op, xs, attrs, rng):  # "mixes it across the normalized axis"
    _, js = jacobians(op, xs, attrs)
    j = js[0]
    off = j - np.diag(np.diag(j))
    assert np.any(off != 0), "mixes: an element's gradient depends on the others along the axis"


def loss(op, xs, attrs, rng):  # "starts it: its local derivative compares prediction and target"
    out, js = jacobians(op, xs, attrs)
    assert out.size == 1, "a loss is one number"
    moved = resampled(op, xs, attrs, 1, rng)
    if not np.array_equal(moved[1], xs[1]):
        assert not np.allclose(jacobians(op, moved, attrs)[1][0], js[0]), "the target changes the gradient"


def stopper(op, xs, attrs, rng):  # "stops it: its input gets 0"
    _, js = jacobians(op, xs, attrs)
    assert not np.any(js[0])


def comparator(op, xs, attrs, rng):  # "gives a mask of 0s and 1s, flat between ties: no gradient flows back"
    out, js = jacobians(op, xs, attrs)
    assert set(np.unique(out)) <= {0.0, 1.0}
    assert all(j is None for j in js), "no gradient flows back through a mask"
    nudged = [x + 1e-9 * rng.standard_normal(np.shape(x)) if op.domain_of(i) != "mask" else x for i, x in enumerate(xs)]
    np.testing.assert_array_equal(np.asarray(op.forward(*nudged, **attrs), float), out)  # flat off the ties


CLAIMS = {
    GateKind.WIRE: wire,
    GateKind.DISTRIBUTOR: distributor,
    GateKind.SWITCHER: switcher,
    GateKind.ROUTER: router,
    GateKind.KILLER: killer,
    GateKind.LEAKY: leaky,
    GateKind.SQUASHER: squashing,
    GateKind.SCALER: scaler,
    GateKind.NORMALIZER: normalizer,
    GateKind.LOSS: loss,
    GateKind.STOPPER: stopper,
    GateKind.COMPARATOR: comparator,
}


def test_every_gate_kind_has_its_words_checked():
    assert set(CLAIMS) == set(GateKind)
    for kind in GateKind:
        assert kind.role and kind.meaning and kind.legend


@pytest.mark.parametrize("name, case", [c for c in cases() if c.values[1] is not None])
def test_each_kinds_words_hold_for_its_ops(name, case):
    op = OPS[name]
    xs, attrs, rng = operands(op, case, "roles")
    if sum(np.size(x) for x in xs) > 400:
        pytest.skip("a Jacobian this big says nothing more")
    CLAIMS[op.gate_kind](op, xs, attrs, rng)


def test_the_lectures_cure_for_dead_relus_scales_and_never_kills(run):
    """leaky_relu, prelu and elu: `backprop ops --json` and a diagram's legend say they scale, not kill."""
    table = {op["op"]: op for op in json.loads(run("ops", "--json").stdout)["ops"]}
    assert table["relu"]["gate"] == "killer"
    for name in ("leaky_relu", "prelu", "elu"):
        assert table[name]["gate"] == "leaky" and "never kills" in table[name]["meaning"], table[name]
        assert "kill" not in GateKind.LEAKY.legend.replace("never", "")


# ------------------------------------------------------------ the words a diagram writes on a gate
def unit_graph(expression: str, x: np.ndarray) -> backprop_cli.Graph:
    values = ", ".join(repr(float(v)) for v in x)
    return backprop_cli.loads(
        f"inputs: {{x: [{values}]}}\nparams: {{a: 0.25}}\nnodes:\n  h: '{expression}'\n  f: sum(h)\noutput: f\n"
    )


@pytest.mark.parametrize(
    "expression",
    ["relu(x)", "leaky_relu(x)", "leaky_relu(x, alpha=0.2)", "prelu(x, a)", "elu(x)", "elu(x, alpha=0.5)", "sigmoid(x)",
     "tanh(x)"],
)  # fmt: skip
def test_gate_notes_say_what_the_local_derivatives_are(expression):
    rng = np.random.default_rng(22)
    for _ in range(20):
        x = rng.choice([-1, 1], 6) * rng.uniform(0.1, 8, 6)
        trace = run_trace(unit_graph(expression, x))
        row = next(r for r in trace.rows if r.node.name == "h")
        local = numeric_slopes(trace, row)  # the oracle: central differences of the gate's forward
        note, full = short_note(trace, row, lambda v: f"{float(v):.3g}"), gate_note(trace, row, str)
        share = f"{np.mean(x <= 0):.0%}"
        kind = row.node.operation.gate_kind
        if not np.any(x <= 0) and kind is not GateKind.SQUASHER:
            assert note == ""
        elif kind is GateKind.KILLER:
            assert note == f"dead {share}"
            np.testing.assert_allclose(local, (x > 0).astype(float), atol=1e-6)
        elif kind is GateKind.LEAKY:
            slopes = np.round(local[x <= 0], 12)
            assert np.all(np.abs(slopes) > 1e-6) and "dead" not in note + full and "kill" not in note + full
            low, high = (f"{v:.3g}" for v in (slopes.min(), slopes.max()))
            assert note == (f"×{low}" if low == high else f"×{low}…{high}") + f" at {share}", (note, slopes)
            np.testing.assert_allclose(local[x > 0], 1.0, atol=1e-6)
        else:  # squashing: saturated where the slope is below 0.01, and nothing when it is nowhere
            saturated = np.abs(local) < 0.01
            assert note == (f"saturated {np.mean(saturated):.0%}" if saturated.any() else ""), (note, local)


def numeric_slopes(trace, row, h: float = 1e-6) -> np.ndarray:
    """d(gate)/d(its first operand), element by element, by central differences of its forward."""
    node = row.node
    xs = [np.asarray(trace.values[x] if isinstance(x, str) else x.value, float) for x in node.inputs]
    moved = [[x + (h if k == 0 else 0) for k, x in enumerate(xs)], [x - (h if k == 0 else 0) for k, x in enumerate(xs)]]
    up, down = (np.asarray(node.operation.forward(*m, **node.attrs)) for m in moved)
    return (up - down) / (2 * h)


def test_a_distributors_factor_is_its_local_derivative():
    for expression, words, slope in (("1 - x", "×-1", -1.0), ("x - a", "×-1 to a", 1.0), ("a - x", "×-1 to x", -1.0)):
        trace = run_trace(unit_graph(expression, np.array([1.0, -2.0, 3.0])))
        row = next(r for r in trace.rows if r.node.name == "h")
        assert short_note(trace, row, lambda v: f"{float(v):g}") == words, expression
        h = 1e-6  # the oracle: how h moves with x
        up, down = (run_trace(unit_graph(expression, np.array([1.0, -2.0, 3.0]) + d)).values["h"] for d in (h, -h))
        np.testing.assert_allclose((up - down) / (2 * h), slope, atol=1e-6)
    trace = run_trace(backprop_cli.loads("inputs: {x: [1, 2, 3, 4]}\nnodes: {f: mean(x)}\noutput: f\n"))
    assert short_note(trace, trace.rows[-1], str) == "÷4"
    np.testing.assert_allclose(trace.gradients["x"], 0.25)  # each element moves the mean by a quarter
