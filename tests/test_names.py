"""A name that is not the graph's: one wording wherever an option or an argument names a leaf, a node or a group
(arguments.unknown_name), the nearest name suggested, the file's names listed when few, the flag that gave it,
exit 2."""

from __future__ import annotations

import re

import pytest

import backprop_cli
from backprop_cli.arguments import LISTED, unknown_name
from backprop_cli.errors import UsageError

CIRCUIT = "x, y, z, q, f"  # circuit's leaves x, y, z and gates q = x + y, f = q * z


@pytest.mark.parametrize(
    "args, flag, what, listed",
    [
        (["gradcheck", "circuit", "--wrt", "z1"], "--wrt", "leaf or node", f"leaves and nodes: {CIRCUIT}"),
        (["gradcheck", "circuit", "--wrt", "x,z1"], "--wrt", "leaf or node", f"leaves and nodes: {CIRCUIT}"),
        (["jacobian", "circuit", "--wrt", "z1"], "--wrt", "leaf or node", f"leaves and nodes: {CIRCUIT}"),
        (["jacobian", "circuit", "--of", "z1"], "--of", "node", f"nodes: {CIRCUIT}"),
        (["hessian", "circuit", "--wrt", "z1"], "--wrt", "leaf", "leaves: x, y, z"),
        (["derivatives", "circuit", "--wrt", "z1"], "--wrt", "leaf", "leaves: x, y, z"),  # said --direction
        (["derivatives", "circuit", "--wrt", "z1[0]"], "--wrt", "leaf", "leaves: x, y, z"),
        (["derivatives", "circuit", "--wrt", "z1", "--direction", "2"], "--wrt", "leaf", "leaves: x, y, z"),
        (["trace", "circuit", "--direction", "z1"], "--direction", "leaf", "leaves: x, y, z"),
        (["trace", "circuit", "--direction", "z1=2"], "--direction", "leaf", "leaves: x, y, z"),
        (["render", "circuit", "--direction", "z1", "-o", "-", "--format", "dot"], "--direction", "leaf", None),
        (["trace", "circuit", "--at", "z1=2"], "--at", "leaf", "leaves: x, y, z"),
        (["gradcheck", "circuit", "--at", "z1=2"], "--at", "leaf", "leaves: x, y, z"),
        (["train", "perceptron", "--at", "w1=2"], "--at", "leaf", None),
        (["render", "two_layer", "--collapse", "los", "-o", "-", "--format", "dot"], "--collapse", None, None),
    ],
)
def test_an_unknown_name_reads_the_same_in_every_command(run, args, flag, what, listed):
    result = run(*args)
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line, line
    name = "los" if flag == "--collapse" else "w1" if args[0] == "train" else "z1"
    what = what or "group or expanded node"
    assert line.startswith(f"backprop: error: {flag}: '{name}' is not a {what} of the graph; did you mean "), line
    near = re.search(r"did you mean '(\w+)'\?", line).group(1)
    assert near in ({"loss"} if flag == "--collapse" else {"z", "w"}), line
    if listed:
        assert line.endswith(f"({listed})"), line


def test_a_gate_where_a_leaf_is_wanted_is_said_to_be_one(run):
    result = run("hessian", "circuit", "--wrt", "q")
    assert result.exit_code == 2
    assert result.stderr.strip() == "backprop: error: --wrt: 'q' is a gate of the graph, not a leaf (leaves: x, y, z)"
    result = run("trace", "circuit", "--direction", "f")
    assert "'f' is a gate of the graph, not a leaf" in result.stderr


def test_the_list_names_the_files_nodes_not_the_gates_they_expand_into(run):
    """neuron_2d's dot expands into dot.mul1, dot.index1, ...: those are accepted, and suggested, but the list
    shows what the file wrote."""
    result = run("gradcheck", "neuron_2d", "--wrt", "dot.mull1")
    assert "did you mean 'dot.mul1'? (leaves and nodes: x, w, dot, f)" in result.stderr
    assert run("gradcheck", "neuron_2d", "--wrt", "dot.mul1").exit_code == 0


API_CALLS = [
    (lambda g: g.backward(wrt=["z1"]), "wrt", "leaf or node"),
    (lambda g: g.jvp({"z1": 1.0}), "tangents", "leaf"),
    (lambda g: g.with_values({"z1": 1.0}), "values", "leaf"),
    (lambda g: backprop_cli.gradcheck(g, wrt=["z1"]), "wrt", "leaf or node"),
    (lambda g: backprop_cli.jacobian(g, of="z1"), "of", "node"),
    (lambda g: backprop_cli.jacobian(g, wrt="z1"), "wrt", "leaf or node"),
    (lambda g: backprop_cli.hessian(g, wrt=["z1"]), "wrt", "leaf"),
    (lambda g: backprop_cli.derivatives(g, wrt="z1"), "wrt", "leaf"),
]


@pytest.mark.parametrize("call, parameter, what", API_CALLS)
def test_the_python_api_words_it_the_same(call, parameter, what):
    g = backprop_cli.load("circuit")
    with pytest.raises(UsageError) as caught:
        call(g)
    assert caught.value.parameter == parameter
    assert str(caught.value).startswith(f"'z1' is not a {what} of the graph; did you mean 'z'? (")


def test_many_names_are_cut_and_none_is_said():
    names = [f"w{i}" for i in range(40)]
    text = str(unknown_name("w400", "leaf", names, "wrt"))
    assert text.endswith(f"(leaves: {', '.join(names[:LISTED])}, … {40 - LISTED} more)"), text
    assert "; did you mean 'w4'? (" in text
    assert str(unknown_name("x", "group or expanded node", [], "collapse")).endswith("of the graph (it has none)")
    long = "n" * 10_000  # quoted shortened, never echoed whole
    assert len(str(unknown_name(long, "leaf", ["x"], "wrt"))) < 200


@pytest.mark.parametrize("example", ["two_layer", "mlp_float32", "neuron_2d", "softmax_l2"])
def test_a_one_letter_slip_of_each_leaf_suggests_that_leaf(example):
    """Generated slips of every leaf's name (a letter dropped, doubled, or its case changed) suggest it."""
    g = backprop_cli.load(example)
    for leaf in g.leaf_values:
        for slip in {leaf + leaf[-1], leaf.upper(), leaf[:-1] + "_" if len(leaf) > 2 else leaf + "_"} - set(g.nodes):
            with pytest.raises(UsageError) as caught:
                g.jvp({slip: 1.0})
            near = re.search(r"did you mean '([^']+)'\?", str(caught.value))
            assert near, str(caught.value)
            assert near.group(1) == leaf or slip.lower() == near.group(1).lower(), (slip, str(caught.value))
