"""Seeded minibatches of the inputs that hold a data set.

A graph file marks them with `data: true`; a batch size of m samples m rows of every such input
(the same rows of each) along the first axis.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..errors import GraphFileError, UsageError


def data_inputs(graph) -> tuple[list[str], int]:
    """The inputs marked `data: true` and their common number of examples (first axis)."""
    names = [n.name for n in graph.leaves if n.attrs.get("data")]
    count = 0
    for name in names:
        shape = graph.nodes[name].shape
        if not shape:
            raise UsageError(
                f"data input {name!r} is a scalar; data has examples along its first axis", graph.nodes[name].where
            )
        if count and shape[0] != count:
            first = names[0]
            raise GraphFileError(
                f"data input {name!r} has {shape[0]} examples, {first!r} has {count}: they must match",
                graph.nodes[name].where,
            )
        count = shape[0]
    return names, count


def minibatches(graph, batch_size: int, seed: int) -> Iterator[dict[str, np.ndarray]]:
    """Endless seeded minibatches: each epoch is a shuffle of the examples, cut into consecutive
    batches; a remainder smaller than the batch is left out so every batch has the same shape."""
    names, count = data_inputs(graph)
    if not names:
        raise UsageError(
            "minibatches need inputs marked as data (`x: {file: x.npy, data: true}`)", parameter="batch_size"
        )
    if not 1 <= batch_size <= count:
        raise UsageError(
            f"the batch size must be between 1 and the {count} examples of the data, not {batch_size}",
            parameter="batch_size",
        )
    full = {name: graph.leaf_values[name] for name in names}
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(count)
        for start in range(0, count - batch_size + 1, batch_size):
            rows = order[start : start + batch_size]
            yield {name: value[rows] for name, value in full.items()}
