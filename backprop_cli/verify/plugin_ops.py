"""Each plugin op on its own (issue 20).

A backward that ignores its upstream gradient (returns 2·x for x·x, not 2·x·g) is right wherever the graph
hands the op ones, as `L: sum(k(x))` does: a check of the graph's leaves then passes it. So, once the leaves
pass, every plugin node is checked alone, as the lectures' numerical gradient checks do it: its inputs become
leaves (at their values in the graph), its output the output, projected on a seeded random upstream gradient.
"""

from __future__ import annotations

from collections.abc import Callable

from ..graph import Graph, Node
from ..ops import OPS
from .op_slips import name_slips
from .verdicts import LeafCheck, Report


def check_alone(
    graph: Graph, values: dict, skipped: dict[str, str], run: Callable[[Graph], Report]
) -> dict[str, LeafCheck]:
    """{"node: input": the verdict on that input of the plugin node, checked alone} (run: gradcheck on a graph)."""
    found: dict[str, LeafCheck] = {}
    for node in graph.gates:
        if OPS.get(node.op) is node.operation or node.name in skipped:  # built-in, or never reached
            continue
        inputs = list(dict.fromkeys(x for x in node.inputs if isinstance(x, str)))
        if not inputs:
            continue
        sub = alone(graph, node, values, inputs)
        report = run(sub)
        failing = [name for name, leaf in report.leaves.items() if leaf.status == "fail"]
        slips = name_slips(sub, failing, seed=len(found)) if failing and not report.errors else {}
        for name, leaf in report.leaves.items():
            leaf.kind = "op"
            if report.errors and leaf.status == "pass":
                leaf.status = "fail"
                leaf.notes += report.errors
            leaf.slip, leaf.slip_hint = slips.get(name, (None, ""))
            if leaf.slip is None and "not summed over the batch" in " ".join(leaf.notes):
                leaf.slip, leaf.slip_hint = "batch_sum", next(n for n in leaf.notes if "not summed" in n)
            found[f"{node.name}: {name}"] = leaf
    return found


def alone(graph: Graph, node: Node, values: dict, inputs: list[str]) -> Graph:
    """The graph of one node: its inputs as leaves holding their values, the node as the output."""
    leaves = {x: Node(x, "param", tuple(graph.nodes[x].shape), graph.nodes[x].where) for x in inputs}
    return Graph(
        nodes={**leaves, node.name: node},
        leaf_values={x: values[x] for x in inputs},
        output=node.name,
        dtype=graph.dtype,
        name=graph.name,
        source=graph.source,
    )
