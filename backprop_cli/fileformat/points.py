"""The `points:` key: what an instructor grades in a graph file, and how much each part is worth (issue 23).

points:
  default: 1                  # the points of a graded part without an entry of its own (default 1)
  visibility: visible         # who sees a part's result and when: visible (default), hidden, after_due_date,
                              #   after_published (Gradescope's words; the other formats show every part)
  leaves: {W: 2, b: 1}        # the gradient check of a leaf; `leaves: 2` gives every leaf 2; 0: not graded
  expect:                     # a hand-derived answer, by its section and name: of the expect: block, or a
    values: {q: 1}            #   quantity a worksheet asks (`gradcheck --answers`, issue 25): the value of a
    gradients: {x: 2}         #   node, the gradient of a leaf or node but the output; `expect: 2`: every one 2
  ops: {affine: 5}            # a plugin op (by its name under ops:), its backward checked alone

Any entry may be {points: N, visibility: hidden} instead of a number. verify/grading.py turns a gradcheck
report and these points into a score; verify/answer_grading.py a student's hand answers (the `asked` entries);
every output format shows that one score.
"""

from __future__ import annotations

import math

from ..errors import GraphFileError, suggest
from .yaml_source import Located

KEYS = ("default", "visibility", "leaves", "expect", "ops")
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")  # Gradescope's test visibilities
EXPECT_SECTIONS = ("values", "gradients")
MAX_POINTS = 1e6
FORM = "points must be a mapping with default, visibility, leaves, expect and ops, as in points: {leaves: {w: 2}}"


def read_points(
    block: Located, leaves: list[str], expect: object, plugin_ops: list[str], asked: dict[str, list[str]] | None = None
) -> dict[str, object]:
    """The points block, plain and complete: {default, visibility, leaves: {name: entry}, expect: {section:
    {name: entry}}, asked: {section: {name: entry}}, ops: {name: entry}}, each entry {points, visibility};
    GraphFileError with a position. asked: the quantities a worksheet may ask, by section (values: the file's
    nodes; gradients: its leaves and nodes but the output): `expect:` entries may name them too."""
    if not isinstance(block.value, dict):
        raise GraphFileError(FORM, block.where)
    top = block.value
    for key in top:
        if key not in KEYS:
            hint = suggest(str(key), KEYS) or f" (it takes {', '.join(KEYS)})"
            raise GraphFileError(f"points: unknown key {key!r}{hint}", block.key_where[key])
    default = _number(top["default"], "points: default") if "default" in top else 1.0
    visibility = _visibility(top["visibility"], "points: visibility") if "visibility" in top else "visible"
    base = {"points": default, "visibility": visibility}
    answers = expect if isinstance(expect, dict) else {}
    sections = {s: list(answers.get(s) or {}) for s in EXPECT_SECTIONS}
    asked = asked or {s: [] for s in EXPECT_SECTIONS}
    either = {s: sections[s] + [n for n in asked[s] if n not in sections[s]] for s in EXPECT_SECTIONS}
    out: dict[str, object] = {"default": default, "visibility": visibility}
    out["leaves"] = _entries(top.get("leaves"), "points: leaves", leaves, base, "leaf")
    out["ops"] = _entries(top.get("ops"), "points: ops", plugin_ops, base, "plugin op")
    item = top.get("expect")
    if item is not None and isinstance(item.value, dict):
        for key in item.value:
            if key not in EXPECT_SECTIONS:
                raise GraphFileError(
                    f"points: expect: unknown key {key!r}{suggest(str(key), EXPECT_SECTIONS)} (it takes values, "
                    "gradients, as the expect: block)",
                    item.key_where[key],
                )
        both = {s: _entries(item.value.get(s), f"points: expect: {s}", either[s], base, s) for s in EXPECT_SECTIONS}
    else:
        every = _entry(item, "points: expect", base) if item is not None else base
        both = {s: {name: dict(every) for name in either[s]} for s in EXPECT_SECTIONS}
    out["expect"] = {s: {name: both[s][name] for name in sections[s]} for s in EXPECT_SECTIONS}
    out["asked"] = {s: {name: both[s][name] for name in asked[s]} for s in EXPECT_SECTIONS}
    return out


def default_points(leaves: list[str], expect: object, plugin_ops: list[str]) -> dict[str, object]:
    """The points of a file without a points: block: 1 for each leaf, expect answer and plugin op."""
    return read_points(Located({}, None), leaves, expect, plugin_ops)  # type: ignore[arg-type]


def _entries(item: Located | None, what: str, names: list[str], base: dict, noun: str) -> dict[str, dict]:
    """{name: entry} for every name: a number (or {points, visibility}) for all of them, or one per name."""
    if item is None or item.value is None:
        return {name: dict(base) for name in names}
    if not isinstance(item.value, dict) or set(item.value) <= {"points", "visibility"} and item.value:
        every = _entry(item, what, base)
        return {name: dict(every) for name in names}
    for name in item.value:
        if name not in names:
            raise GraphFileError(f"{what}: {_not_one(str(name), names, noun)}", item.key_where[name])
    return {
        name: _entry(item.value[name], f"{what}: {name}", base) if name in item.value else dict(base) for name in names
    }


ASKED = {  # what a points: expect: section may name, in words
    "values": "the value of a node of the file (a leaf's value is given, not asked)",
    "gradients": "the gradient of a leaf or node of the file but the output (d output/d output is 1, not asked)",
}


def _not_one(name: str, names: list[str], noun: str) -> str:
    """'x' is not a leaf of the graph (did you mean 'w'? / the file's: a, b): what may be named instead."""
    if noun in ASKED:  # a section of points: expect: an expect: answer, or a quantity a worksheet asks
        hint = (suggest(name, names) or f" (the file's: {', '.join(names)})") if names else ""
        return f"{name!r} is not an answer the file asks for: {ASKED[noun]}{hint}"
    known = f" (the file's: {', '.join(names)})" if names else f" (the file has no {noun})"
    return f"{name!r} is not a {noun} of the graph{suggest(name, names) or known}"


def _entry(item: Located, what: str, base: dict) -> dict:
    if isinstance(item.value, dict):
        for key in item.value:
            if key not in ("points", "visibility"):
                raise GraphFileError(
                    f"{what}: unknown key {key!r}{suggest(str(key), ('points', 'visibility'))} (an entry is a number, "
                    "or {points: N, visibility: hidden})",
                    item.key_where[key],
                )
        points = _number(item.value["points"], what) if "points" in item.value else base["points"]
        visible = (
            _visibility(item.value["visibility"], f"{what}: visibility")
            if "visibility" in item.value
            else base["visibility"]
        )
        return {"points": points, "visibility": visible}
    return {"points": _number(item, what), "visibility": base["visibility"]}


def _number(item: Located, what: str) -> float:
    value = item.value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise GraphFileError(f"{what} must be a number of points, as in 2 or 0.5", item.where)
    if not 0 <= value <= MAX_POINTS:
        raise GraphFileError(f"{what} must be from 0 to {MAX_POINTS:,.0f} points", item.where)
    return float(value)


def _visibility(item: Located, what: str) -> str:
    if item.value not in VISIBILITIES:
        hint = suggest(str(item.value), VISIBILITIES)
        raise GraphFileError(f"{what} must be one of {', '.join(VISIBILITIES)}{hint}", item.where)
    return str(item.value)
