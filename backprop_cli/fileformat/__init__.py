"""The graph file format: safe YAML with positions, expressions, leaves, checks."""

from __future__ import annotations

import os

from ..engines.api import Graph
from ..errors import GraphFileError, Position
from .builder import build
from .yaml_source import MAX_BYTES, read_yaml


def loads(text: str | bytes, source: str = "<string>", allow_python: bool = False, values: dict | None = None) -> Graph:
    """Build a graph from the text of a graph file (plugin ops only with allow_python); values: leaf values
    instead of the file's, as --at gives them (what a mask computed from them picks is counted at these)."""
    return build(read_yaml(text, source), source, allow_python=allow_python, values=values)


def load(path: str | os.PathLike[str], allow_python: bool = False, values: dict | None = None) -> Graph:
    """Build a graph from a graph file (or the name of a bundled example, like "circuit"); values as for loads."""
    from ..examples import resolve

    file = resolve(str(path))
    try:
        with file.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)  # bounded: /dev/zero or a pipe has no size to check first
        if len(data) > MAX_BYTES:
            raise GraphFileError(f"file is larger than {MAX_BYTES // 2**20} MiB", Position(str(path)))
    except IsADirectoryError:
        raise GraphFileError("is a directory, not a graph file", Position(str(path))) from None
    except OSError as err:
        raise GraphFileError(f"cannot read the file: {err.strerror}", Position(str(path))) from None
    return loads(data, str(path), allow_python=allow_python, values=values)


__all__ = ["load", "loads"]
