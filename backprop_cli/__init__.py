"""backprop: make backpropagation visible and verifiable.

import backprop_cli
g = backprop_cli.load("graphs/circuit.yaml")   # or backprop_cli.loads(text)
g.forward()                                    # {name: value}
g.backward()                                   # {name: d output / d name}
g.jvp({"x": 1.0})                              # {name: tangent}
backprop_cli.gradcheck(g).passed               # reverse and forward mode against a numerical reference
"""

from __future__ import annotations

from .engines.api import REPRESENTATIONS, Graph
from .errors import BackpropError, EvaluationError, ExitCode, GraphFileError, ShapeError, UsageError
from .fileformat import load, loads

__version__ = "0.1.0"


def _svg(graph: Graph) -> str | None:
    """A graph's diagram for Jupyter; outputs is imported on first display, never by `import backprop_cli`."""
    from .outputs.notebook import graph_svg

    return graph_svg(graph)


REPRESENTATIONS["svg"] = _svg


def __getattr__(name: str) -> object:
    """gradcheck is imported on first use: `backprop trace` never pays for it."""
    if name == "gradcheck":
        from .verify import gradcheck

        return gradcheck
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BackpropError",
    "EvaluationError",
    "ExitCode",
    "Graph",
    "GraphFileError",
    "ShapeError",
    "UsageError",
    "gradcheck",
    "load",
    "loads",
]
