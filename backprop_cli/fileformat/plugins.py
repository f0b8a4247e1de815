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
allows it (`--allow-python`, or `allow_python=True` in the Python API). Whatever the student's code does
wrong (raises, returns the wrong number of gradients, wrong shapes, NaN) becomes a PluginError naming the
op and the function, never a traceback.
"""

from __future__ import annotations

import inspect
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np

from ..errors import GraphFileError, PluginError, Position, ShapeError
from ..ops import OPS, GateKind, Op
from .yaml_source import Located

KEYS = ("module", "forward", "backward", "jvp", "cache", "labels", "gate")
GATES = {kind.role: kind for kind in GateKind}


def load_plugin_ops(section: Located, source: str, allow_python: bool) -> dict[str, Op]:
    """{op name: Op} for each entry of the `ops:` block. Raises GraphFileError."""
    if not isinstance(section.value, dict):
        raise GraphFileError("ops must be a mapping of op names to {module, forward, backward}", section.where)
    if not allow_python:
        raise GraphFileError(
            "this graph file loads Python code for its ops; run with --allow-python if you trust it", section.where
        )
    folder = Path(source).resolve().parent
    modules: dict[Path, ModuleType] = {}
    ops = {}
    for name, item in section.value.items():
        where = section.key_where[name]
        if not name.isidentifier():
            raise GraphFileError(f"{name!r} is not a valid op name", where)
        if name in OPS:
            raise GraphFileError(f"{name!r} is a built-in op; give the plugin op another name", where)
        ops[name] = _plugin_op(name, item, where, folder, modules)
    return ops


def _text(item: Located, key: str, required: bool = True) -> str | None:
    entry = item.value.get(key)
    if entry is None:
        if required:
            raise GraphFileError(f"missing {key!r}", item.where)
        return None
    if not isinstance(entry.value, str) or not entry.value:
        raise GraphFileError(f"{key} must be a name", entry.where)
    return entry.value


def _plugin_op(name: str, item: Located, where: Position, folder: Path, modules: dict) -> Op:
    if not isinstance(item.value, dict):
        raise GraphFileError(f"op {name} must be a mapping with module, forward and backward", item.where)
    for key in item.value:
        if key not in KEYS:
            from ..errors import suggest

            raise GraphFileError(f"unknown key {key!r} for a plugin op{suggest(key, KEYS)}", item.key_where[key])
    module = _module(_text(item, "module"), item.value["module"].where, folder, modules)
    forward = _function(module, _text(item, "forward"), item.value["forward"].where)
    backward = _function(module, _text(item, "backward"), item.value["backward"].where)
    jvp_name = _text(item, "jvp", required=False)
    jvp = _function(module, jvp_name, item.value["jvp"].where) if jvp_name else None
    cache = item.value["cache"].value if "cache" in item.value else False
    if not isinstance(cache, bool):
        raise GraphFileError("cache must be true or false", item.value["cache"].where)
    inputs, attrs = _signature(forward, item.value["forward"].where)
    labels = item.value["labels"].plain() if "labels" in item.value else []
    if not isinstance(labels, list) or any(label not in inputs for label in labels):
        raise GraphFileError(f"labels must list inputs of {forward.__name__} ({', '.join(inputs)})", item.where)
    gate = GATES.get(_text(item, "gate", required=False) or "scaler")
    if gate is None:
        raise GraphFileError(f"gate must be one of {', '.join(GATES)}", item.value["gate"].where)
    code = _StudentCode(name, forward, backward, jvp, cache, inputs)
    differentiable = [p not in labels for p in inputs]
    return Op(
        name=name,
        gate_kind=gate,
        formula=f"{module.__name__.removeprefix('backprop_plugin_')}.py: {forward.__name__}",
        forward=code.forward,
        vjp=tuple(code.vjp_rule(i) if d else None for i, d in enumerate(differentiable)),
        jvp=tuple((code.jvp_rule(i) if jvp else None) if d else None for i, d in enumerate(differentiable)),
        shape=code.shape,
        local=tuple(f"∂{name}/∂{p}" for p in inputs),
        attrs=attrs,
        fault="produced a non-finite value",  # not in the op table: never analytic (Op.analytic)
    )


def _module(path_text: str, where: Position, folder: Path, modules: dict) -> ModuleType:
    path = (folder / path_text).resolve()
    if not path.is_relative_to(folder):
        raise GraphFileError(f"module {path_text} is outside the graph file's folder {folder}", where)
    if path.suffix != ".py" or not path.is_file():
        raise GraphFileError(f"module {path_text}: no such Python file next to the graph file", where)
    if path not in modules:
        import importlib.util

        spec = importlib.util.spec_from_file_location(f"backprop_plugin_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(folder))  # the student's module may import its neighbours
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as err:
            raise GraphFileError(f"importing {path_text} raised {_describe(err)}", where) from None
        finally:
            sys.path.remove(str(folder))
        modules[path] = module
    return modules[path]


def _function(module: ModuleType, name: str, where: Position):
    function = getattr(module, name, None)
    if not callable(function):
        from ..errors import suggest

        names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
        raise GraphFileError(f"{module.__file__} has no function {name!r}{suggest(name, names)}", where)
    return function


def _signature(forward, where: Position) -> tuple[list[str], dict[str, object]]:
    """Inputs: the positional parameters without defaults; keyword arguments: those with defaults."""
    try:
        parameters = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):
        raise GraphFileError(f"cannot read the parameters of {forward!r}", where) from None
    inputs, attrs = [], {}
    for p in parameters:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise GraphFileError(f"{forward.__name__} must name its parameters (no *args or **kwargs)", where)
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty:
            raise GraphFileError(f"{forward.__name__}: keyword-only parameter {p.name} needs a default", where)
        if p.kind is p.POSITIONAL_ONLY and p.default is not p.empty:
            raise GraphFileError(
                f"{forward.__name__}: {p.name} has a default, so it must be passable by keyword", where
            )
        if p.default is p.empty:
            inputs.append(p.name)
        else:
            attrs[p.name] = p.default
    if not inputs:
        raise GraphFileError(f"{forward.__name__} takes no inputs", where)
    return inputs, attrs


def _describe(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


class _StudentCode:
    """Calls into the student's functions and checks what comes back."""

    def __init__(self, op: str, forward, backward, jvp, cache: bool, inputs: list[str]) -> None:
        self.op, self.cache, self.inputs = op, cache, inputs
        self.user_forward, self.user_backward, self.user_jvp = forward, backward, jvp
        self.last: tuple | None = None  # (upstream, inputs, gradients): one backward call serves every input

    def _call(self, function, *args, **kwargs):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return function(*args, **kwargs)
        except (Exception, SystemExit) as err:  # a student's sys.exit() must not end the check (and pass it)
            raise PluginError(self.op, f"{function.__name__} raised {_describe(err)}") from None

    def _array(self, value: object, what: str, finite: bool = True) -> np.ndarray:
        if value is None:
            raise PluginError(self.op, f"{what} is None (a missing return?)")
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise PluginError(self.op, f"{what} is not an array of numbers ({type(value).__name__})") from None
        if finite and not np.all(np.isfinite(array)):
            raise PluginError(self.op, f"{what} contains NaN or inf")
        return array

    def _run_forward(self, xs, attrs):
        result = self._call(self.user_forward, *xs, **attrs)
        if self.cache:
            if not isinstance(result, tuple) or len(result) != 2:
                raise PluginError(self.op, f"{self.user_forward.__name__} must return (out, cache) with cache: true")
            return result
        return result, None

    def forward(self, *xs: np.ndarray, **attrs: object) -> np.ndarray:
        out, _ = self._run_forward(xs, attrs)
        return self._array(out, f"{self.user_forward.__name__}'s output", finite=False)  # NaN: the engines say where

    def shape(self, *shapes: tuple[int, ...], **attrs: object) -> tuple[int, ...]:
        """The output shape, from one call on zeros of the input shapes (labels 0 are valid labels)."""
        zeros = [np.zeros(s) for s in shapes]
        try:
            with np.errstate(all="ignore"):
                out, _ = self._run_forward(zeros, attrs)
        except PluginError as err:
            shown = ", ".join(f"{p} {s}" for p, s in zip(self.inputs, shapes, strict=False))
            raise ShapeError(f"{err.message} on inputs of shapes {shown}") from None
        return np.shape(out)

    def gradients(self, g: np.ndarray, xs: tuple, attrs: dict) -> list[np.ndarray]:
        if self.last is not None and self.last[0] is g and all(a is b for a, b in zip(self.last[1], xs, strict=True)):
            return self.last[2]
        name = self.user_backward.__name__
        if self.cache:
            _, cache = self._run_forward(xs, attrs)
            result = self._call(self.user_backward, g, cache)
        else:
            result = self._call(self.user_backward, g, *xs, **attrs)
        if len(self.inputs) == 1 and not isinstance(result, (tuple, list)):
            result = (result,)
        if isinstance(result, np.ndarray):
            raise PluginError(
                self.op,
                f"{name} returned one array; return a tuple with one gradient per input ({', '.join(self.inputs)})",
            )
        if not isinstance(result, (tuple, list)) or len(result) != len(self.inputs):
            count = len(result) if isinstance(result, (tuple, list)) else 1
            raise PluginError(
                self.op,
                f"{name} returned {count} gradient{'s' * (count != 1)} for {len(self.inputs)} inputs "
                f"({', '.join(self.inputs)})",
            )
        grads = []
        for param, x, grad in zip(self.inputs, xs, result, strict=True):
            if grad is None:  # not differentiable in this input
                grads.append(np.zeros(np.shape(x)))
                continue
            array = self._array(grad, f"{name}'s gradient for {param}")
            if array.shape != np.shape(x):
                raise PluginError(
                    self.op, f"{name} returned a gradient of shape {array.shape} for {param} of shape {np.shape(x)}"
                )
            grads.append(array)
        self.last = (g, xs, grads)
        return grads

    def vjp_rule(self, i: int):
        return lambda g, out, *xs, **attrs: self.gradients(g, xs, attrs)[i]

    def jvp_rule(self, i: int):
        def rule(t, out, *xs, **attrs):
            tangents = tuple(t if j == i else np.zeros(np.shape(x)) for j, x in enumerate(xs))
            result = self._array(
                self._call(self.user_jvp, tangents, *xs, **attrs), f"{self.user_jvp.__name__}'s tangent"
            )
            if result.shape != np.shape(out):
                raise PluginError(
                    self.op, f"{self.user_jvp.__name__} returned shape {result.shape}, the output {np.shape(out)}"
                )
            return result

        return rule
