"""backprop: make backpropagation visible and verifiable.

import backprop_cli
g = backprop_cli.load("graphs/circuit.yaml")   # or backprop_cli.loads(text)
g.forward()                                    # {name: value}
g.backward()                                   # {name: d output / d name}
g.jvp({"x": 1.0})                              # {name: tangent}
"""

from __future__ import annotations

from .errors import BackpropError, EvaluationError, ExitCode, GraphFileError, ShapeError, UsageError
from .fileformat import load, loads
from .graph import Graph

__version__ = "0.1.0"

__all__ = [
    "BackpropError",
    "EvaluationError",
    "ExitCode",
    "Graph",
    "GraphFileError",
    "ShapeError",
    "UsageError",
    "load",
    "loads",
]
