"""The op table. Importing this package registers every op."""

from . import activations, convolution, elementwise, indexing, linalg, losses, reductions  # noqa: F401  (registration)
from .table import OPS, GateKind, Op

__all__ = ["OPS", "GateKind", "Op"]
