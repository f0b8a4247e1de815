"""From a parsed graph file to a Graph: leaves, gates expanded from expressions, checks.

Every check happens here, before any gate's value is computed and before any `{shape, init}`
leaf is drawn: names, ops and their arguments, cycles, shapes, sizes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..engines.api import Graph
from ..errors import GraphFileError, Position, ShapeError, suggest
from ..graph import Const, Node
from ..ops import OPS, Op
from .expansion import Expander, Pending, offset_position
from .expressions import Call, ExpressionSyntaxError, Name, Num, parse_expression
from .leaves import LazyRng, leaf_marks, read_leaf
from .literals import numbers_only
from .masks import Positions, mask_counter, settle_operands, settle_result
from .node_order import not_reaching, topological
from .slips import misplaced_section, top_level_hint
from .yaml_source import Located

TOP_LEVEL = (
    "name", "about", "inputs", "params", "nodes", "output", "seed", "dtype", "expect", "ops", "minimum", "train",
    "require", "kink_margin", "points",
)  # fmt: skip
NODE_KEYS = {"op", "inputs", "expr", "group"}
DTYPES = {"float64": np.float64, "float32": np.float32}
CONSTANTS = {  # names people expect to be defined
    "e": "; there are no constants: for e ** x write exp(x), for e itself exp(1)",
    "pi": "; there are no constants: write the number 3.141592653589793",
    "π": "; there are no constants: write the number 3.141592653589793",
    "inf": "; there are no constants: write a large number (or 1e308)",
    "true": "; expressions compute numbers: write 1 or 0",
    "false": "; expressions compute numbers: write 1 or 0",
}
MAX_GRAPH_BYTES = 8 * 2**30  # values and gradients of every node together
MAX_GATES = 25_000  # ~100 µs and ~3 KB each to build; counted on the text, so a bigger file is refused at once


def _check_name(name: str, where: Position) -> None:
    """A name is a Python identifier (after NFC, as the whole file is read), but for the middle dot, which
    Python allows inside names and which reads as a product: `x·y` in an expression is refused as one."""
    if not name.isidentifier():
        raise GraphFileError(
            f"{name!r} is not a valid name: use letters, digits and _ (not starting with a digit)", where
        )
    if "·" in name:
        raise GraphFileError(
            f"{name!r} is not a valid name: '·' reads as a product; write {name.replace('·', '_')!r}", where
        )


def _node_definition(name: str, item: Located) -> tuple[object, Position, str | None]:
    """An expression tree from either form: `q: x + y` or `{op: add, inputs: [x, y], ...}`."""
    value = item.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Num(float(value), 0), item.where, None
    if isinstance(value, str):
        return _parse(value, item.where), item.where, None
    if isinstance(value, list) and numbers_only(item.plain()):  # c: [1, 2, 3], a constant node
        return _parse(json.dumps(item.plain()), replace(item.where, column=None)), item.where, None
    if not isinstance(value, dict):
        hint = "; [ ] make a YAML list: group with ( ) or quote the expression" if isinstance(value, list) else ""
        raise GraphFileError(f"node {name!r} must be an expression or a mapping with op and inputs{hint}", item.where)
    group = value["group"].value if "group" in value else None
    if group is not None and not isinstance(group, str):
        raise GraphFileError("group must be a name", value["group"].where)
    if "expr" in value:
        extra = set(value) - {"expr", "group"}
        if extra:
            raise GraphFileError(f"node {name!r}: {sorted(extra)[0]!r} does not go with expr", item.where)
        expr = value["expr"]
        if not isinstance(expr.value, str):
            raise GraphFileError("expr must be an expression", expr.where)
        return _parse(expr.value, expr.where), expr.where, group
    if "op" not in value:
        raise GraphFileError(f"node {name!r} needs op (or expr)", item.where)
    op = value["op"].value
    if not isinstance(op, str):
        raise GraphFileError("op must be an op name", value["op"].where)
    operands = value["inputs"].value if "inputs" in value else []
    if not isinstance(operands, list):
        raise GraphFileError("inputs must be a list of names or numbers", value["inputs"].where)
    args: list[object] = []
    for operand in operands:
        if isinstance(operand.value, (int, float)) and not isinstance(operand.value, bool):
            args.append(Num(float(operand.value), 0))
        elif isinstance(operand.value, str) and operand.value.isidentifier():
            args.append(Name(operand.value, 0))
        else:
            raise GraphFileError("an input must be a name or a number", operand.where)
    for key in value:
        if key not in NODE_KEYS and suggest(key, NODE_KEYS):  # input: for inputs: would read as a keyword
            raise GraphFileError(f"node {name!r}: unknown key {key!r}{suggest(key, NODE_KEYS)}", item.key_where[key])
    kwargs = tuple((k, v.plain()) for k, v in value.items() if k not in NODE_KEYS)
    return Call(op, tuple(args), kwargs, 0), value["op"].where, group


def _operations(item: Located) -> int:
    """An upper bound on the gates one node expands into, from its text alone (nothing is parsed)."""
    text = item.value.get("expr") if isinstance(item.value, dict) else item
    if not isinstance(text, Located) or not isinstance(text.value, str):
        return 1
    return max(1, sum(text.value.count(symbol) for symbol in "+-*/@(["))  # each gate has one; a bare name 1


def _parse(text: str, where: Position) -> object:
    try:
        return parse_expression(text)
    except ExpressionSyntaxError as err:
        raise GraphFileError(err.message, offset_position(where, err.offset)) from None


def build(doc: Located, source: str, allow_python: bool = False, values: dict[str, object] | None = None) -> Graph:
    """Check a parsed graph file and build its Graph. Raises GraphFileError with a position.
    values: leaf values to use instead of the file's (as --at gives them), read as Graph.with_values reads them."""
    if not isinstance(doc.value, dict):
        raise GraphFileError("a graph file is a mapping with inputs, params, nodes and output", doc.where)
    top: dict[str, Located] = doc.value
    for key in top:
        if key not in TOP_LEVEL:
            hint = top_level_hint(key, top[key].plain(), top, suggest(key, TOP_LEVEL))
            raise GraphFileError(f"unknown top-level key {key!r}{hint}", doc.key_where[key])
    for key in ("nodes", "output"):
        if key not in top:
            raise GraphFileError(f"missing top-level key {key!r}{misplaced_section(top, key)}", doc.where)

    def text_of(key: str) -> str:
        if key not in top or top[key].value is None:
            return ""
        value = top[key].value
        if not isinstance(value, (str, int, float)):
            raise GraphFileError(f"{key} must be one line of text", top[key].where)
        return str(value).strip()

    name, about = text_of("name"), text_of("about")
    if "\n" in about:
        raise GraphFileError("about must be one line", top["about"].where)

    dtype = np.dtype(np.float64)
    if "dtype" in top:
        if not isinstance(top["dtype"].value, str) or top["dtype"].value not in DTYPES:
            raise GraphFileError("dtype must be float64 or float32", top["dtype"].where)
        dtype = np.dtype(DTYPES[top["dtype"].value])
    seed = None
    if "seed" in top and top["seed"].value is not None:
        seed = top["seed"].value
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise GraphFileError("seed must be a whole number ≥ 0", top["seed"].where)
    base = Path(source).resolve().parent if Path(source).is_file() else Path.cwd()  # where `file:` leaves are

    # ------------------------------------------------ leaves: their shapes now, their values once every shape is known
    nodes: dict[str, Node] = {}
    makers: dict[str, Callable[[np.random.Generator], np.ndarray]] = {}
    for kind, key in (("input", "inputs"), ("param", "params")):
        if key not in top or top[key].value is None:
            continue
        section = top[key]
        if not isinstance(section.value, dict):
            hint = ": write `name: value` lines, without '- '" if isinstance(section.value, list) else ""
            raise GraphFileError(f"{key} must be a mapping of names to values{hint}", section.where)
        for leaf, item in section.value.items():
            where = section.key_where[leaf]
            _check_name(leaf, where)
            if leaf in nodes:
                raise GraphFileError(f"{leaf!r} is defined twice (inputs and params)", where)
            shape, makers[leaf] = read_leaf(item, leaf, dtype, base)
            marks = leaf_marks(item, leaf, kind)
            if marks.get("mask") and kind == "param":
                raise GraphFileError(
                    f"{leaf!r} is a mask (true/false), which has no derivative: put it in inputs", where
                )
            nodes[leaf] = Node(name=leaf, kind=kind, shape=shape, where=where, attrs=marks)

    # ------------------------------------------------ ops: the built-in table plus the file's plugin ops
    ops: dict[str, Op] = dict(OPS)
    if "ops" in top and top["ops"].value is not None:
        from .plugins import load_plugin_ops

        ops.update(load_plugin_ops(top["ops"], source, allow_python))

    # ------------------------------------------------ gates
    section = top["nodes"]
    if not isinstance(section.value, dict) or not section.value:
        hint = ""
        if (
            isinstance(section.value, list)
            or isinstance(section.value, str)
            and ("=" in section.value or ":" in section.value)
        ):
            hint = ": write each node as `name: expression` on its own line (a space after ':', no '=', no '- ')"
        raise GraphFileError(f"nodes must be a mapping of names to expressions{hint}", section.where)
    operations = sum(_operations(item) for item in section.value.values())
    if operations > MAX_GATES:
        raise GraphFileError(
            f"the nodes have {operations:,} operators and calls, more than the {MAX_GATES:,} a graph may have",
            section.where,
        )
    for node_name, item in section.value.items():  # names and kinds of value first: a slip on the last
        where = section.key_where[node_name]  # line of a long file is found before any expression is read
        _check_name(node_name, where)
        if node_name in nodes:
            raise GraphFileError(f"{node_name!r} is already a leaf; a node needs its own name", where)
        if isinstance(item.value, bool) or not isinstance(item.value, (int, float, str, dict)):
            _node_definition(node_name, item)  # says what is wrong with this kind of value
    definitions = [(name, *_node_definition(name, item)) for name, item in section.value.items()]  # parsed
    pending: list[Pending] = []
    user_nodes: list[str] = []
    for node_name, tree, expr_where, group in definitions:
        expander = Expander(node_name, expr_where, group, ops)
        expander.expand(tree)
        pending.extend(expander.gates)
        user_nodes.append(node_name)
        for p in expander.gates:
            nodes[p.node.name] = p.node

    for p in pending:
        for operand, at in zip(p.node.inputs, p.operand_at, strict=True):
            if isinstance(operand, str) and operand not in nodes:
                known = [n for n in nodes if "." not in n]
                hint = CONSTANTS.get(operand) or suggest(operand, known)
                raise GraphFileError(f"undefined name {operand!r}{hint}", at or p.node.where)

    output = top["output"].value
    if not isinstance(output, str):
        raise GraphFileError("output must be the name of one node, as in output: f", top["output"].where)
    if output not in nodes:
        from ..arguments import not_in_graph

        known = [n for n in nodes if nodes[n].kind == "gate" and "." not in n]
        raise GraphFileError(f"output: {not_in_graph(output, 'node', known)}", top["output"].where)
    if nodes[output].is_leaf:
        raise GraphFileError(
            f"output {output!r} is a leaf; it must be a node computed from the leaves", top["output"].where
        )

    if "expect" in top and top["expect"].value is not None:
        from .read_expect import check_expect_form

        check_expect_form(top["expect"], nodes)
    minima = []
    if "minimum" in top and top["minimum"].value is not None:
        from .minima import read_minima

        minima = read_minima(top["minimum"], [n for n in makers if nodes[n].kind == "param"])
    training = {}
    if "train" in top and top["train"].value is not None:
        from .training_defaults import read_training_defaults

        training = read_training_defaults(top["train"])
    points = None
    if "points" in top and top["points"].value is not None:
        from .points import read_points

        expect = top["expect"].plain() if "expect" in top else None
        plugin = list(top["ops"].value) if "ops" in top and isinstance(top["ops"].value, dict) else []
        asked = {"values": user_nodes, "gradients": [n for n in [*makers, *user_nodes] if n != output]}
        points = read_points(top["points"], list(makers), expect, plugin, asked)
    order = topological(nodes, list(makers) + [p.node.name for p in pending])
    leaves = _Leaves(makers, seed, {n: nodes[n] for n in makers}, dtype, values)
    positions = {p.node.name: p.operand_at for p in pending}
    ordered = _infer_shapes({n: nodes[n] for n in order}, dtype, positions, leaves)
    leaf_values = leaves()

    graph = Graph(
        nodes=ordered,
        leaf_values=leaf_values,
        output=output,
        dtype=dtype,
        name=name or _stem(source),
        about=about,
        source=source,
        seed=seed,
        expect=top["expect"].plain() if "expect" in top else None,
        definitions={name: item.plain() for name, item in section.value.items()},
        plugin_ops=(top["ops"].plain() or {}) if "ops" in top else {},  # `ops:` left empty (null): none
        minima=minima,
        training=training,
        points=points,
    )
    used = {x for n in graph.gates for x in n.inputs if isinstance(x, str)}
    for leaf in leaf_values:
        if leaf not in used:
            graph.warnings.append(f"{nodes[leaf].where}: warning: leaf {leaf!r} is not used by any node")
    idle = not_reaching(ordered, output, user_nodes)
    if idle:
        shown = ", ".join(idle[:10]) + (f" and {len(idle) - 10:,} more" if len(idle) > 10 else "")
        graph.warnings.append(
            f"{section.key_where[idle[0]]}: warning: node{'s' * (len(idle) > 1)} {shown} "
            f"{'do' if len(idle) > 1 else 'does'} not reach the output {output!r}: what {'they compute' if len(idle) > 1 else 'it computes'} "
            f"does not change {output}"
        )
    if any(hasattr(make, "spec") for make in makers.values()) or "require" in top or "kink_margin" in top:
        from .variants import attach_variants  # drawn leaves: the version of the file's seed, --at over it

        graph = attach_variants(graph, top, {n: m.spec for n, m in makers.items() if hasattr(m, "spec")}, values)
    return graph


class _Leaves:
    """The leaves' values, drawn once when first needed (a mask's count, or the end of the build): in file order,
    so the random draws are the same; then the values given instead (--at)."""

    def __init__(self, makers: dict, seed: int | None, nodes: dict[str, Node], dtype, values: dict | None) -> None:
        self.makers, self.seed, self.nodes, self.dtype, self.values = makers, seed, nodes, dtype, values
        self.drawn: dict[str, np.ndarray] | None = None

    def __call__(self) -> dict[str, np.ndarray]:
        if self.drawn is None:
            rng = LazyRng(self.seed)
            self.drawn = {leaf: make(rng) for leaf, make in self.makers.items()}
            if self.values:
                from ..engines.evaluate import set_leaf_values

                leaves_only = Graph(nodes=self.nodes, leaf_values=self.drawn, output="", dtype=self.dtype)
                self.drawn = set_leaf_values(leaves_only, self.values)
        return self.drawn


def _stem(source: str) -> str:
    if source == "<stdin>":  # a graph piped in (`backprop trace -`) without a name
        return "stdin"
    return source.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _infer_shapes(nodes: dict[str, Node], dtype: np.dtype, positions: Positions, leaves: _Leaves) -> dict[str, Node]:
    """Every gate's shape from its operands', before any gate is evaluated (but the gates a mask computed from the
    leaves needs, to count what it picks); refuses graphs too big for memory."""
    total = 0
    out: dict[str, Node] = {}
    masks: set[str] = set()
    count = mask_counter(out, leaves, dtype)
    for name, node in nodes.items():
        if node.is_leaf and node.attrs.get("mask"):  # a leaf written [true, false, ...]
            masks.add(name)
        if not node.is_leaf:
            node = settle_operands(node, out, nodes, masks, count, positions)
            shapes = [x.shape if isinstance(x, Const) else out[x].shape for x in node.inputs]
            try:
                shape = tuple(node.operation.shape(*shapes, **node.attrs))
            except ShapeError as err:
                raise ShapeError(f"node {name} = {node.expr}: {err.message}", node.where) from None
            except (TypeError, ValueError) as err:
                raise GraphFileError(f"node {name} = {node.expr}: bad argument ({err})", node.where) from None
            node = replace(node, shape=shape)  # made by the expander with a placeholder shape
            settle_result(node, out, masks, positions)
        total += math.prod(node.shape) * dtype.itemsize * 2
        if total > MAX_GRAPH_BYTES:
            raise GraphFileError(
                f"the graph needs more than {MAX_GRAPH_BYTES // 2**30} GiB for its values and gradients "
                f"(reached at node {name}, shape {list(node.shape)})",
                node.where,
            )
        out[name] = node
    return out
