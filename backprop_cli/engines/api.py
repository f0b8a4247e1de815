"""The Python API: a graph that evaluates and differentiates itself.

    g = backprop_cli.load("two_layer")
    g.forward()                      # every value (and remembers them)
    g.backward()                     # every gradient, from the remembered values: no second forward pass
    g.backward(wrt=["w1", "w2"])     # only these gradients, and only the gates on their paths run

Values are remembered per graph object. `forward()` always evaluates afresh; `backward()` and `jvp()` use
the values of the last `forward()` (evaluating once when there was none) as long as the graph's leaves are
the same arrays: `with_values()` returns a new graph (with nothing remembered), and assigning a new array
to `g.leaf_values[name]` is noticed. Changing a leaf's array in place is not: call `forward()` again.

The arrays returned are read-only views of the engines' own, not copies (a copy of every array was a
quarter of the time of `backward()`): `np.array(result[name])` gives one you may change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

import numpy as np

from .. import graph as data
from ..arguments import mapping
from ..arguments import names as name_list
from .evaluate import evaluate, set_leaf_values
from .reverse_mode import reverse_mode, upstream_gradient

Result = dict[str, float | np.ndarray]

# How a graph shows itself in a notebook, by format ("svg": Graph._repr_svg_). Filled in by the package
# (backprop_cli/__init__.py) with a function of the outputs layer: this module imports nothing above it.
REPRESENTATIONS: dict[str, Callable[[data.Graph], str | None]] = {}


class Graph(data.Graph):
    """The graph of graph.py with forward, backward and jvp: what load() and loads() return."""

    def _repr_svg_(self) -> str | None:
        """Jupyter shows a graph as its diagram (values and gradients on the wires); None without Graphviz."""
        draw = REPRESENTATIONS.get("svg")
        return draw(self) if draw is not None else None

    def with_values(self, values: dict[str, object]) -> Graph:
        """A copy whose leaves take the given values (same shapes); it remembers no values yet."""
        return replace(self, leaf_values=set_leaf_values(self, mapping(values, "values")))

    def forward(self) -> Result:
        """Every leaf's and node's value (evaluated now, and remembered for backward and jvp)."""
        values = evaluate(self)
        self._remembered = (self.leaf_values, dict(self.leaf_values), values)
        return _public(values)

    def backward(self, wrt: Iterable[str] | None = None, grad_output: object = None) -> Result:
        """d output / d name for every leaf and node (reverse mode), or only for the names in wrt, in which
        case only the gates on paths from them to the output run. grad_output is the gradient the output
        receives (default: ones, d output / d output): backward then gives vector-Jacobian products."""
        names = None if wrt is None else self._names(wrt)
        seed = None if grad_output is None else self._grad_output(grad_output)
        grads = reverse_mode(self, self._values(), wrt=None if names is None else set(names), seed=seed)
        return _public(grads if names is None else {n: grads[n] for n in names})

    def jvp(self, tangents: dict[str, object]) -> Result:
        """Forward mode: the tangent of every node along the given leaf tangents (a missing leaf: zero)."""
        from .forward_mode import forward_mode, leaf_tangents  # imported when first used

        return _public(forward_mode(self, self._values(), leaf_tangents(self, mapping(tangents, "tangents"))))

    # ------------------------------------------------------------ remembered values
    def _values(self) -> dict[str, np.ndarray]:
        remembered = getattr(self, "_remembered", None)
        if remembered is not None:
            mapping, arrays, values = remembered
            same = mapping is self.leaf_values and len(arrays) == len(mapping)
            if same and all(mapping.get(k) is v for k, v in arrays.items()):
                return values
        values = evaluate(self)
        self._remembered = (self.leaf_values, dict(self.leaf_values), values)
        return values

    def _names(self, wrt: Iterable[str]) -> list[str]:
        names = name_list(wrt, "wrt")
        for name in names:
            self.named(name, "leaf or node", "wrt")
        return names

    def _grad_output(self, raw: object) -> np.ndarray:
        return upstream_gradient(self, raw)  # the output's shape (a number fills it), finite


def _public(arrays: dict[str, np.ndarray]) -> Result:
    """Scalars as floats; tensors as read-only views (no copies)."""
    out: Result = {}
    for name, value in arrays.items():
        if np.ndim(value) == 0:
            out[name] = float(value)
        else:
            view = np.asarray(value).view()
            view.flags.writeable = False
            out[name] = view
    return out


__all__ = ["Graph"]
