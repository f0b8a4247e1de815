"""Values given on the command line (--at x=[1, 2], --direction x=[0, 1]) read by the graph files' own safe
YAML reader: no anchors or aliases, no tags, bounded nesting and size."""

from __future__ import annotations

import math
from collections.abc import Iterator

from ..errors import GraphFileError, UsageError, shortened
from .yaml_source import read_yaml


def name_list(option: str, text: str) -> list[str]:
    """A comma-separated list given on the command line (`--wrt a,b`, `--compare sgd,adam`), each entry
    stripped and in Unicode NFC (as graph files are read). An empty entry (`--wrt ,`, `a,,b`, "") or an
    entry given twice is a usage error: never "everything", never silently once."""
    import unicodedata

    entries = [unicodedata.normalize("NFC", part.strip()) for part in text.split(",")]
    if not any(entries):
        raise UsageError(f"{option} {shortened(repr(text))}: names nothing; give a comma-separated list")
    if not all(entries):
        raise UsageError(f"{option} {shortened(repr(text))}: an empty entry (two commas in a row, or one at an end)")
    twice = next((e for k, e in enumerate(entries) if e in entries[:k]), None)
    if twice is not None:
        raise UsageError(f"{option}: {shortened(twice)} is given twice; give it once")
    return entries


def read_option_value(option: str, item: str) -> tuple[str, object]:
    """`name=value` -> (name, the value as numbers and lists). Raises UsageError naming the option."""
    import unicodedata

    name, sep, text = item.partition("=")
    name = unicodedata.normalize("NFC", name.strip())
    if not sep or not name:
        raise UsageError(f"{option}: takes name=value, e.g. {option} x=3, not {shortened(repr(item))}")
    if not text.strip():
        raise UsageError(f"{option}: {name}= needs a value after '=', e.g. {option} {name}=3 or {name}=[1, 2]")
    try:
        value = read_yaml(text, f"{option} {name}").plain()
    except GraphFileError as err:
        raise UsageError(f"{option}: {name}={shortened(text)}: {err.message}") from None
    _check_numbers(option, name, text, value)
    return name, value


def read_overrides(option: str, items: tuple[str, ...]) -> dict[str, object]:
    """Every name=value of a repeatable option (--at); a name given twice is a usage error, not the last one."""
    found: dict[str, object] = {}
    given: dict[str, str] = {}
    for item in items:
        name, value = read_option_value(option, item)
        if name in found:
            raise UsageError(
                f"{option}: {name} is given twice ({shortened(given[name])}, {shortened(item)}); give it once"
            )
        found[name], given[name] = value, item
    return found


def _check_numbers(option: str, name: str, text: str, value: object) -> None:
    """Numbers or lists of numbers only (NaN and inf are numbers: the graph decides what they mean)."""
    for item in _elements(value):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            what = "text" if isinstance(item, str) else "a mapping" if isinstance(item, dict) else repr(item)
            raise UsageError(
                f"{option}: {name}={shortened(text)}: a value is a number or a list of numbers, not {shortened(what)}"
            )
        elif isinstance(item, int) and abs(item) > 10**308:  # float() of it would overflow
            raise UsageError(f"{option}: {name}={shortened(text)}: the number is too large")


def read_direction(item: str) -> tuple[str, object]:
    """--direction x=[...]: a direction must be finite (a NaN tangent would blame a gate that did nothing wrong)."""
    name, value = read_option_value("--direction", item)
    if not all(math.isfinite(float(item)) for item in _elements(value)):
        raise UsageError(f"--direction: {name}={shortened(item.partition('=')[2])}: a direction must be finite numbers")
    return name, value


def _elements(value: object) -> Iterator[object]:
    """What a value of nested lists holds, list by list (a stack: no recursion limit for deep nesting)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            yield item
