"""Safe YAML reading that keeps the line and column of every value.

Refused before or while composing: anchors and aliases (alias bombs), tags other
than the plain core ones (`!!python/...`), duplicate keys, nesting deeper than
MAX_DEPTH (PyYAML's C loader crashes on ~50,000 levels, so it is checked on the
raw text first), files larger than MAX_BYTES, non-UTF-8 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from ..errors import GraphFileError, Position

MAX_BYTES = 32 * 2**20
MAX_DEPTH = 64
MAX_ENTRIES = 500_000  # lines plus commas: an upper bound on values; a 100,000-node chain has ~100,000
CORE_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")}


@dataclass
class Located:
    """A YAML value with its position; mappings keep their keys' positions too."""

    value: object  # str | int | float | bool | None | list[Located] | dict[str, Located]
    where: Position
    key_where: dict[str, Position] = field(default_factory=dict)
    raw: str | None = None  # the scalar exactly as written

    def plain(self) -> object:
        """The value with positions stripped (depth is bounded by MAX_DEPTH)."""
        if isinstance(self.value, list):
            return [item.plain() for item in self.value]
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        return self.value


def _position(filename: str, mark: yaml.Mark | None) -> Position:
    if mark is None:
        return Position(filename)
    return Position(filename, mark.line + 1, mark.column + 1)


def _check_depth(text: str, filename: str) -> None:
    """Reject deep nesting on the raw text, before any parser sees it."""
    depth = 0
    line, col = 1, 0
    quote = None
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
            quote = None if quote == "#" else quote
            continue
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "\"'#":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise GraphFileError(f"nesting deeper than {MAX_DEPTH} levels", Position(filename, line, col))
        elif ch in "]}":
            depth = max(depth - 1, 0)
    for number, row in enumerate(text.splitlines(), 1):
        stripped = row.lstrip(" -")
        indent = len(row) - len(stripped)
        if stripped and indent // 2 > MAX_DEPTH * 2:
            raise GraphFileError(f"nesting deeper than {MAX_DEPTH} levels", Position(filename, number, indent))


def _decode(data: bytes | str, filename: str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_BYTES:
        raise GraphFileError(f"file is larger than {MAX_BYTES // 2**20} MiB", Position(filename))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise GraphFileError("file is not UTF-8 text", Position(filename, line, col)) from None


class _Composer(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


def read_yaml(data: bytes | str, filename: str) -> Located:
    """Parse one YAML document into Located values. Raises GraphFileError."""
    text = _decode(data, filename)
    if len(text) > MAX_BYTES:
        raise GraphFileError(f"file is larger than {MAX_BYTES // 2**20} MiB", Position(filename))
    if not text.strip():
        raise GraphFileError("file is empty", Position(filename))
    entries = text.count("\n") + text.count(",")
    if entries > MAX_ENTRIES:
        raise GraphFileError(
            f"file has {entries:,} lines and commas, more than the {MAX_ENTRIES:,} a graph file may have",
            Position(filename),
        )
    _check_depth(text, filename)
    try:
        loader = _Composer(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise GraphFileError(f"YAML syntax error: {err.problem or err.context}", _position(filename, mark)) from None
    except yaml.YAMLError as err:
        raise GraphFileError(f"YAML error: {err}", Position(filename)) from None
    except RecursionError:
        raise GraphFileError("nesting too deep", Position(filename)) from None
    if node is None:
        raise GraphFileError("file is empty", Position(filename))
    return _convert(node, filename)


def _scalar(node: yaml.ScalarNode) -> object:
    """Plain scalars resolved the safe way; YAML 1.1 floats like 1e-3 become numbers too."""
    tag = node.tag.rsplit(":", 1)[-1]
    text = node.value
    if node.style:  # quoted or block text: a string, whatever it looks like
        return text
    if tag == "null":
        return None
    if tag == "bool":
        return text.lower() in ("true", "yes", "on", "y")
    for number in (int, float):
        try:
            return number(text.replace("_", "")) if tag != "str" or number is float else int(text)
        except ValueError:
            pass
    if tag in ("int", "float"):
        try:
            return yaml.safe_load(text)  # 0x1F, 0o17, .inf, sexagesimal
        except yaml.YAMLError:
            pass
    return text


def _convert(root: yaml.Node, filename: str) -> Located:
    """Node tree -> Located tree, iteratively; refuses tags, anchors (shared nodes) and duplicate keys."""
    seen: set[int] = set()
    out = Located(None, _position(filename, root.start_mark))
    stack = [(root, out)]
    while stack:
        node, target = stack.pop()
        where = _position(filename, node.start_mark)
        if id(node) in seen:
            raise GraphFileError("anchors and aliases (&, *) are not allowed", where)
        seen.add(id(node))
        if node.tag not in CORE_TAGS:
            raise GraphFileError(f"YAML tag {node.tag!r} is not allowed (only plain YAML is read)", where)
        if isinstance(node, yaml.ScalarNode):
            target.value = _scalar(node)
            target.raw = node.value
        elif isinstance(node, yaml.SequenceNode):
            target.value = []
            for item in node.value:
                child = Located(None, _position(filename, item.start_mark))
                target.value.append(child)
                stack.append((item, child))
        else:
            target.value = {}
            for key, item in node.value:
                key_where = _position(filename, key.start_mark)
                if not isinstance(key, yaml.ScalarNode) or key.tag not in CORE_TAGS:
                    raise GraphFileError("keys must be plain names", key_where)
                if id(key) in seen:
                    raise GraphFileError("anchors and aliases (&, *) are not allowed", key_where)
                seen.add(id(key))
                name = key.value  # as written: `on:` is the name "on", not a boolean
                if name in target.value:
                    first = target.key_where[name]
                    raise GraphFileError(f"duplicate key {name!r} (first at line {first.line})", key_where)
                child = Located(None, _position(filename, item.start_mark))
                target.value[name] = child
                target.key_where[name] = key_where
                stack.append((item, child))
    return out
