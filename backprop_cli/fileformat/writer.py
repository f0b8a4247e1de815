"""A graph back to graph-file text: nodes as written, leaves with their current values.

`backprop train -o` writes trained parameters this way, and loading the text gives the
same graph again (same nodes, same values). `to_files` places the text somewhere else: large
values go to .npy files beside it, so the file stays well inside the loader's limits, and the
paths of data files and plugin modules are rewritten relative to the new place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from ..errors import UsageError
from ..graph import Graph, Node

INLINE_LIMIT = 1000  # elements of a value written into the YAML; a larger one goes to a .npy beside it
# libyaml's emitter where PyYAML has it: the same text as PyYAML's own, five times as fast (bench/writer_bench.py)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _plain(value: np.ndarray) -> float | list:
    value = np.asarray(value, dtype=float)
    return float(value) if value.ndim == 0 else value.tolist()


def _leaf(graph: Graph, node: Node, value: np.ndarray) -> object:
    """A leaf as written: a `file:` stays a reference while its value is unchanged; `data: true` stays; a mask
    is written with true/false."""
    if node.attrs.get("mask") and node.attrs.get("file") is None:
        return np.asarray(value).astype(bool).tolist()
    marks = {"data": True} if node.attrs.get("data") else {}
    file = node.attrs.get("file")
    if file is not None and np.array_equal(value, graph.leaf_values[node.name]):
        return {"file": file, **marks}
    return {"value": _plain(value), **marks} if marks else _plain(value)


def to_document(graph: Graph, values: dict[str, np.ndarray] | None = None, leaf=_leaf) -> dict:
    """The graph as plain data in the file format's key order; leaf(graph, node, value) writes each leaf."""
    values = graph.leaf_values if values is None else values
    doc: dict[str, object] = {}
    if graph.name:
        doc["name"] = graph.name
    if graph.about:
        doc["about"] = graph.about
    for kind, key in (("input", "inputs"), ("param", "params")):
        doc[key] = {n.name: leaf(graph, n, values[n.name]) for n in graph.leaves if n.kind == kind}
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
    if graph.training:
        doc["train"] = dict(graph.training)
    return doc


def dumps(graph: Graph, values: dict[str, np.ndarray] | None = None) -> str:
    """Graph-file text; floats are written with repr precision, so values round-trip exactly."""
    return _dump(to_document(graph, values))


def _dump(doc: dict) -> str:
    return yaml.dump(doc, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)


def to_files(
    graph: Graph, values: dict[str, np.ndarray], out: str, changed: frozenset[str] = frozenset()
) -> tuple[str, dict[str, np.ndarray]]:
    """The graph-file text to write at out, and the arrays to write beside it ({file name: array}).

    A leaf read from a file keeps its `file:` (relative to out's folder) while its value is unchanged and
    the file is inside that folder; any other value larger than INLINE_LIMIT elements goes to
    `<out's stem>.<leaf>.npy`. Leaves in changed count as changed (to know the files before training).
    Plugin modules must stay inside the graph's folder: a module out's folder
    cannot reach is refused (UsageError)."""
    old, new = Path(graph.source).resolve().parent, Path(out).resolve().parent
    arrays: dict[str, np.ndarray] = {}

    def leaf(graph: Graph, node: Node, value: np.ndarray) -> object:
        marks = {"data": True} if node.attrs.get("data") else {}
        file = node.attrs.get("file")
        same = node.name not in changed and np.array_equal(value, graph.leaf_values[node.name])
        place = _inside(old / str(file), new) if file is not None and same else None
        if place is not None:
            return {"file": place, **marks}
        if np.size(value) > INLINE_LIMIT:
            name = f"{Path(out).stem}.{node.name}.npy"
            arrays[name] = np.asarray(value)
            return {"file": name, **marks}
        return {"value": _plain(value), **marks} if marks else _plain(value)

    doc = to_document(graph, values, leaf)
    doc["ops"] = dict(doc.get("ops", {}))  # graph.plugin_ops itself stays as read
    if not doc["ops"]:
        del doc["ops"]
    for op, spec in doc.get("ops", {}).items():
        if isinstance(spec, dict) and isinstance(spec.get("module"), str):
            place = _inside(old / spec["module"], new)
            if place is None:
                raise UsageError(
                    f"-o {out}: op {op}'s module {spec['module']} would be outside the new file's folder "
                    f"(plugin modules must sit in the graph file's folder); write into {old} or a folder above it"
                )
            doc["ops"][op] = {**spec, "module": place}
    return _dump(doc), arrays


def _inside(path: Path, folder: Path) -> str | None:
    """path relative to folder, if it is inside it."""
    path = path.resolve()
    return path.relative_to(folder).as_posix() if path.is_relative_to(folder) else None
