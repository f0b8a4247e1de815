"""The graph file format: safe YAML with positions, expressions, leaves, checks."""

from __future__ import annotations

import os

from ..arguments import flag
from ..engines.api import Graph
from ..errors import GraphFileError, Position, UsageError, printable, shortened
from .builder import build
from .yaml_source import MAX_BYTES, read_yaml

STDIN = "-"  # the graph file's name that means: read it from stdin
EMPTY = "file is empty: a graph file has inputs or params, nodes and output (`backprop examples circuit` shows one)"
STDIN_SOURCE = "<stdin>"  # its name in messages; its `file:` and `module:` paths are relative to the current directory


def shown_name(path: str | os.PathLike[str]) -> str:
    """A graph file given on the command line as every message and report names it: <stdin> for -."""
    return STDIN_SOURCE if str(path) == STDIN else str(path)


def loads(text: str | bytes, source: str = "<string>", allow_python: bool = False, values: dict | None = None) -> Graph:
    """Build a graph from the text of a graph file (plugin ops only with allow_python); values: leaf values
    instead of the file's, as --at gives them (what a mask computed from them picks is counted at these)."""
    if not isinstance(text, (str, bytes)):
        raise UsageError(f"{shortened(repr(text))} is not the text of a graph file (str or bytes)", parameter="text")
    if not isinstance(source, str):
        raise UsageError(f"{shortened(repr(source))} is not a file name (text)", parameter="source")
    tree = read_yaml(text, source, EMPTY)
    return build(tree, source, allow_python=flag(allow_python, "allow_python"), values=values)


def load(path: str | os.PathLike[str], allow_python: bool = False, values: dict | None = None) -> Graph:
    """Build a graph from a graph file (or the name of a bundled example, like "circuit"; "-" reads stdin);
    values as for loads."""
    from ..examples import resolve

    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
        raise UsageError(f"{shortened(repr(path))} is not a path (str or pathlib.Path)", parameter="path")
    allow_python = flag(allow_python, "allow_python")
    if "\0" in os.fspath(path):
        raise GraphFileError("a path cannot hold the character NUL (\\0)", Position(printable(os.fspath(path))))
    if str(path) == STDIN:
        return loads(read_stdin(), STDIN_SOURCE, allow_python=allow_python, values=values)
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


def read_stdin() -> bytes:
    """The graph file piped in (bounded, as a file is). A terminal is refused: it would wait for typing."""
    import sys

    stream = getattr(sys.stdin, "buffer", sys.stdin)
    if sys.stdin is None or sys.stdin.closed:
        raise UsageError("- reads the graph file from stdin, but stdin is closed")
    if sys.stdin.isatty():
        raise UsageError("- reads the graph file from stdin, which is a terminal: pipe a file in (< graph.yaml)")
    try:
        data = stream.read(MAX_BYTES + 1)
    except OSError as err:
        raise GraphFileError(f"cannot read stdin: {err.strerror or err}", Position(STDIN_SOURCE)) from None
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if len(data) > MAX_BYTES:
        raise GraphFileError(f"stdin holds more than {MAX_BYTES // 2**20} MiB", Position(STDIN_SOURCE))
    if not data.strip():
        raise GraphFileError("stdin is empty: pipe a graph file in", Position(STDIN_SOURCE))
    return data


__all__ = ["load", "loads", "shown_name"]
