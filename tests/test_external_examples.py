"""Worked examples translated from public sources (issue 24): tests/external_examples/*.yaml.

Each file says in its first comment lines where it comes from and what the source prints. Checked, per file:
- gradcheck passes (pass, or kink where the example sits on a tie, as JAX's where at x = 0 does), with the
  file's `expect:` answers: the numbers the source prints;
- the output and d output / d every leaf with a derivative equal torch.autograd's to 1e-9, torch running the
  source's own code (TORCH below, one function per file, written as the source writes it);
- `# derivatives: {wrt, order, values}`: backprop derivatives equals torch's repeated autograd.grad
  (create_graph) to 1e-9, and the numbers the source prints (to their printed precision, `rtol`);
- `# at: {...}` with `# at_gradients: {...}`: the gradient at another point the source shows.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

import backprop_cli
from backprop_cli.verify.derivatives import derivatives
from backprop_cli.verify.hessian import is_labels

EXAMPLES = sorted((Path(__file__).parent / "external_examples").glob("*.yaml"))
RTOL, ATOL = 1e-9, 1e-12


@pytest.fixture(scope="module")
def torch():
    try:
        import torch
    except ImportError as missing:
        if os.environ.get("BACKPROP_REQUIRE_TORCH") == "1":
            pytest.fail(f"BACKPROP_REQUIRE_TORCH=1 but torch cannot be imported: {missing}", pytrace=False)
        pytest.skip(f"torch is not installed ({missing})")
    return torch


def _header(path: Path) -> dict[str, object]:
    """The `# key: {...}` lines of the file's first comment block."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        key, _, rest = line[1:].strip().partition(": ")
        if key in ("derivatives", "at", "at_gradients"):
            found[key] = yaml.safe_load(rest)
    return found


# The source's code, in torch (T), on the file's leaves (L, float64 tensors): the output.
def _micrograd(T, L):
    a, b = L["a"], L["b"]
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    return g + 10.0 / f


def _masked_softmax(T, L):
    X, valid = L["X"], L["valid"]
    mask = T.arange(4)[None, :] < valid.reshape(2, 1)  # d2l: arange(maxlen)[None, :] < valid_len[:, None]
    flat = X.reshape(-1, 4).clone()
    flat[~mask.repeat_interleave(2, dim=0)] = -1e6  # X[~mask] = value, per row of each batch
    return (T.softmax(flat.reshape(2, 2, 4), dim=-1) * L["g"]).sum()


def _logistic(T, L):
    inputs = T.tensor([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15], [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]])
    targets = T.tensor([True, True, False, True])
    preds = 0.5 * (T.tanh((inputs @ L["W"] + L["b"]) / 2) + 1)
    label_probs = preds * targets + (1 - preds) * (1 - targets.double())
    return -T.sum(T.log(label_probs))


TORCH = {
    "autodidax_control_flow": lambda T, L: 2.0 * L["x"] if L["x"] > 0 else L["x"],
    "autodidax_jvp": lambda T, L: -(T.sin(L["x"]) * 2.0) + L["x"],
    "autodidax_sin_derivatives": lambda T, L: T.sin(L["x"]),
    "d2l_masked_softmax": _masked_softmax,
    "d2l_newton_curvature": lambda T, L: L["x"] * T.cos(0.15 * math.pi * L["x"]),
    "d2l_softmax_pick": lambda T, L: (
        -T.log(L["y_hat"][list(range(len(L["y_hat"]))), L["y"].long()]).mean() + L["y_hat"][[0, 1], L["y"].long()].sum()
    ),
    "jax_logistic_regression": _logistic,
    "jax_logistic_regression_data": lambda T, L: (
        -T.sum(
            T.log(
                (p := 0.5 * (T.tanh((L["inputs"] @ L["W"] + L["b"]) / 2) + 1)) * L["targets"].bool()
                + (1 - p) * (1 - L["targets"])
            )
        )
    ),
    "jax_polynomial_derivatives": lambda T, L: L["x"] ** 3 + 2 * L["x"] ** 2 - 3 * L["x"] + 1,
    "jax_safe_log_where": lambda T, L: T.log(T.where(L["x"] > 0.0, L["x"], 1.0)).sum(),
    "jax_tanh_derivatives": lambda T, L: T.tanh(L["x"]),
    "micrograd_readme": _micrograd,
    "numpy_boolean_rows": lambda T, L: (L["x"][(L["x"] > 20)[:, 5]] ** 2).sum() / 1000,
    "numpy_integer_array_indexing": lambda T, L: (
        (L["x"][T.tensor([3, 3, 1, 8])] * T.tensor([1.0, 2.0, 3.0, 4.0])).sum()
        + (L["x"][T.tensor([3, 3, -3, 8])] ** 2).sum()
    ),
    "numpy_mask_of_values": lambda T, L: (L["x"][L["x"] > 0] ** 2).sum() + L["x"][~(L["x"] > 0)].sum(),
    "numpy_pairs_indexing": lambda T, L: (
        L["x"][[0, 1, 2], [0, 1, 0]].sum()
        + (L["y"][T.tensor([0, 2, 4]), T.tensor([0, 1, 2])] * L["y"][T.tensor([0, 2, 4]), 1]).sum()
        + (L["y"][T.tensor([0, 2, 4])] ** 2).sum() / 100
    ),
    "numpy_where": lambda T, L: (
        T.where(T.tensor([[True, False], [True, True]]), L["a"], L["c"]) * T.tensor([[1.0, 2.0], [3.0, 4.0]])
    ).sum(),
    "pytorch_autograd_q": lambda T, L: ((3 * L["a"] ** 3 - L["b"] ** 2) * T.tensor([1.0, 1.0])).sum(),
    "pytorch_bce_logits": lambda T, L: T.nn.functional.binary_cross_entropy_with_logits(
        T.matmul(T.ones(5), L["w"]) + L["b"], T.zeros(3)
    ),
}


def test_every_example_has_its_torch_code():
    assert {p.stem for p in EXAMPLES} == set(TORCH)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_example_passes_gradcheck_and_its_printed_answers(path):
    graph = backprop_cli.load(str(path))
    report = backprop_cli.gradcheck(graph)
    assert report.passed and report.status in ("pass", "kink"), (report.status, report.errors)
    assert all(e.ok for e in report.expect), [(e.label, e.expected, e.actual) for e in report.expect if not e.ok]
    at = _header(path)
    if "at" in at:
        moved = backprop_cli.load(str(path), values=at["at"]).backward()
        for name, expected in at["at_gradients"].items():
            np.testing.assert_allclose(moved[name], expected, RTOL, ATOL)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_example_equals_torch(torch, path):
    torch.set_default_dtype(torch.float64)
    graph = backprop_cli.load(str(path))
    names = [n for n in graph.leaf_values if not is_labels(graph, n)]
    leaves = {n: torch.tensor(v, dtype=torch.float64, requires_grad=n in names) for n, v in graph.leaf_values.items()}
    out = TORCH[path.stem](torch, leaves)
    theirs = torch.autograd.grad(out, [leaves[n] for n in names], allow_unused=True)
    ours = graph.backward()
    np.testing.assert_allclose(graph.forward()[graph.output], out.item(), RTOL, ATOL)
    for name, grad in zip(names, theirs, strict=True):
        expected = np.zeros(graph.nodes[name].shape) if grad is None else grad.numpy()
        np.testing.assert_allclose(ours[name], expected, RTOL, ATOL, err_msg=f"d output / d {name}")


DERIVED = [p for p in EXAMPLES if "derivatives" in _header(p)]


@pytest.mark.parametrize("path", DERIVED, ids=[p.stem for p in DERIVED])
def test_derivatives_equal_torch_and_the_printed_numbers(torch, path):
    spec = _header(path)["derivatives"]
    graph = backprop_cli.load(str(path))
    found = derivatives(graph, spec["wrt"], spec["order"])
    assert found.status == "pass" and found.method == "contour", (found.status, found.notes)
    x = torch.tensor(float(graph.leaf_values[spec["wrt"]]), dtype=torch.float64, requires_grad=True)
    leaves = {n: torch.tensor(v, dtype=torch.float64) for n, v in graph.leaf_values.items()} | {spec["wrt"]: x}
    y, theirs = TORCH[path.stem](torch, leaves), []
    for _ in range(spec["order"]):
        theirs.append(y.item())
        (y,) = torch.autograd.grad(y, x, create_graph=True)
    theirs.append(y.item())
    scale = max(1.0, max(abs(v) for v in theirs))
    np.testing.assert_allclose(found.values, theirs, RTOL, RTOL * scale)  # torch's double backward, to 1e-9
    np.testing.assert_allclose(found.values, spec["values"], spec.get("rtol", 1e-12), 1e-12 * scale)
