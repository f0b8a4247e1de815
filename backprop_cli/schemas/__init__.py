"""JSON Schema files for every JSON document backprop writes (backprop.<command>.schema.json) and for the
graders' result files (gradescope, prairielearn; junit.xsd for JUnit XML); tests/test_schemas.py validates
every command's output against them. schema(name) reads one."""

from __future__ import annotations

import json
from importlib.resources import files


def schema(name: str) -> dict:
    """The JSON Schema of a document: "backprop.trace", "gradescope", "prairielearn", ..."""
    return json.loads(files(__name__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8"))


def path(name: str):
    """The file itself (junit.xsd, or NAME.schema.json), for a validator that reads files."""
    return files(__name__).joinpath(name)
