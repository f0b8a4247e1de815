"""Plugin ops: ops a graph file declares in a Python file next to it (`ops:`), the homework use case.

    ops:
      affine:
        module: layers.py          # relative to the graph file, and inside its folder
        forward: affine_forward    # forward(*inputs, **attrs) -> array
        backward: affine_backward  # backward(upstream, *inputs, **attrs) -> one gradient per input
        jvp: affine_jvp            # optional: jvp(tangents, *inputs, **attrs) -> tangent of the output
        cache: true                # optional: cs231n style, forward -> (out, cache), backward(upstream, cache)
        labels: [y]                # optional: inputs that are class labels (not differentiated)
        gate: switcher             # optional: the gate kind shown in explanations and diagrams

The forward function's positional parameters are the op's inputs; its parameters with defaults are the
keyword arguments a node may pass. Loading Python is code execution, so it happens only when the caller
allows it (`--allow-python`, or `allow_python=True` in the Python API), and then in a worker process of
its own (sandbox.py): backprop's process never imports the student's code. Whatever the student's code
does wrong (raises, returns the wrong number of gradients, wrong shapes, NaN, complex numbers) becomes a
PluginError naming the op and the function, never a traceback; a crash, a kill, or running out of time or
memory is a StudentCodeError.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import GraphFileError, PluginError, ShapeError, shortened, suggest
from ..ops import OPS, GateKind, Op
from .sandbox import LoadRefused, start
from .student import wrong_gradient_shape
from .worker import Worker
from .yaml_source import Located

MAX_AXES = 32  # of an op's output
KEYS = ("module", "forward", "backward", "jvp", "cache", "labels", "gate")
# A stopper's output is a constant to every check (Op.stops_gradient): the numerical reference would hold the
# student's op constant and the backward would never be compared with anything, so a plugin may not be one.
GATES = {kind.role: kind for kind in GateKind if kind is not GateKind.STOPPER}
REFUSED_GATES = {
    GateKind.STOPPER.role: "gradcheck would treat its output as a constant and never check its backward; "
    "to stop a gradient, write stop_gradient(...) in the node's expression"
}


def load_plugin_ops(section: Located, source: str, allow_python: bool) -> dict[str, Op]:
    """{op name: Op} for each entry of the `ops:` block. Raises GraphFileError."""
    if not isinstance(section.value, dict):
        raise GraphFileError("ops must be a mapping of op names to {module, forward, backward}", section.where)
    _refuse_gates(section)  # before --allow-python: a file that cannot be checked is refused either way
    if not allow_python:
        raise GraphFileError(
            "this graph file loads Python code for its ops; run with --allow-python if you trust it", section.where
        )
    if not hasattr(os, "fork"):
        raise GraphFileError("plugin ops run in a worker process, which needs fork (Linux, macOS)", section.where)
    folder = Path(source).resolve().parent
    specs = {}
    for name, item in section.value.items():
        where = section.key_where[name]
        if not name.isidentifier():
            raise GraphFileError(f"{name!r} is not a valid op name", where)
        if name in OPS:
            raise GraphFileError(f"{name!r} is a built-in op; give the plugin op another name", where)
        specs[name] = _spec(name, item, folder)
    if not specs:
        return {}
    try:
        worker, found = start(str(folder), specs)
    except LoadRefused as err:
        item = section.value.get(err.op)
        entry = item.value.get(err.key) if item is not None and err.key else None
        where = entry.where if entry is not None else item.where if item is not None else section.where
        raise GraphFileError(err.message, where) from None
    return {name: _plugin_op(name, section.value[name], worker, specs[name], found[name]) for name in specs}


def audit(graph) -> None:
    """Before a verdict on a graph with plugin ops: each worker's questions asked again in a fresh worker, in
    another order (replay.py); StudentCodeError naming the op whose code is not a function of its inputs."""
    workers = {}
    for node in graph.gates:
        code = getattr(node.operation.forward, "code", None)
        if isinstance(code, _StudentCode):
            workers[id(code.worker)] = code.worker
    for worker in workers.values():
        worker.audit()


def _refuse_gates(section: Located) -> None:
    """A gate kind that would weaken the check of the student's code is refused, naming the op."""
    for name, item in section.value.items():
        gate = item.value.get("gate") if isinstance(item.value, dict) else None
        if gate is not None and isinstance(gate.value, str) and gate.value in REFUSED_GATES:
            raise GraphFileError(
                f"op {name}: gate {gate.value} is not allowed for a plugin op: {REFUSED_GATES[gate.value]}", gate.where
            )


def _text(item: Located, key: str, required: bool = True) -> str | None:
    entry = item.value.get(key)
    if entry is None:
        if required:
            raise GraphFileError(f"missing {key!r}", item.where)
        return None
    if not isinstance(entry.value, str) or not entry.value:
        raise GraphFileError(f"{key} must be a name", entry.where)
    return entry.value


def _spec(name: str, item: Located, folder: Path) -> dict:
    """What the worker needs to find the op's functions; every check that needs no import is made here."""
    if not isinstance(item.value, dict):
        raise GraphFileError(f"op {name} must be a mapping with module, forward and backward", item.where)
    for key in item.value:
        if key not in KEYS:
            raise GraphFileError(f"unknown key {key!r} for a plugin op{suggest(key, KEYS)}", item.key_where[key])
    module = _text(item, "module")
    where = item.value["module"].where
    if "\x00" in module:
        raise GraphFileError(f"module {shortened(repr(module))}: a file name cannot hold a NUL character (\\0)", where)
    try:
        path = (folder / module).resolve()
        if not path.is_relative_to(folder):
            raise GraphFileError(f"module {shortened(module)} is outside the graph file's folder {folder}", where)
        if path.suffix != ".py" or not path.is_file():
            raise GraphFileError(f"module {shortened(module)}: no such Python file next to the graph file", where)
    except OSError as err:  # a name too long, a loop of links
        raise GraphFileError(f"module {shortened(module)}: {err.strerror or err}", where) from None
    spec = {key: _text(item, key, required=key != "jvp") for key in ("forward", "backward", "jvp")}
    cache = item.value["cache"].value if "cache" in item.value else False
    if not isinstance(cache, bool):
        raise GraphFileError("cache must be true or false", item.value["cache"].where)
    if _text(item, "gate", required=False) not in (None, *GATES):
        raise GraphFileError(f"gate must be one of {', '.join(GATES)}", item.value["gate"].where)
    return {**spec, "module": str(path.relative_to(folder)), "cache": cache}


def _plugin_op(name: str, item: Located, worker: Worker, spec: dict, found: dict) -> Op:
    inputs, attrs = found["inputs"], found["attrs"]
    names = {role: shortened(n, 80) for role, n in found["names"].items()}  # a function's __name__ is any text
    labels = item.value["labels"].plain() if "labels" in item.value else []
    if not isinstance(labels, list) or any(label not in inputs for label in labels):
        raise GraphFileError(f"labels must list inputs of {names['forward']} ({', '.join(inputs)})", item.where)
    gate = GATES[_text(item, "gate", required=False) or "scaler"]
    code = _StudentCode(name, worker, names, inputs, labels)
    differentiable = [p not in labels for p in inputs]
    jvp = spec["jvp"] is not None
    return Op(
        name=name,
        gate_kind=gate,
        formula=f"{Path(spec['module']).name}: {names['forward']}",
        forward=code.forward_rule(),
        vjp=tuple(code.vjp_rule(i) if d else None for i, d in enumerate(differentiable)),
        jvp=tuple((code.jvp_rule(i) if jvp else None) if d else None for i, d in enumerate(differentiable)),
        shape=code.shape,
        local=tuple(f"∂{name}/∂{p}" for p in inputs),
        attrs=attrs,
        fault="produced a non-finite value",  # not in the op table: never analytic (Op.analytic)
    )


class _StudentCode:
    """Asks the worker to run the student's functions, and checks what comes back against the inputs.

    Each rule has a `many` attribute: the batched evaluations of gradcheck send a whole batch in one
    request (verify/batched.py), as a round trip to the worker costs more than a small forward."""

    def __init__(self, op: str, worker: Worker, names: dict[str, str], inputs: list[str], labels: list[str]) -> None:
        self.op, self.worker, self.names, self.inputs = op, worker, names, inputs
        self.labels = [i for i, p in enumerate(inputs) if p in labels]
        self.last: tuple | None = None  # (upstream, inputs, gradients): one backward call serves every input
        self.learned: dict[tuple, tuple[int, ...]] = {}  # (input shapes, attrs) -> the output shape, from loading

    def _same_shapes(self, outs: list[np.ndarray], what: str) -> list[np.ndarray]:
        if len({out.shape for out in outs}) > 1:
            raise PluginError(self.op, f"{what} has different shapes for inputs of one shape")
        return outs

    def _check_labels(self, xs: tuple) -> None:
        """What a labels input holds is class labels, as for cross_entropy: otherwise declaring an input labels
        would take its gradient out of every check (gradcheck skips a leaf read only as labels)."""
        for i in self.labels:
            x = np.asarray(xs[i], dtype=float)
            wrong = x[~((x >= 0) & (x == np.round(x)))]  # NaN is wrong too
            if wrong.size:
                raise PluginError(
                    self.op,
                    f"labels {self.inputs[i]} must be class labels (whole numbers ≥ 0), not {float(wrong.flat[0]):g}: "
                    "an input that has a gradient is not a label; take it out of labels",
                )

    def _key(self, xs: tuple, attrs: dict) -> tuple:
        return tuple(np.shape(x) for x in xs), tuple(sorted(attrs.items()))

    def forward_many(self, items: list[tuple], attrs: dict) -> list[np.ndarray]:
        items = [_plain(xs) for xs in items]
        for xs in items:
            self._check_labels(xs)
        shapes = [self.learned.get(self._key(xs, attrs)) for xs in items]
        expect = None if None in shapes else shapes  # None only while the file loads: the shapes are learned then
        name = self.names["forward"]
        outs = self.worker.call("forward", self.op, name, items, attrs, expect, expect=expect)
        return self._same_shapes(outs, f"{name}'s output")

    def forward_rule(self):
        def forward(*xs: np.ndarray, **attrs: object) -> np.ndarray:
            return self.forward_many([xs], attrs)[0]

        forward.many = self.forward_many
        forward.code = self  # for audit()
        return forward

    def shape(self, *shapes: tuple[int, ...], **attrs: object) -> tuple[int, ...]:
        """The output shape, from one call on zeros of the input shapes (labels 0 are valid labels)."""
        zeros = tuple(np.zeros(s) for s in shapes)
        try:
            (out,) = self.forward_many([zeros], attrs)
        except PluginError as err:
            shown = ", ".join(f"{p} {s}" for p, s in zip(self.inputs, shapes, strict=False))
            raise ShapeError(f"{err.message} on inputs of shapes {shown}") from None
        if out.ndim > MAX_AXES:  # the checks add a batch axis, and NumPy takes 64 at most
            raise ShapeError(f"op {self.op}: {self.names['forward']}'s output has {out.ndim} axes; at most {MAX_AXES}")
        self.learned[self._key(zeros, attrs)] = out.shape
        return out.shape

    def gradients(self, g: np.ndarray, xs: tuple, attrs: dict) -> list[np.ndarray]:
        if self.last is not None and self.last[0] is g and all(a is b for a, b in zip(self.last[1], xs, strict=True)):
            return self.last[2]
        name = self.names["backward"]
        (g,), plain = _plain((g,)), _plain(xs)
        expect = [np.shape(x) for x in xs]
        result = self.worker.call("backward", self.op, name, g, plain, attrs, expect=expect, nullable=True)
        if len(result) != len(self.inputs):  # the worker checks this too; its word is not taken for it
            raise PluginError(self.op, f"{name} returned {len(result)} gradients for {len(self.inputs)} inputs")
        grads = []
        for param, x, grad in zip(self.inputs, xs, result, strict=True):
            if grad is None:  # not differentiable in this input
                grads.append(np.zeros(np.shape(x)))
                continue
            if grad.shape != np.shape(x):
                raise PluginError(self.op, wrong_gradient_shape(name, param, grad.shape, np.shape(x)))
            if not np.all(np.isfinite(grad)):
                raise PluginError(self.op, f"{name}'s gradient for {param} contains NaN or inf")
            grads.append(grad)
        self.last = (g, xs, grads)
        return grads

    def vjp_rule(self, i: int):
        return lambda g, out, *xs, **attrs: self.gradients(g, xs, attrs)[i]

    def jvp_rule(self, i: int):
        name = self.names.get("jvp", "jvp")

        def many(items: list[tuple], attrs: dict) -> list[np.ndarray]:
            requests, shapes = [], []
            for t, out, *xs in items:
                tangents = tuple(t if j == i else np.zeros(np.shape(x)) for j, x in enumerate(xs))
                requests.append((_plain(tangents), _plain(xs)))
                shapes.append(np.shape(out))
            results = self.worker.call("jvp", self.op, name, requests, attrs, shapes, expect=shapes)
            for (_, out, *_), result in zip(items, results, strict=True):
                if result.shape != np.shape(out):
                    raise PluginError(self.op, f"{name} returned shape {result.shape}, the output {np.shape(out)}")
                if not np.all(np.isfinite(result)):
                    raise PluginError(self.op, f"{name}'s tangent contains NaN or inf")
            return results

        def rule(t, out, *xs, **attrs):
            return many([(t, out, *xs)], attrs)[0]

        rule.many = many
        return rule


def _plain(arrays) -> tuple[np.ndarray, ...]:
    """What the student's code receives: float64 copies in C order, whatever evaluation they come from (a
    float32 graph, a batch row, a view), so that nothing but the values and shapes tells two calls apart."""
    return tuple(np.array(x, dtype=np.float64, order="C") for x in arrays)
