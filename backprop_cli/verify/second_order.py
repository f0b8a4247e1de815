"""gradcheck --order 2: second derivatives, as torch's gradgradcheck checks them.

Hessian-vector products H·v (the complex step on reverse mode where every op on the path is analytic, else
central differences of gradients) against Richardson-extrapolated differences of reverse-mode gradients.
Along every element of the checked leaves (the Hessian's columns) while they have at most AUTO_FULL_LIMIT
elements in all, else along seeded random directions (and a sample of columns in sample mode). A column
e_i judges column i of the Hessian for the leaf of element i; a random direction judges, for each leaf,
that leaf's rows of H·v.
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..graph import Graph
from .hessian import Gradients, hvp_differences, hvp_exact, second_order_tolerance, settled
from .verdicts import Judge, LeafCheck

AUTO_FULL_LIMIT = 2048  # as gradcheck's: every column up to this many elements in all


def check_second_order(
    graph: Graph,
    names: list[str],
    *,
    mode: str = "auto",
    samples: int = 20,
    directions: int = 2,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> dict[str, LeafCheck]:
    """Per leaf, the verdict on its second derivatives (see the module docstring)."""
    if graph.nodes[graph.output].shape != ():
        raise UsageError(
            f"--order 2 needs a scalar output (second derivatives of a sum would hide which element is wrong); "
            f"{graph.output} has shape {graph.nodes[graph.output].shape}"
        )
    if not names:
        return {}
    grads = Gradients(graph, names)
    n = grads.size
    rng = np.random.default_rng(seed + 2)  # apart from the first-order check's directions
    method = "complex" if grads.analytic else "central"
    if mode == "full" or (mode == "auto" and n <= AUTO_FULL_LIMIT):
        columns = np.arange(n)
    elif mode == "direction":
        columns = np.zeros(0, int)
    else:
        columns = np.sort(rng.choice(n, min(samples, n), replace=False))
    count = directions if len(columns) < n else 0
    vs = np.zeros((len(columns) + count, n))
    vs[np.arange(len(columns)), columns] = 1
    if count:
        u = rng.standard_normal((count, n))
        vs[len(columns) :] = u / np.max(np.abs(u), axis=1, keepdims=True)
    exact = hvp_exact(grads, vs, method)
    numeric, gate = hvp_differences(grads, vs)  # flat: row k, entry j at k·n + j
    if method != "complex":  # differences of the same gradients: extrapolated where they settled (hessian.settled)
        exact = settled(exact, numeric, gate)
    tolerance = second_order_tolerance(graph.dtype.name, rtol, atol)
    scale = float(np.max(np.abs(exact), initial=0.0)) or 1.0
    owner = np.repeat(np.arange(len(names)), grads.sizes)
    checks = {}
    for leaf_index, (name, shape) in enumerate(zip(names, grads.shapes, strict=True)):
        leaf = LeafCheck(
            name,
            graph.nodes[name].kind,
            shape,
            "complex" if method == "complex" else "central",
            "full" if len(columns) == n else "sample" if len(columns) else "direction",
        )
        if method != "complex":
            leaf.notes.append("second order: an op on the path is not analytic: H·v by differences of gradients")
        judge = Judge(tolerance, scale, leaf)
        start = grads.offsets[leaf_index]
        mine = np.flatnonzero(owner[columns] == leaf_index)  # the columns along this leaf's elements
        if len(mine):
            entries = (mine[:, None] * n + np.arange(n)[None, :]).reshape(-1)
            index = np.repeat(columns[mine] - start, n)  # findings name the element whose column it is
            judge.add(index, exact[mine].reshape(-1), None, numeric.take(entries), np.repeat(gate[mine], n))
            leaf.elements = len(mine)
        if count:
            rows = np.arange(len(columns), len(vs))
            entries = (rows[:, None] * n + np.arange(start, start + grads.sizes[leaf_index])[None, :]).reshape(-1)
            flat = exact.reshape(-1)[entries]
            judge.add(None, flat, None, numeric.take(entries), np.repeat(gate[rows], grads.sizes[leaf_index]))
            leaf.directions = count
        checks[name] = leaf
    why = "second order: a random direction crosses kinks with a value outside its one-sided slopes"
    unresolved = [c for c in checks.values() if c.unresolved and c.status != "fail"] if len(columns) < n else []
    if unresolved and n <= AUTO_FULL_LIMIT:  # the columns decide at a kink, as gradcheck's elements do
        checks = check_second_order(graph, names, mode="full", rtol=rtol, atol=atol, seed=seed)
        for leaf in unresolved:
            checks[leaf.name].notes.append(f"{why}: every column checked")
        return checks
    for leaf in unresolved:  # too many columns to check them all
        leaf.status = "fail"
        leaf.notes.append(f"{why}; check every column with --mode full")
    return checks
