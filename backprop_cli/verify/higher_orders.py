"""gradcheck --order N, N ≥ 3: per checked leaf, derivatives 3 to N of the output along one seeded direction,
Cauchy's formula on reverse mode against differences of matching order (verify/derivatives.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import PluginError
from ..graph import Graph
from .derivatives import derivatives
from .verdicts import LeafCheck, Report


def check_higher_orders(graph: Graph, report: Report, order: int, rtol, atol, seed: int) -> None:
    """gradcheck --order N, N ≥ 3: per checked leaf, derivatives 3 to N of the output along one seeded direction
    (the leaf itself when scalar), Cauchy's formula on reverse mode against differences of matching order."""
    report.order = order
    rng = np.random.default_rng(seed + 3)  # apart from the first and second orders' directions
    for name, leaf in report.leaves.items():
        if leaf.kind == "gate":
            continue
        u = rng.standard_normal(graph.nodes[name].shape)
        u = u / np.max(np.abs(u), initial=1e-300) if u.ndim else np.ones(())
        try:
            found = derivatives(graph, name, order, u, rtol=rtol, atol=atol)
        except PluginError as err:
            report.errors.append(f"order {order}: {err}")
            continue
        check = LeafCheck(name, leaf.kind, leaf.shape, found.method, "direction" if u.ndim else "full")
        check.directions = 1 if u.ndim else 0
        check.elements = 0 if u.ndim else 1
        check.notes = list(found.notes)
        if found.kink is not None:
            check.status, check.kinks = "kink", 1
        else:
            higher = [f for f in found.check.findings if f.index[0] + 1 >= 3]  # index (k - 1,): order k
            check.findings = [replace(f, index=None if u.ndim else ()) for f in higher]
            check.failures = sum(f.status == "fail" for f in higher)
            check.kinks = sum(f.status == "kink" for f in higher)
            check.status = "fail" if check.failures else "kink" if check.kinks else "pass"
            check.max_rel_error = max(found.relative_errors[2:])  # orders 3..N
            check.max_abs_error = max(abs(found.values[k] - found.reference[k]) for k in range(3, order + 1))
            check.worst_reverse, check.worst_numeric = found.values[order], found.reference[order]
        report.higher_order[name] = check
