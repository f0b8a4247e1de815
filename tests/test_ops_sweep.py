"""Generic sweep over the op table: every op's reverse rule and forward rule against central differences.

A newly registered op is swept the moment it is registered: its cases come from its shape rule.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from backprop_cli.engines.reverse_mode import unbroadcast
from backprop_cli.ops import OPS, shapes

CASES = {
    shapes.same: [((),), ((3, 4),)],
    shapes.broadcast: [((), ()), ((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), ()), ((2, 1), (2, 3))],
    shapes.reduction: [
        ((3, 4), {}),
        ((3, 4), {"axis": 0}),
        ((2, 3, 4), {"axis": [0, 2], "keepdims": True}),
        ((2, 3), {"axis": -1, "keepdims": True}),
    ],
    shapes.selection: [((3, 4), {}), ((3, 4), {"axis": 0}), ((2, 3, 4), {"axis": [0, 2], "keepdims": True})],
    shapes.along_axis: [((3, 4), {}), ((3, 4), {"axis": 0}), ((5,), {})],
    shapes.matmul: [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5))],
    shapes.transpose: [((3, 4), {}), ((2, 3, 4), {"axes": [1, 2, 0]})],
    shapes.reshape: [((3, 4), {"shape": [2, 6]}), ((3, 4), {"shape": [-1]})],
    shapes.equal_shapes: [((5,), (5,)), ((2, 3), (2, 3)), ((), ())],
    shapes.class_scores: [((4, 3), (4,)), ((3,), ())],
    shapes.conv2d: [
        ((2, 3, 6, 6), (2, 3, 3, 3), (2,), {}),
        ((3, 7, 7), (2, 3, 3, 3), (2,), {"stride": 2, "padding": 1}),
        ((1, 2, 5, 5), (3, 2, 3, 3), {}),
    ],
    shapes.pool2d: [((1, 2, 4, 4), {}), ((2, 5, 5), {"size": 3, "stride": 2})],
    shapes.index: [
        ((3,), {"at": [0]}),
        ((3, 4), {"at": [1, -2]}),
        ((3, 4), {"at": [[None, None, None], 1]}),
        ((5,), {"at": [[1, 3, None]]}),
        ((6,), {"at": [[None, None, 2]]}),
        ((5,), {"at": [[-1, None, -2]]}),
        ((2, 3, 4), {"at": [-1, [0, 2, None]]}),
        ((3, 4), (5,), {"at": ["array"]}),  # index arrays (repeats likely: their gradients add up)
        ((3, 4), (2, 2), (2,), {"at": ["array", "array"]}),
        ((2, 3, 4), (3,), {"at": ["array", [None, None, None], 1]}),  # apart: their axis goes first
    ],
    shapes.concat: [
        ((2,), (3,), {}),
        ((2, 3), (2, 1), (2, 2), {"axis": 1}),
        ((4,), {}),
        ((2, 3), (1, 3), {"axis": -2}),
    ],
    shapes.stack: [((), (), {}), ((2, 3), (2, 3), (2, 3), {"axis": 1}), ((3,), {"axis": -1})],
}
THREE_OPERANDS = [((), (), ()), ((3, 4), (), ()), ((3, 4), (4,), (3, 4)), ((2, 3), (2, 3), (2, 3))]  # clip


def cases_of(op) -> list | None:
    if op.shape is shapes.broadcast and op.arity == 3:
        return THREE_OPERANDS
    return CASES.get(op.shape)


def cases() -> list:
    return [
        pytest.param(op.name, case, id=f"{op.name}-{k}")
        for op in OPS.values()
        for k, case in enumerate(cases_of(op) or [None])
    ]


def sample(op, shape_list, attrs, rng):
    """Random operands in each argument's domain, resampled until no element sits near a kink."""
    for _ in range(100):
        xs = []
        for i, shape in enumerate(shape_list):
            domain = op.domain_of(i)
            if domain in ("positive", "nonzero", "above_minus_one"):
                x = np.abs(rng.standard_normal(shape)) + 0.5
            elif domain in ("unit", "off_poles"):
                x = rng.uniform(-0.9, 0.9, shape)
            elif domain == "above_one":
                x = np.abs(rng.standard_normal(shape)) + 1.5
            elif domain == "labels":
                classes = shape_list[0][-1]
                x = rng.integers(0, classes, shape).astype(float)
            elif domain == "sign":
                x = rng.choice([-1.0, 1.0], shape)
            elif domain in ("binary", "mask"):
                x = rng.integers(0, 2, shape).astype(float)
            elif domain == "indices":  # whole numbers inside the smallest axis of the operand indexed
                size = min(shape_list[0])
                x = rng.integers(-size, size, shape).astype(float)
            else:
                x = rng.standard_normal(shape)
            xs.append(np.asarray(x, dtype=float))
        if op.kinks is None or np.min(op.kinks.distance(*xs, **attrs), initial=np.inf) > 1e-2:
            return xs
    raise AssertionError(f"could not sample {op.name} away from its kinks")


def operands(op, case, purpose: str) -> tuple[list[np.ndarray], dict, np.random.Generator]:
    """A case's operands (sampled in their domains, away from kinks), its keywords and the rng that drew them."""
    *shape_list, attrs = case if isinstance(case[-1], dict) else (*case, {})
    attrs = {**op.attrs, **attrs}
    if op.shape is shapes.broadcast and shape_list == [(2, 1), (2, 3)]:
        attrs["broadcast"] = True
    rng = np.random.default_rng(zlib.crc32(f"{purpose}{op.name}{case}".encode()))
    return sample(op, shape_list, attrs, rng), attrs, rng


@pytest.mark.parametrize("name, case", cases())
def test_rules_match_central_differences(name, case):
    op = OPS[name]
    assert case is not None, f"op {name}: no sweep cases for its shape rule; add them to CASES"
    xs, attrs, rng = operands(op, case, "")
    out_shape = op.shape(*[np.shape(x) for x in xs], **attrs)
    out = np.asarray(op.forward(*xs, **attrs))
    assert out.shape == tuple(out_shape), f"{name}: shape rule says {out_shape}, forward gave {out.shape}"
    u = rng.standard_normal(out.shape)  # cotangent
    h = 1e-6
    if op.stops_gradient:  # declared: no derivative flows through, whatever the forward does
        np.testing.assert_array_equal(out, xs[0])
        for i, x in enumerate(xs):
            assert not np.any(op.vjp[i](u, out, *xs, **attrs)) and not np.any(op.jvp[i](x, out, *xs, **attrs))
        return
    for i in range(len(xs)):
        if op.vjp[i] is None:
            assert op.jvp[i] is None, f"{name}: argument {i} has a forward rule but no reverse rule"
            continue
        v = rng.standard_normal(np.shape(xs[i]))

        def phi(t, i=i, v=v):
            moved = [x + t * v if j == i else x for j, x in enumerate(xs)]
            return float(np.sum(u * op.forward(*moved, **attrs)))

        numeric = (phi(h) - phi(-h)) / (2 * h)
        g = unbroadcast(op.vjp[i](u, out, *xs, **attrs), np.shape(xs[i]))
        assert np.shape(g) == np.shape(xs[i]), f"{name}: reverse rule {i} returned shape {np.shape(g)}"
        reverse = float(np.sum(g * v))
        forward = float(np.sum(u * np.broadcast_to(op.jvp[i](v, out, *xs, **attrs), out.shape)))
        scale = max(1.0, abs(numeric))
        assert abs(reverse - numeric) < 1e-6 * scale, f"{name} arg {i}: VJP {reverse} vs numeric {numeric}"
        assert abs(forward - numeric) < 1e-6 * scale, f"{name} arg {i}: JVP {forward} vs numeric {numeric}"


def test_every_op_has_a_gate_kind_formula_and_local_words():
    for op in OPS.values():
        assert op.formula and op.gate_kind is not None
        assert len(op.local) == op.arity, f"{op.name}: one local-derivative text per argument"


@pytest.mark.parametrize("name, case", cases())
def test_declared_independent_slices_hold(name, case):
    """Op.independent (and elementwise ops' every axis) is a claim gradcheck's grouping relies on: moving one
    element of an operand changes the output only in the slice the claim maps it to."""
    from backprop_cli.graph import Node
    from backprop_cli.verify.batched import independent

    op = OPS[name]
    xs, attrs, rng = operands(op, case, "slices")
    out_shape = tuple(op.shape(*[np.shape(x) for x in xs], **attrs))
    leaves = {f"a{i}": Node(f"a{i}", "input", np.shape(x)) for i, x in enumerate(xs)}
    gate = Node("g", "gate", out_shape, op=name, inputs=tuple(leaves), attrs=attrs, operation=op)

    class Shapes:  # what independent() reads: the operands' shapes
        nodes = {**leaves, "g": gate}

    base = np.asarray(op.forward(*xs, **attrs))
    for i, x in enumerate(xs):
        mapping = independent(Shapes, gate, i)
        if not mapping or op.vjp[i] is None or np.size(x) == 0:
            continue
        for _ in range(3):
            flat = int(rng.integers(np.size(x)))
            where = np.unravel_index(flat, np.shape(x))
            moved = [np.array(v, dtype=float, copy=True) for v in xs]
            moved[i][where] += 0.05 if op.kinks is None else 1e-4  # stays in the domain
            changed = np.asarray(op.forward(*moved, **attrs)) != base
            outside = np.ones(out_shape, bool)
            for operand_axis, out_axis in mapping.items():
                keep = np.zeros(out_shape[out_axis], bool)
                keep[where[operand_axis]] = True
                outside &= ~keep.reshape([-1 if d == out_axis else 1 for d in range(len(out_shape))])
            assert not (changed & outside).any(), f"{name} argument {i}: {mapping} claims more than holds"


@pytest.mark.parametrize("name, case", [c for c in cases() if OPS[c.values[0]].kinks is not None])
def test_a_move_shorter_than_the_kink_distance_stays_on_its_piece(name, case):
    """Kinks.piece and Kinks.distance describe the same kinks: moving every operand by less than half the
    distance to the nearest kink keeps every element on its piece."""
    op = OPS[name]
    xs, attrs, rng = operands(op, case, "pieces")
    here = op.kinks.piece(*xs, **attrs)
    reach = float(np.min(op.kinks.distance(*xs, **attrs), initial=np.inf))
    for _ in range(5):
        moved = [
            x + (0.0 if op.domain_of(i) != "real" else rng.uniform(-1, 1, np.shape(x)) * min(reach, 1.0) * 0.49 / 2)
            for i, x in enumerate(xs)
        ]
        np.testing.assert_array_equal(op.kinks.piece(*moved, **attrs), here, err_msg=f"{name}: piece changed")


@pytest.mark.parametrize("name, case", cases())
def test_every_op_takes_the_complex_step_on_its_pieces(name, case):
    """Op.kinks = None claims the op is holomorphic, so gradcheck's complex step works through it; an op with
    kinks claims as much on each piece (backprop derivatives takes contour integrals there, off the kinks):
    Im Σ u·f(x + i·h·v) / h equals the reverse and forward rules, which take complex operands too."""
    op = OPS[name]
    xs, attrs, rng = operands(op, case, "complex")
    out = np.asarray(op.forward(*xs, **attrs))
    u = rng.standard_normal(out.shape)
    h = 1e-20
    for i in range(len(xs)):
        if op.vjp[i] is None:
            continue
        v = rng.standard_normal(np.shape(xs[i]))
        moved = [x + 1j * h * v if j == i else x for j, x in enumerate(xs)]
        step = float(np.sum(u * np.imag(op.forward(*moved, **attrs)))) / h
        if op.stops_gradient:  # a constant: the complex step does not pass either
            assert step == 0
            continue
        complex_out = np.asarray(op.forward(*moved, **attrs))
        g = unbroadcast(op.vjp[i](u + 0j, complex_out, *moved, **attrs), np.shape(xs[i]))
        reverse = float(np.sum(np.real(g) * v))
        tangent = np.broadcast_to(op.jvp[i](v + 0j, complex_out, *moved, **attrs), out.shape)
        forward = float(np.sum(u * np.real(tangent)))
        for rule, got in (("VJP", reverse), ("JVP", forward)):
            assert abs(got - step) <= 1e-9 * max(1.0, abs(step)), f"{name} arg {i}: {rule} {got} vs complex step {step}"
