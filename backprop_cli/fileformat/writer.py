"""A graph back to graph-file text: nodes as written, leaves with their current values.

`backprop train -o` writes trained parameters this way, and loading the text gives the
same graph again (same nodes, same values).
"""

from __future__ import annotations

import numpy as np
import yaml

from ..graph import Graph, Node


def _plain(value: np.ndarray) -> float | list:
    value = np.asarray(value, dtype=float)
    return float(value) if value.ndim == 0 else value.tolist()


def _leaf(graph: Graph, node: Node, value: np.ndarray) -> object:
    """A leaf as written: a `file:` stays a reference while its value is unchanged; `data: true` stays."""
    marks = {"data": True} if node.attrs.get("data") else {}
    file = node.attrs.get("file")
    if file is not None and np.array_equal(value, graph.leaf_values[node.name]):
        return {"file": file, **marks}
    return {"value": _plain(value), **marks} if marks else _plain(value)


def to_document(graph: Graph, values: dict[str, np.ndarray] | None = None) -> dict:
    """The graph as plain data in the file format's key order."""
    values = graph.leaf_values if values is None else values
    doc: dict[str, object] = {}
    if graph.name:
        doc["name"] = graph.name
    if graph.about:
        doc["about"] = graph.about
    for kind, key in (("input", "inputs"), ("param", "params")):
        doc[key] = {n.name: _leaf(graph, n, values[n.name]) for n in graph.leaves if n.kind == kind}
    if graph.plugin_ops:
        doc["ops"] = graph.plugin_ops
    doc["nodes"] = dict(graph.definitions)
    doc["output"] = graph.output
    if graph.seed is not None:
        doc["seed"] = graph.seed
    if graph.dtype != np.float64:
        doc["dtype"] = graph.dtype.name
    if graph.expect is not None:
        doc["expect"] = graph.expect
    if graph.minima:
        doc["minimum"] = graph.minima[0] if len(graph.minima) == 1 else list(graph.minima)
    return doc


def dumps(graph: Graph, values: dict[str, np.ndarray] | None = None) -> str:
    """Graph-file text; floats are written with repr precision, so values round-trip exactly."""
    return yaml.safe_dump(to_document(graph, values), sort_keys=False, allow_unicode=True, width=100)
