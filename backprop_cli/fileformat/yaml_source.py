"""Safe YAML reading that keeps the line and column of every value.

Refused while the parser's events stream in, before any tree is built: anchors and
aliases (alias bombs), tags other than the plain core ones (`!!python/...`), duplicate
keys, nesting deeper than MAX_DEPTH (PyYAML's composer recurses in C and crashes on
~50,000 levels, so it is never used). Refused before parsing: files larger than
MAX_BYTES, non-UTF-8 bytes, more than MAX_ENTRIES lines and commas.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import yaml

from ..errors import GraphFileError, Position
from ..numbers import base_60
from .slips import yaml_slip

MAX_BYTES = 32 * 2**20
MAX_DEPTH = 64
MAX_ENTRIES = 50_000  # lines plus commas, counted before parsing: a file at the limit is read in under 1 s
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


BOMS = (  # longest first: UTF-32's little-endian mark starts with UTF-16's
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)


def wide_encoding(data: bytes) -> str | None:
    """The name of a UTF-16 or UTF-32 encoding the bytes are in (by their byte-order mark, or, without one,
    by a zero byte beside every ASCII character), else None. Such text is valid UTF-8 only by accident:
    read as UTF-8 it is letters and NUL characters."""
    for mark, name in BOMS:
        if data.startswith(mark):
            return name
    sample = data[:4096]
    half = len(sample) // 2
    if half < 2 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > 0.4 * half and even < 0.05 * half:
        return "UTF-16 (little-endian, no byte-order mark)"
    if even > 0.4 * half and odd < 0.05 * half:
        return "UTF-16 (big-endian, no byte-order mark)"
    return None


def _decode(data: bytes | str, filename: str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_BYTES:
        raise GraphFileError(f"file is larger than {MAX_BYTES // 2**20} MiB", Position(filename))
    wide = wide_encoding(data)
    if wide is not None:
        raise GraphFileError(f"file is {wide} text, not UTF-8: save it as UTF-8", Position(filename, 1, 1))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise GraphFileError("file is not UTF-8 text", Position(filename, line, col)) from None


class _Parser(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's event parser keeps its own stacks; PyYAML's composer recurses (in C), so it is not used."""


STR_TAG = "tag:yaml.org,2002:str"
_RESOLVED = {first for first in _Parser.yaml_implicit_resolvers if first} | {""}  # first characters resolve() tries


def read_yaml(data: bytes | str, filename: str, empty: str = "file is empty") -> Located:
    """Parse one YAML document into Located values. Raises GraphFileError (empty: the message when there is
    nothing but white space and comments, saying what the file should hold)."""
    text = _decode(data, filename)
    if not unicodedata.is_normalized("NFC", text):  # é as e and U+0301 names the same thing as é (U+00E9)
        text = unicodedata.normalize("NFC", text)
    if len(text) > MAX_BYTES:
        raise GraphFileError(f"file is larger than {MAX_BYTES // 2**20} MiB", Position(filename))
    if not text.strip():
        raise GraphFileError(empty, Position(filename))
    entries = text.count("\n") + text.count(",")
    if entries > MAX_ENTRIES:
        raise GraphFileError(
            f"file has {entries:,} lines and commas, more than the {MAX_ENTRIES:,} a graph file may have",
            Position(filename),
        )
    loader = _Parser(text)
    try:
        return _compose(loader, filename, empty)
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
    if style:  # quoted or block text: a string, whatever it looks like
        return text
    tag = tag[tag.rfind(":") + 1 :]
    if tag == "null":
        return None
    if tag == "bool":
        return text.lower() in ("true", "yes", "on", "y")
    if tag == "str" and not _may_be_number(text):  # an expression, a name: no int() or float() to try
        return text
    for number in (int, float) if tag != "float" else (float,):
        try:
            return number(text.replace("_", "")) if tag != "str" or number is float else int(text)
        except ValueError:
            pass
    if tag in ("int", "float"):
        try:
            return yaml.safe_load(text)  # 0x1F, 0o17, .inf (base 60 is refused before)
        except yaml.YAMLError:
            pass
    return text


def _may_be_number(text: str) -> bool:
    """Whether int() or float() could read text: it starts with a digit (any script's), a sign or a point,
    or is nan, inf or infinity."""
    first = text[:1]
    return first.isdigit() or first in "+-. " or text.strip().lower() in ("nan", "inf", "infinity")


_PLAIN_NUMBERS = (  # plain decimal numbers: subsets of YAML 1.1's own int and float patterns
    (re.compile(r"[-+]?(?:0|[1-9][0-9]*)"), "tag:yaml.org,2002:int"),
    (re.compile(r"[-+]?[0-9]+\.[0-9]*(?:[eE][-+][0-9]+)?"), "tag:yaml.org,2002:float"),
)
_NODE_KINDS = {
    yaml.ScalarEvent: yaml.ScalarNode,
    yaml.SequenceStartEvent: yaml.SequenceNode,
    yaml.MappingStartEvent: yaml.MappingNode,
}


def _resolved(loader: _Parser, event: yaml.Event, kind: type) -> str:
    """The tag PyYAML's safe composer would give an untagged node, found faster for the common scalars:
    text no implicit tag starts with (an expression, a name), and plain decimal numbers."""
    if kind is yaml.ScalarEvent:
        text = event.value
        if text[:1] not in _RESOLVED or event.style:
            return STR_TAG  # resolve() goes straight to the default for these
        if text[:1].isalpha() and (len(text) > 5 or not text.isalpha()):
            return STR_TAG  # not one of the words of null and bool (n0, names, expressions)
        for pattern, tag in _PLAIN_NUMBERS:
            if pattern.fullmatch(text):
                return tag
    return loader.resolve(_NODE_KINDS[kind], getattr(event, "value", None), event.implicit)


def _compose(loader: _Parser, filename: str, empty: str) -> Located:
    """Parser events -> Located tree with an explicit stack. Refuses, as the events stream in (so a
    deeply nested file is stopped after MAX_DEPTH levels): anchors and aliases, tags other than the
    plain core ones, keys that are not plain scalars, duplicate keys, a second document."""
    loader.get_event()  # stream start
    if loader.check_event(yaml.StreamEndEvent):
        raise GraphFileError(empty, Position(filename))
    loader.get_event()  # document start
    root = Located(None, Position(filename))
    stack: list[Located] = [root]  # open collections; the root holds the document as its only item
    keys: list[str | None] = [None]  # per open mapping: the key waiting for its value
    root.value = []
    scalar, ends = yaml.ScalarEvent, (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    while True:
        event = loader.get_event()
        kind = type(event)
        if kind in ends:
            stack.pop()
            keys.pop()
            continue
        if kind is yaml.DocumentEndEvent:
            break
        mark = event.start_mark
        where = Position(filename, mark.line + 1, mark.column + 1)
        parent = stack[-1]
        if kind is yaml.AliasEvent or event.anchor is not None:
            raise GraphFileError("anchors and aliases (&, *) are not allowed", where)
        tag = event.tag
        if tag is None or tag == "!":  # untagged: resolved as PyYAML's safe composer would
            tag = _resolved(loader, event, kind)
        if tag not in CORE_TAGS:
            hint = "" if tag.startswith("tag:") else "; quote the value if '!' is meant as text (there is no 'not')"
            raise GraphFileError(f"YAML tag {tag!r} is not allowed (only plain YAML is read){hint}", where)
        mapping = type(parent.value) is dict
        if mapping and keys[-1] is None:  # a key
            if kind is not scalar:
                raise GraphFileError("keys must be plain names", where)
            name = event.value  # as written: `on:` is the name "on", not a boolean
            if name in parent.value:
                first = parent.key_where[name]
                raise GraphFileError(f"duplicate key {name!r} (first at line {first.line})", where)
            parent.key_where[name] = where
            keys[-1] = name
            continue
        if kind is scalar:
            style = event.style
            if style in ("'", '"'):  # an offset into quoted text counts from after the quote
                where = Position(filename, where.line, where.column + 1)
            if not style and ":" in event.value and tag.endswith((":int", ":float")):
                raise GraphFileError(base_60(event.value) or f"{event.value!r} is not a number", where)
            item = Located(_scalar(tag, event.value, style), where, raw=event.value)
        else:
            item = Located(None, where)
        if mapping:
            parent.value[keys[-1]] = item
            keys[-1] = None
        else:
            parent.value.append(item)
        if kind is not scalar:  # a list or a mapping opens
            if len(stack) > MAX_DEPTH:
                raise GraphFileError(f"nesting deeper than {MAX_DEPTH} levels", where)
            item.value = [] if kind is yaml.SequenceStartEvent else {}
            stack.append(item)
            keys.append(None)
    if not loader.check_event(yaml.StreamEndEvent):
        where = _position(filename, loader.peek_event().start_mark)
        raise GraphFileError("only one YAML document is allowed (found a second '---')", where)
    return root.value[0]
