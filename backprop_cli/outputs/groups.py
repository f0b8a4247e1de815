"""Groups: where each node is drawn. A group (the `group:` key) is a cluster box around its gates
and the leaves only it reads; a collapsed group, or a collapsed file node that expanded into several
gates, is one box, and the wires into it from one node are drawn as one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..errors import UsageError
from ..graph import Graph
from .routes import Routes, Wire

OUTPUT_ID = "out"  # the output's own wire ends here
ALL_GROUPS = "*"  # --collapse given without names


def collapse_names(graph: Graph, wanted: str | None) -> frozenset[str]:
    """--collapse: None (nothing), ALL_GROUPS, or a comma-separated list of groups and of file nodes
    that expanded into several gates (sigmoid_neuron's f)."""
    if wanted is None:
        return frozenset()
    groups = {node.group for node in graph.gates if node.group is not None}
    if wanted == ALL_GROUPS:
        if not groups:
            raise UsageError("--collapse: the graph has no groups (give nodes a group:), or name nodes to collapse")
        return frozenset(groups)
    counts = Counter(node.origin for node in graph.gates)
    choices = groups | {origin for origin, n in counts.items() if n > 1}
    from ..fileformat.option_values import name_list

    names = frozenset(name_list("--collapse", wanted))
    for name in sorted(names):
        if name not in choices:
            from ..arguments import unknown_name

            raise unknown_name(name, "group or expanded node", sorted(choices), "collapse", gates=graph.nodes)
    return names


def expanded_nodes(graph: Graph) -> frozenset[str]:
    """The file nodes that expanded into several gates (drawn as one box each on a big graph)."""
    counts = Counter(node.origin for node in graph.gates)
    return frozenset(origin for origin, n in counts.items() if n > 1)


def big_graph_boxes(graph: Graph, limit: int) -> frozenset[str]:
    """Above `limit` gates, the nodes whose gates are drawn as one box each (none below it)."""
    return expanded_nodes(graph) if len(graph.gates) > limit else frozenset()


@dataclass
class Shown:
    """A wire as drawn: between two boxes, possibly several wires merged into a collapsed box."""

    tail_id: str
    head_id: str
    parts: list[Wire] = field(default_factory=list)


class Placement:
    """DOT ids (n0, n1, ... per node, b0, b1, ... per collapsed box) and what is drawn where."""

    def __init__(self, graph: Graph, routes: Routes, collapse: frozenset[str], copies: int = 0) -> None:
        """copies > 0: a leaf drawn with more wires than that gets one copy of its box per wire (n3x1,
        n3x2, ...): one param read all along a big graph would cost dot a wire through every column."""
        self.graph, self.routes, self.collapse, self.copies = graph, routes, collapse, copies
        self.copied: dict[str, int] = {}  # leaf -> how many copies of its box
        self.ids = {name: f"n{i}" for i, name in enumerate(graph.nodes)}
        self.boxes: dict[str, str] = {}  # collapse key -> box id
        self.members: dict[str, list[str]] = {}  # collapse key -> its gates
        for node in graph.gates:
            key = self.collapse_key(node.name)
            if key is not None:
                self.boxes.setdefault(key, f"b{len(self.boxes)}")
                self.members.setdefault(key, []).append(node.name)
        self.shown = self._shown_wires()

    def collapse_key(self, name: str) -> str | None:
        node = self.graph.nodes[name]
        if node.is_leaf:
            return None
        if node.group is not None and node.group in self.collapse:
            return node.group
        return node.origin if node.origin in self.collapse else None

    def shown_id(self, name: str | None) -> str:
        if name is None:
            return OUTPUT_ID
        key = self.collapse_key(name)
        return self.boxes[key] if key is not None else self.ids[name]

    def shown_wires(self) -> list[Shown]:
        return self.shown

    def _shown_wires(self) -> list[Shown]:
        shown: dict[tuple, Shown] = {}
        for wire in self.routes.wires:
            tail_id, head_id = self.shown_id(wire.tail), self.shown_id(wire.head)
            if tail_id == head_id:
                continue  # inside a collapsed box
            into_box = head_id.startswith("b")
            key = (tail_id, head_id, wire.tail) if into_box else (tail_id, head_id, wire.tail, wire.head, wire.slot)
            shown.setdefault(key, Shown(tail_id, head_id)).parts.append(wire)
        drawn = list(shown.values())
        if self.copies:
            leaves = {self.ids[leaf.name]: leaf.name for leaf in self.graph.leaves}
            count = Counter(s.tail_id for s in drawn if s.tail_id in leaves)
            self.copied = {leaves[i]: n for i, n in count.items() if n > self.copies}
            made: Counter[str] = Counter()
            for s in drawn:
                if leaves.get(s.tail_id) in self.copied:
                    made[s.tail_id] += 1
                    s.tail_id = f"{s.tail_id}x{made[s.tail_id]}"
        return drawn

    def clusters(self) -> dict[str, list[str]]:
        """Uncollapsed groups -> their gates, and the leaves read only by that group."""
        groups: dict[str, list[str]] = {}
        for node in self.graph.gates:
            if node.group is not None and node.group not in self.collapse:
                groups.setdefault(node.group, []).append(node.name)
        member = {name: group for group, names in groups.items() for name in names}
        for leaf in self.graph.leaves:
            readers = {w.head for w in self.routes.out.get(leaf.name, [])}
            homes = {member.get(r) for r in readers}
            if len(homes) == 1 and None not in homes:
                groups[homes.pop()].insert(0, leaf.name)
        return groups
