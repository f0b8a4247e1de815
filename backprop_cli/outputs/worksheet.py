"""--worksheet: the diagram with the gradients (or the gate values) left blank for students, and
its answer key, the full diagram, in a second file beside it: out.svg and out.key.svg."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..engines.trace import Trace
from .diagram import Look, build_dot
from .routes import trace_routes

BLANKS = {
    "gradients": frozenset({"gradients"}),
    "values": frozenset({"values"}),
    "both": frozenset({"values", "gradients"}),
}


def key_path(path: str) -> str:
    """Where the answer key goes: beside the worksheet, .key before the suffix (out.svg -> out.key.svg)."""
    target = Path(path)
    return str(target.with_name(f"{target.stem}.key{target.suffix}"))


def worksheet_dots(trace: Trace, look: Look, blank: str = "gradients") -> tuple[str, str]:
    """The DOT texts of the worksheet and of its answer key."""
    routes = trace_routes(trace)
    sheet = build_dot(trace, replace(look, blank=BLANKS[blank]), routes=routes)
    key = build_dot(trace, replace(look, note="answer key"), routes=routes)
    return sheet, key
