"""Every op of the table as PyTorch calls, and a generated graph evaluated and differentiated by torch.autograd.

torch's own functions wherever one means the same thing; where a convention differs, the line says
how it is bridged. Imported only by tests/test_torch_differential.py, which skips or fails without torch.
"""

from __future__ import annotations

import numpy as np
import torch
from generated_graphs import Generated, Tree

F = torch.nn.functional


def _reduction(reduce):
    """sum/mean/amax/amin over the given axes; amax and amin split a tie's gradient evenly, as backprop's
    max and min do (torch.max(x, dim) would send it all to one index)."""

    def call(x: torch.Tensor, axis: object = None, keepdims: bool = False) -> torch.Tensor:
        if x.dim() == 0:
            return reduce(x)
        dims = range(x.dim()) if axis is None else axis if isinstance(axis, list) else [axis]
        return reduce(x, dim=tuple(dims), keepdim=keepdims)

    return call


def _prelu(x: torch.Tensor, a: torch.Tensor, broadcast: bool = False) -> torch.Tensor:
    """F.prelu where its form fits: one slope, or one per channel along axis 1; the formula elsewhere."""
    # NumPy's broadcast_shapes: torch's imports its symbolic-shapes module and sympy (~5 s of CPU, uncompiled)
    if np.broadcast_shapes(tuple(x.shape), tuple(a.shape)) == tuple(x.shape) and x.dim() >= 1:
        slopes = [n for n in (1,) * (x.dim() - a.dim()) + tuple(a.shape)]
        if all(n == 1 for n in slopes):
            return F.prelu(x, a.reshape(1))
        if x.dim() >= 2 and all(n == 1 for i, n in enumerate(slopes) if i != 1):
            return F.prelu(x, a.reshape(-1))
    return torch.where(x > 0, x, a * x)


def _elementwise(fn):
    return lambda a, b, broadcast=False: fn(a, b)


def _index(x: torch.Tensor, *arrays: torch.Tensor, at: list) -> torch.Tensor:
    """NumPy's indexing, torch's own: slices (the generator draws positive steps only: torch has no negative ones),
    whole numbers, index arrays as long tensors and masks (written true/false) as bool tensors."""
    operands = iter(arrays)

    def item(written: object) -> object:
        if written == "array":
            array = next(operands)
            return array if array.dtype == torch.bool else array.long()
        return slice(*written) if isinstance(written, list) else written

    return x[tuple(item(written) for written in at)]


def _mask(test):
    """A comparison, &, | or ~: a mask of 0s and 1s as a float64 tensor (no gradient flows back, as in torch)."""
    return lambda *xs, broadcast=False: test(*xs).to(torch.float64)


TORCH = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": lambda x: F.softplus(x, threshold=50.0),  # the default 20 returns x itself, 2e-9 off log(1 + e^x)
    "relu": torch.relu,
    "leaky_relu": lambda x, alpha=0.01: F.leaky_relu(x, alpha),
    "prelu": _prelu,
    "elu": lambda x, alpha=1.0: F.elu(x, alpha),
    "conv2d": lambda x, w, b=None, stride=1, padding=0: F.conv2d(x, w, b, stride, padding),
    "max_pool2d": lambda x, size=2, stride=None: F.max_pool2d(x, size, size if stride is None else stride),
    "identity": lambda x: x,
    "add": _elementwise(torch.add),
    "sub": _elementwise(torch.sub),
    "mul": _elementwise(torch.mul),
    "div": _elementwise(torch.div),
    "neg": torch.neg,
    "pow": _elementwise(torch.pow),
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "abs": torch.abs,
    "sin": torch.sin,
    "cos": torch.cos,
    "tan": torch.tan,
    "sinh": torch.sinh,
    "cosh": torch.cosh,
    "arcsin": torch.asin,
    "arccos": torch.acos,
    "arctan": torch.atan,
    "arcsinh": torch.asinh,
    "arccosh": torch.acosh,
    "arctanh": torch.atanh,
    "log1p": torch.log1p,
    "expm1": torch.expm1,
    "log2": torch.log2,
    "log10": torch.log10,
    "exp2": torch.exp2,
    "sign": torch.sign,  # its gradient is 0, at 0 too
    "square": torch.square,
    "clip": lambda x, lo, hi, broadcast=False: torch.clamp(x, lo, hi),  # min(max(x, lo), hi), as NumPy's clip
    "stop_gradient": torch.Tensor.detach,  # d2l's detach
    "index": _index,
    "concat": lambda *xs, axis=0: torch.cat(xs, dim=axis),
    "stack": lambda *xs, axis=0: torch.stack(xs, dim=axis),
    "maximum": _elementwise(torch.maximum),
    "minimum": _elementwise(torch.minimum),
    "matmul": torch.matmul,
    "sum": _reduction(torch.sum),
    "mean": _reduction(torch.mean),
    "max": _reduction(torch.amax),
    "min": _reduction(torch.amin),
    "softmax": lambda x, axis=-1: torch.softmax(x, axis),
    "log_softmax": lambda x, axis=-1: torch.log_softmax(x, axis),
    "transpose": lambda x, axes=None: x.permute(*(reversed(range(x.dim())) if axes is None else axes)),
    "reshape": lambda x, shape=None: x.reshape(shape),
    "mse": F.mse_loss,
    "cross_entropy": lambda z, labels: F.cross_entropy(z, labels.long()),  # mean over rows of -log_softmax[label]
    # cs231n's SVM loss sums the margins of a row; torch's multi_margin_loss divides them by the C classes
    "multiclass_hinge": lambda s, labels, margin=1.0: (
        F.multi_margin_loss(s, labels.long(), margin=margin) * s.shape[-1]
    ),
    "hinge": lambda s, y: torch.relu(1 - y * s).mean(),  # torch has no ±1 hinge (hinge_embedding_loss is another loss)
    "log_loss": F.binary_cross_entropy_with_logits,  # on logits, y ∈ {0, 1}
    "greater": _mask(torch.gt),
    "less": _mask(torch.lt),
    "greater_equal": _mask(torch.ge),
    "less_equal": _mask(torch.le),
    "equal": _mask(torch.eq),
    "not_equal": _mask(torch.ne),
    "logical_and": _mask(torch.logical_and),
    "logical_or": _mask(torch.logical_or),
    "logical_not": _mask(torch.logical_not),
    "where": lambda m, a, b, broadcast=False: torch.where(m != 0, a, b),
}


def evaluate_tree(tree: Tree, env: dict[str, torch.Tensor], seen: list[torch.Tensor]) -> torch.Tensor:
    """The tree's value; `seen` receives the value of every op in it."""
    if tree.op == "name":
        return env[tree.name]
    if tree.op == "num":
        return torch.tensor(tree.number, dtype=torch.float64)
    if tree.op == "literal":  # true/false: a bool tensor, which indexing reads as a mask
        return torch.tensor(dict(tree.attrs)["value"])
    if tree.op == "range":
        return torch.arange(int(tree.number))
    out = TORCH[tree.op](*(evaluate_tree(a, env, seen) for a in tree.args), **dict(tree.attrs))
    seen.append(out)
    return out


def _as_node(value: torch.Tensor) -> torch.Tensor:
    """A tensor of its own whose .grad is d f / d node (a node `n1: x1` must not share x1's .grad)."""
    if not value.requires_grad:
        return value.detach().clone().requires_grad_(True)
    node = value.clone()
    node.retain_grad()
    return node


def values_and_gradients(
    generated: Generated, seen: list[torch.Tensor] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The named nodes' values, and d f / d every leaf with a derivative and every named node
    (`seen`, if given, receives every op's output, its .grad kept)."""
    seen = [] if seen is None else seen
    env = {n: torch.tensor(leaf.value, dtype=torch.float64) for n, leaf in generated.leaves.items()}
    for n in generated.differentiable:
        env[n].requires_grad_(True)
    for n, tree in generated.trees.items():
        env[n] = _as_node(evaluate_tree(tree, env, seen))
    for out in seen:
        if out.requires_grad:
            out.retain_grad()
    env["f"].backward()
    names = [*generated.differentiable, *generated.trees]
    grads = {n: np.zeros(env[n].shape) if env[n].grad is None else env[n].grad.numpy() for n in names}
    return {n: env[n].detach().numpy() for n in generated.trees}, grads


def _function(generated: Generated, names: list[str], of: str = "f"):
    """node `of` as a function of the leaves `names` (the others held at their values), and those values."""
    fixed = {n: torch.tensor(leaf.value, dtype=torch.float64) for n, leaf in generated.leaves.items()}

    def f(*xs: torch.Tensor) -> torch.Tensor:
        env = dict(fixed)
        env.update(zip(names, xs, strict=True))
        for n, tree in generated.trees.items():
            env[n] = evaluate_tree(tree, env, [])
            if n == of:
                break
        return env[of]

    return f, tuple(fixed[n] for n in names)


def hessian(generated: Generated, names: list[str] | None = None) -> np.ndarray:
    """d²f over the given leaves (default: the differentiable ones), their elements flattened in order (torch's
    double backward)."""
    names = generated.differentiable if names is None else names
    f, inputs = _function(generated, names)
    blocks = torch.autograd.functional.hessian(f, inputs, vectorize=True)
    sizes = [int(x.numel()) for x in inputs]
    return np.block(
        [[blocks[i][j].reshape(sizes[i], sizes[j]).numpy() for j in range(len(names))] for i in range(len(names))]
    )


def jacobian(generated: Generated, of: str, wrt: str) -> np.ndarray:
    """d(of)/d(wrt), shaped of's shape + wrt's shape (torch.autograd.functional.jacobian)."""
    f, inputs = _function(generated, [wrt], of)
    return torch.autograd.functional.jacobian(f, inputs, vectorize=True)[0].numpy()
