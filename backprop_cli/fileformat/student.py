"""The student's side of a plugin op: import the modules, call the functions, turn what they return into
plain float arrays. This runs in the worker process (fileformat/sandbox.py), never in backprop's own.

Everything that can go wrong here is described in words, for the parent to judge: an exception of any
kind (BaseException too: SystemExit, KeyboardInterrupt, GeneratorExit), an output that is not numbers,
complex numbers, an `__array__` that raises. Only plain float64 arrays and words leave this module.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import io
import json
import os
import pickle
import signal
import struct
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np

from .confinement import limit_resources

HEADER = struct.Struct("<QQ")  # reply: header length, data length (then the JSON header, then the arrays)
LENGTH = struct.Struct("<Q")  # request: pickle length
ATTR_TYPES = (bool, int, float, str, type(None))  # defaults a graph file can pass as keyword arguments


class Refused(Exception):
    """The student's code did something unusable; the message says what (the parent adds the op's name)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key  # at load time: the entry of the ops: block the message is about


def describe(err: BaseException) -> str:
    text = " ".join(str(err).split())[:500]
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


# ------------------------------------------------------------------ loading
class StudentOps:
    """The functions of every plugin op of one graph file, imported from the files next to it."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.modules: dict[str, ModuleType] = {}
        self.ops: dict[str, dict] = {}

    def load(self, specs: dict[str, dict]) -> dict[str, dict]:
        """specs: {op: {module, forward, backward, jvp, cache}} -> {op: {inputs, attrs, module, names}}."""
        found = {}
        for op, spec in specs.items():
            module = self._module(spec["module"])
            functions = {
                role: self._function(module, spec[role], role)
                for role in ("forward", "backward", "jvp")
                if spec.get(role)
            }
            inputs, attrs = _signature(functions["forward"])
            self.ops[op] = {"cache": bool(spec.get("cache")), "inputs": inputs, **functions}
            found[op] = {
                "inputs": inputs,
                "attrs": attrs,
                "module": Path(spec["module"]).stem,
                "names": {role: getattr(f, "__name__", role) for role, f in functions.items()},
            }
        return found

    def _module(self, relative: str) -> ModuleType:
        path = str((Path(self.folder) / relative).resolve())
        if path not in self.modules:
            import importlib.util

            spec = importlib.util.spec_from_file_location(f"backprop_plugin_{Path(path).stem}", path)
            module = importlib.util.module_from_spec(spec)
            sys.path.insert(0, self.folder)  # the student's module may import its neighbours
            try:
                spec.loader.exec_module(module)
            except BaseException as err:
                raise Refused(f"importing {relative} raised {describe(err)}", "module") from None
            self.modules[path] = module
        return self.modules[path]

    def _function(self, module: ModuleType, name: str, role: str):
        function = getattr(module, name, None)
        if not callable(function):
            from ..errors import suggest

            names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
            raise Refused(f"{module.__file__} has no function {name!r}{suggest(name, names)}", role)
        return function

    # ------------------------------------------------------------------ calls
    def _call(self, op: str, role: str, *args, **kwargs):
        function = self.ops[op][role]
        try:
            return function(*args, **kwargs)
        except MemoryError:
            raise
        except BaseException as err:  # SystemExit, GeneratorExit, ...: described, never obeyed
            raise Refused(f"{getattr(function, '__name__', role)} raised {describe(err)}") from None

    def _name(self, op: str, role: str) -> str:
        return getattr(self.ops[op][role], "__name__", role)

    def forward(self, op: str, items: list[tuple], attrs: dict, shapes: list | None = None) -> list[np.ndarray]:
        """The forward's output for each item (a tuple of inputs); with cache: true the cache is dropped.
        shapes: the output shape each must have (learned when the file loaded), if known."""
        outs = [self._forward(op, xs, attrs)[0] for xs in items]
        for out, xs, shape in zip(outs, items, shapes or [None] * len(outs), strict=True):
            if shape is not None and out.shape != tuple(shape):
                given = ", ".join(f"{p} {np.shape(x)}" for p, x in zip(self.ops[op]["inputs"], xs, strict=False))
                raise Refused(
                    f"{self._name(op, 'forward')} returned an output of shape {out.shape} for inputs of shapes "
                    f"{given}, and {tuple(shape)} for inputs of these shapes when the file loaded: the output's "
                    "shape must follow from the inputs' shapes alone"
                )
        return outs

    def _forward(self, op: str, xs: tuple, attrs: dict) -> tuple[np.ndarray, object]:
        result = self._call(op, "forward", *xs, **attrs)
        name = self._name(op, "forward")
        cache = None
        if self.ops[op]["cache"]:
            if not isinstance(result, tuple) or len(result) != 2:
                raise Refused(f"{name} must return (out, cache) with cache: true")
            result, cache = result
        return real_array(result, f"{name}'s output"), cache

    def backward(self, op: str, g: np.ndarray, xs: tuple, attrs: dict) -> list[np.ndarray | None]:
        """One gradient per input (None: not differentiable in it)."""
        if self.ops[op]["cache"]:
            _, cache = self._forward(op, xs, attrs)
            result = self._call(op, "backward", g, cache)
        else:
            result = self._call(op, "backward", g, *xs, **attrs)
        if len(xs) == 1 and not isinstance(result, (tuple, list)):
            result = (result,)
        name, inputs = self._name(op, "backward"), self.ops[op]["inputs"]
        listed = ", ".join(inputs)
        if isinstance(result, np.ndarray):
            raise Refused(f"{name} returned one array; return a tuple with one gradient per input ({listed})")
        if not isinstance(result, (tuple, list)) or len(result) != len(inputs):
            count = len(result) if isinstance(result, (tuple, list)) else 1
            raise Refused(f"{name} returned {count} gradient{'s' * (count != 1)} for {len(inputs)} inputs ({listed})")
        grads = []
        for param, x, grad in zip(inputs, xs, result, strict=True):
            grads.append(None if grad is None else real_array(grad, f"{name}'s gradient for {param}"))
            if grads[-1] is not None and grads[-1].shape != np.shape(x):  # before any number is sent
                raise Refused(wrong_gradient_shape(name, param, grads[-1].shape, np.shape(x)))
        return grads

    def jvp(self, op: str, items: list[tuple], attrs: dict, shapes: list | None = None) -> list[np.ndarray]:
        """items: (tangents, xs) pairs -> the output's tangent for each (of the output's shape, in shapes)."""
        name = self._name(op, "jvp")
        tangents = [real_array(self._call(op, "jvp", t, *xs, **attrs), f"{name}'s tangent") for t, xs in items]
        for tangent, shape in zip(tangents, shapes or [None] * len(tangents), strict=True):
            if shape is not None and tangent.shape != tuple(shape):
                raise Refused(f"{name} returned shape {tangent.shape}, the output {tuple(shape)}")
        return tangents


def real_array(value: object, what: str) -> np.ndarray:
    """value as a float64 array, or Refused saying why not (None, text, complex, an __array__ that raises)."""
    if value is None:
        raise Refused(f"{what} is None (a missing return?)")
    try:
        array = np.asarray(value)
        kind = array.dtype.kind
        if kind == "c":
            raise Refused(f"{what} is complex ({array.dtype}); return real numbers")
        if kind not in "biuf":
            array = np.asarray(array, dtype=object)
            if any(isinstance(v, complex) for v in array.flat):
                raise Refused(f"{what} holds complex numbers; return real numbers")
        return np.array(array, dtype=np.float64)  # a copy: nothing of the student's object is kept
    except Refused:
        raise
    except MemoryError:
        raise
    except BaseException as err:
        raise Refused(f"{what} is not an array of numbers ({type(value).__name__}: {describe(err)})") from None


def _signature(forward) -> tuple[list[str], dict[str, object]]:
    """Inputs: the positional parameters without defaults; keyword arguments: those with defaults."""
    name = getattr(forward, "__name__", "forward")
    try:
        parameters = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):
        raise Refused(f"cannot read the parameters of {name}", "forward") from None
    inputs, attrs = [], {}
    for p in parameters:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise Refused(f"{name} must name its parameters (no *args or **kwargs)", "forward")
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty:
            raise Refused(f"{name}: keyword-only parameter {p.name} needs a default", "forward")
        if p.kind is p.POSITIONAL_ONLY and p.default is not p.empty:
            raise Refused(f"{name}: {p.name} has a default, so it must be passable by keyword", "forward")
        if p.default is p.empty:
            inputs.append(p.name)
        elif type(p.default) in ATTR_TYPES:
            attrs[p.name] = p.default
        else:
            raise Refused(f"{name}: the default of {p.name} must be a number, text, true/false or None", "forward")
    if not inputs:
        raise Refused(f"{name} takes no inputs", "forward")
    return inputs, attrs


# ------------------------------------------------------------------ the worker's loop
def serve(requests: int, replies: int, capture: int, folder: str, limits) -> None:
    """The worker process: requests (pickles from backprop) in, replies (JSON and float64 bytes) out,
    until backprop closes the pipe. Never returns."""
    gc.freeze()  # backprop's own objects: never traversed here, so never copied page by page from backprop
    sys.dont_write_bytecode = True  # no __pycache__ in the student's folder
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # printing past the limit stops the worker (Python ignores it)
    os.dup2(capture, 1)
    os.dup2(capture, 2)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    low, high = sorted((requests, replies))
    os.closerange(3, low)
    os.closerange(low + 1, high)
    os.closerange(high + 1, 65536)  # another worker's pipes, the user's files: not the student's to use
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
    sys.stdout = sys.stderr = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), errors="replace")
    limit_resources(limits)
    warnings.simplefilter("ignore")  # the student's warnings are not ours to show, nor errors here
    ops = StudentOps(folder)
    while True:
        try:
            head = _read(requests, LENGTH.size)
        except EOFError:
            os._exit(0)
        arrays: list[np.ndarray | None] = []
        number = None
        try:
            number, kind, *args = pickle.loads(_read(requests, LENGTH.unpack(head)[0]))
            if kind == "load":
                header = {"ok": True, "found": _loaded(ops, args[0])}
            else:
                arrays = getattr(ops, kind)(*args)
                header = {"ok": True}
        except Refused as err:
            header = {"ok": False, "message": err.message, "key": err.key, "op": getattr(err, "op", None)}
        except MemoryError:
            header, arrays = {"ok": False, "message": "ran out of memory", "fatal": "memory"}, []
        except BaseException as err:  # raised outside the student's calls (a __del__, a signal handler)
            header, arrays = {"ok": False, "message": f"the student's code raised {describe(err)}"}, []
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        header["id"] = number  # backprop takes no reply for another request (one the student's code wrote)
        header["arrays"] = [None if a is None else list(a.shape) for a in arrays]
        arrays = [np.ascontiguousarray(a, "<f8") for a in arrays if a is not None]
        text = json.dumps(header).encode()
        _write(replies, HEADER.pack(len(text), sum(a.nbytes for a in arrays)) + text)
        for array in arrays:  # one by one: no copy of them all
            _write(replies, memoryview(array.reshape(-1).view(np.uint8)))


def _loaded(ops: StudentOps, specs: dict[str, dict]) -> dict[str, dict]:
    found = {}
    for op, spec in specs.items():
        try:
            found.update(ops.load({op: spec}))
        except Refused as err:
            err.op = op
            raise
    return found


def _read(fd: int, size: int) -> bytes:
    buffer = bytearray()
    while len(buffer) < size:
        chunk = os.read(fd, size - len(buffer))
        if not chunk:
            raise EOFError
        buffer += chunk
    return bytes(buffer)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def wrong_gradient_shape(name: str, param: str, got: tuple, shape: tuple) -> str:
    """A backward's gradient of the wrong shape, and the classic bug behind one with an extra leading axis
    (issue 23): a shared bias whose gradient was not summed over the batch."""
    slip = (
        f": it looks like the gradient was not summed over the batch (axis 0): {param} is shared by every example, "
        "so its gradient is the sum of theirs"
        if len(got) == len(shape) + 1 and tuple(got[1:]) == tuple(shape)
        else ""
    )
    return f"{name} returned a gradient of shape {tuple(got)} for {param} of shape {tuple(shape)}{slip}"
