"""A file node's gates folded into the lecture's one step from the node to each of its operands
(o: w7*h1 + w8*h2 is one step do/dh1 = w7, not a mul and an add): used by --explain and by gradcheck's
explanation of a wrong `expect:` answer."""

from __future__ import annotations

import re

import numpy as np

from .trace import Row, Trace


def node_partials(trace: Trace, rows: list[Row]) -> dict[str, tuple[float, str, float]]:
    """For a scalar file node (its gates, in order): operand outside the node -> (the node's gradient, the
    local derivative in words, its value), the lecture's one step from the node to each operand."""
    root = rows[-1]
    if np.ndim(root.value) != 0 or root.gradient is None:
        return {}
    inner = {r.node.name for r in rows}
    local = {root.node.name: 1.0}
    words: dict[str, list[str]] = {root.node.name: []}
    outside: dict[str, list[tuple[float, list[str]]]] = {}
    for row in reversed(rows):
        here, path = local.get(row.node.name), words.get(row.node.name)
        if here is None:
            continue
        for edge in row.edges:
            if not edge.is_node:
                continue
            if edge.local is None or np.ndim(edge.local) != 0:
                return {}  # a tensor inside: the gate steps say it better
            factor = [] if edge.local_text == "1" else [edge.local_text]
            value, text = here * float(edge.local), path + factor
            if edge.operand in inner:
                local[edge.operand] = local.get(edge.operand, 0.0) + value
                words[edge.operand] = text  # one path's words; several paths are summed in numbers
            else:
                outside.setdefault(edge.operand, []).append((value, text))
    name = root.node.name
    inner_names = sorted(inner - {name}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(n) for n in inner_names)) if inner_names else None
    exprs = {r.node.name: f"({r.node.expr})" for r in rows}
    partials = {}
    for operand, paths in outside.items():
        text = " + ".join(" · ".join(t) or "1" for _, t in paths)
        if pattern:  # inner gates by what they compute: 2·(o - gold), not 2·L.sub1
            for _ in range(len(rows)):
                text, count = pattern.subn(lambda m: exprs[m.group(0)], text)
                if not count:
                    break
        partials[operand] = (float(root.gradient), text, sum(v for v, _ in paths))
    return partials
