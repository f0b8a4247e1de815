"""Safe YAML reading that keeps the line and column of every value.

Refused while the parser's events stream in, before any tree is built: anchors and
aliases (alias bombs), tags other than the plain core ones (`!!python/...`), duplicate
keys, nesting deeper than MAX_DEPTH (PyYAML's composer recurses in C and crashes on
~50,000 levels, so it is never used). Refused before parsing: files larger than
MAX_BYTES, non-UTF-8 bytes, more than MAX_ENTRIES lines and commas.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from ..errors import GraphFileError, Position
from .slips import yaml_slip

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


class _Parser(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's event parser keeps its own stacks; PyYAML's composer recurses (in C), so it is not used."""


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
    loader = _Parser(text)
    try:
        return _compose(loader, filename)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context
        if "nesting depth" in str(problem):  # libyaml ≥ 0.2.6's own limit, met before ours while it scans ahead
            raise GraphFileError(f"nesting deeper than {MAX_DEPTH} levels", _position(filename, mark)) from None
        raise yaml_slip(text, filename, str(problem), mark, err.context, err.context_mark) from None
    except yaml.reader.ReaderError as err:
        code = err.character if isinstance(err.character, int) else ord(err.character)
        line = text.count("\n", 0, err.position) + 1
        column = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        raise GraphFileError(
            f"YAML syntax error: {err.reason} (U+{code:04X})", Position(filename, line, column)
        ) from None
    except yaml.YAMLError as err:
        raise GraphFileError(f"YAML error: {err}", Position(filename)) from None
    finally:
        loader.dispose()


def _scalar(tag: str, text: str, style: str | None) -> object:
    """Plain scalars resolved the safe way; YAML 1.1 floats like 1e-3 become numbers too."""
    tag = tag.rsplit(":", 1)[-1]
    if style:  # quoted or block text: a string, whatever it looks like
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


_OPENS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSES = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
_NODE_KINDS = {
    yaml.ScalarEvent: yaml.ScalarNode,
    yaml.SequenceStartEvent: yaml.SequenceNode,
    yaml.MappingStartEvent: yaml.MappingNode,
}


def _compose(loader: _Parser, filename: str) -> Located:
    """Parser events -> Located tree with an explicit stack. Refuses, as the events stream in (so a
    deeply nested file is stopped after MAX_DEPTH levels): anchors and aliases, tags other than the
    plain core ones, keys that are not plain scalars, duplicate keys, a second document."""
    loader.get_event()  # stream start
    if loader.check_event(yaml.StreamEndEvent):
        raise GraphFileError("file is empty", Position(filename))
    loader.get_event()  # document start
    root = Located(None, Position(filename))
    stack: list[Located] = [root]  # open collections; the root holds the document as its only item
    keys: list[str | None] = [None]  # per open mapping: the key waiting for its value
    root.value = []
    while not loader.check_event(yaml.DocumentEndEvent):
        event = loader.get_event()
        where = _position(filename, event.start_mark)
        parent = stack[-1]
        if isinstance(event, _CLOSES):
            stack.pop()
            keys.pop()
            continue
        if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
            raise GraphFileError("anchors and aliases (&, *) are not allowed", where)
        tag = event.tag
        if tag is None or tag == "!":  # untagged: resolved as PyYAML's safe composer would
            kind = _NODE_KINDS[type(event)]
            tag = loader.resolve(kind, getattr(event, "value", None), event.implicit)
        if tag not in CORE_TAGS:
            hint = "" if tag.startswith("tag:") else "; quote the value if '!' is meant as text (there is no 'not')"
            raise GraphFileError(f"YAML tag {tag!r} is not allowed (only plain YAML is read){hint}", where)
        if isinstance(parent.value, dict) and keys[-1] is None:  # a key
            if not isinstance(event, yaml.ScalarEvent):
                raise GraphFileError("keys must be plain names", where)
            name = event.value  # as written: `on:` is the name "on", not a boolean
            if name in parent.value:
                first = parent.key_where[name]
                raise GraphFileError(f"duplicate key {name!r} (first at line {first.line})", where)
            parent.key_where[name] = where
            keys[-1] = name
            continue
        if getattr(event, "style", None) in ("'", '"'):  # an offset into quoted text counts from after the quote
            where = Position(filename, where.line, where.column + 1)
        item = Located(None, where)
        if isinstance(event, yaml.ScalarEvent):
            item.value = _scalar(tag, event.value, event.style)
            item.raw = event.value
        if isinstance(parent.value, dict):
            parent.value[keys[-1]] = item
            keys[-1] = None
        else:
            parent.value.append(item)
        if isinstance(event, _OPENS):
            if len(stack) > MAX_DEPTH:
                raise GraphFileError(f"nesting deeper than {MAX_DEPTH} levels", where)
            item.value = [] if isinstance(event, yaml.SequenceStartEvent) else {}
            stack.append(item)
            keys.append(None)
    loader.get_event()  # document end
    if not loader.check_event(yaml.StreamEndEvent):
        where = _position(filename, loader.peek_event().start_mark)
        raise GraphFileError("only one YAML document is allowed (found a second '---')", where)
    return root.value[0]
