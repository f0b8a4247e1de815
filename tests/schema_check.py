"""The schemas the suite validates against (backprop_cli/schemas), each compiled once per test process:
compiling junit.xsd takes ~0.3 s, and jsonschema.validate checks the schema itself again at every call."""

from __future__ import annotations

import functools

import pytest

from backprop_cli.schemas import path, schema


@functools.cache
def json_validator(name: str):
    """The validator of a JSON Schema: "backprop.trace", "gradescope", "prairielearn", ..."""
    jsonschema = pytest.importorskip("jsonschema")
    found = schema(name)
    jsonschema.Draft202012Validator.check_schema(found)
    return jsonschema.Draft202012Validator(found)


def check_json(document: object, name: str) -> None:
    """Raises jsonschema.ValidationError where the document does not fit the schema."""
    json_validator(name).validate(document)


@functools.cache
def junit_schema():
    xmlschema = pytest.importorskip("xmlschema")
    return xmlschema.XMLSchema(str(path("junit.xsd")))


def check_junit(xml: str) -> None:
    """JUnit XML (its text, or a file's path) against junit.xsd; raises where it does not fit."""
    junit_schema().validate(xml)
