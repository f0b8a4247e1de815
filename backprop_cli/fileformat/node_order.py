"""The order of a graph file's nodes: each after its operands (the file's order where it allows), and the nodes
the output does not depend on."""

from __future__ import annotations

from ..errors import GraphFileError
from ..graph import Node


def topological(nodes: dict[str, Node], order_hint: list[str]) -> list[str]:
    """Depth-first post-order with an explicit stack; a cycle is reported with its path."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    order: list[str] = []
    for root in order_hint:
        if state.get(root):
            continue
        state[root] = 1
        path = [root]
        stack = [iter([x for x in nodes[root].inputs if isinstance(x, str)])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done = path.pop()
                state[done] = 2
                order.append(done)
                continue
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt]
                shown = [nodes[n].origin or n for n in cycle]
                shown = [n for i, n in enumerate(shown) if i == 0 or n != shown[i - 1]]
                if len(shown) == 1 or shown[-1] != shown[0]:
                    shown.append(shown[0])
                raise GraphFileError(
                    f"cycle: {' → '.join(shown)}: a node cannot depend on itself, even through others: break the loop",
                    nodes[nxt].where,
                )
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter([x for x in nodes[nxt].inputs if isinstance(x, str)]))
    return order


def not_reaching(nodes: dict[str, Node], output: str, user_nodes: list[str]) -> list[str]:
    """The file's nodes the output does not depend on, in file order."""
    reached = {output}
    stack = [output]
    while stack:
        for x in nodes[stack.pop()].inputs:
            if isinstance(x, str) and x not in reached:
                reached.add(x)
                stack.append(x)
    return [name for name in user_nodes if name not in reached]
