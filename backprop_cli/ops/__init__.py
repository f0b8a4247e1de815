"""The op table. Importing this package registers every op."""

from . import (  # noqa: F401  (registration)
    activations,
    comparisons,
    convolution,
    elementwise,
    indexing,
    linalg,
    losses,
    reductions,
)
from .table import OPS, GateKind, Op

__all__ = ["OPS", "GateKind", "Op"]
