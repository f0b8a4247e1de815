"""Generic sweep: every analytic op's reverse rules take complex values as the analytic continuation of
the derivative, which the complex-step Hessian (backprop hessian, gradcheck --order 2) relies on.

For each op, case and argument pair (i, j): the derivative of reverse rule i along a direction of
argument j, by the complex step (Im vjp_i(x + i·h·v)/h), against central differences of vjp_i.
A rule written with abs, real, conj or a comparison on its input would pass the first-order sweep
and fail here. Ops with kinks too, off their kinks (the cases are drawn there): each piece is analytic, which
`backprop derivatives` relies on for its contour integrals.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from test_ops_sweep import cases, sample

from backprop_cli.engines.reverse_mode import unbroadcast
from backprop_cli.ops import OPS, shapes


@pytest.mark.parametrize("name, case", cases())
def test_reverse_rules_are_complex_step_differentiable(name, case):
    op = OPS[name]
    *shape_list, attrs = case if isinstance(case[-1], dict) else (*case, {})
    attrs = {**op.attrs, **attrs}
    if op.shape is shapes.broadcast and shape_list == [(2, 1), (2, 3)]:
        attrs["broadcast"] = True
    rng = np.random.default_rng(zlib.crc32(f"second{name}{case}".encode()))
    xs = sample(op, shape_list, attrs, rng)
    out = np.asarray(op.forward(*xs, **attrs))
    u = rng.standard_normal(out.shape)  # the upstream gradient: fixed, as H·v fixes it

    def grad(i: int, moved: list) -> np.ndarray:
        y = np.asarray(op.forward(*moved, **attrs))
        return unbroadcast(op.vjp[i](u.astype(y.dtype), y, *moved, **attrs), np.shape(xs[i]))

    for j in range(len(xs)):
        if op.vjp[j] is None:
            continue
        v = rng.standard_normal(np.shape(xs[j]))
        for i in range(len(xs)):
            if op.vjp[i] is None:
                continue
            step = 1e-20
            complex_moved = [x + 1j * step * v if k == j else x.astype(complex) for k, x in enumerate(xs)]
            exact = np.imag(grad(i, complex_moved)) / step
            h = 1e-5
            plus = grad(i, [x + h * v if k == j else x for k, x in enumerate(xs)])
            minus = grad(i, [x - h * v if k == j else x for k, x in enumerate(xs)])
            numeric = (plus - minus) / (2 * h)
            scale = max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
            assert np.max(np.abs(exact - numeric), initial=0.0) < 1e-6 * scale, (
                f"{name}: d(reverse rule {i})/d(argument {j}) by the complex step differs from differences"
            )
