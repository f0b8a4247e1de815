"""backprop: make backpropagation visible and verifiable.

import backprop_cli
g = backprop_cli.load("graphs/circuit.yaml")   # or backprop_cli.loads(text)
g.forward()                                    # {name: value}
g.backward()                                   # {name: d output / d name}
g.jvp({"x": 1.0})                              # {name: tangent}
backprop_cli.gradcheck(g).passed               # reverse and forward mode against a numerical reference
"""

from __future__ import annotations

from .engines.api import Graph
from .errors import BackpropError, EvaluationError, ExitCode, GraphFileError, ShapeError, UsageError
from .fileformat import load, loads

__version__ = "0.1.0"


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
