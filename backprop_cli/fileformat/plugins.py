"""Plugin ops: ops a graph file declares in a Python file next to it (`ops:`).

Loading Python is code execution, so it happens only when the caller allows it
(`--allow-python`, or `allow_python=True` in the Python API).
"""

from __future__ import annotations

from ..errors import GraphFileError
from ..ops import Op
from .yaml_source import Located


def load_plugin_ops(section: Located, source: str, allow_python: bool) -> dict[str, Op]:
    """{op name: Op} for each entry of the `ops:` block. Raises GraphFileError."""
    if not isinstance(section.value, dict):
        raise GraphFileError("ops must be a mapping of op names to {module, forward, backward}", section.where)
    if not allow_python:
        raise GraphFileError(
            "this graph file loads Python code for its ops; run with --allow-python if you trust it", section.where
        )
    raise GraphFileError("plugin ops are not supported yet", section.where)
