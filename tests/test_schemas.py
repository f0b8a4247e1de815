"""Every JSON document backprop writes validates against the schema shipped with it (backprop_cli/schemas, issue
23): every command × every bundled example × its main options, errors included (a run that stops writes the
error form of its command's schema)."""

from __future__ import annotations

import json

import pytest
from schema_check import json_validator

from backprop_cli.examples import bundled
from backprop_cli.schemas import schema

jsonschema = pytest.importorskip("jsonschema")

EXAMPLES = [path.stem for path in bundled()]
RUNS = {  # command -> the option sets run on every example (each with --json)
    "trace": [["--mode", "both", "--explain"]],  # every field of reverse mode alone, and more
    "gradcheck": [["--elements", "direction"]],
    "jacobian": [[]],
    "hessian": [[]],
    "derivatives": [["--order", "2"]],
    "train": [["--steps", "2", "--compare", "sgd,adam"]],
}


def _shrunk(data: object, keep: int = 6) -> object:
    """Every list cut to its first elements: a tensor's numbers all have the same schema, and jsonschema takes
    about a minute for the 7 MB of two_layer's trace (test_a_whole_document_is_valid_too checks one whole)."""
    if isinstance(data, list):
        return [_shrunk(x, keep) for x in data[:keep]]
    if isinstance(data, dict):
        return {k: _shrunk(v, keep) for k, v in data.items()}
    return data


def _validate(text: str, command: str) -> dict:
    document = json.loads(text)
    json_validator(f"backprop.{command}").validate(_shrunk(document))
    return document


@pytest.mark.parametrize("command", list(RUNS))
def test_every_command_on_every_example_writes_a_valid_document(run, command):
    codes = set()
    for example in EXAMPLES:
        for options in RUNS[command]:
            result = run(command, example, *options, "--json", "--compact")
            assert result.exit_code in (0, 1, 2, 3), (example, options, result.stderr)
            document = _validate(result.stdout, command)
            assert ("error" in document) == (result.exit_code >= 2), (example, options)
            codes.add(result.exit_code)
    assert 0 in codes  # most examples give a result, not only errors


def test_the_listings_and_several_files_are_valid_too(run):
    _validate(run("examples", "--json").stdout, "examples")
    _validate(run("ops", "--json").stdout, "ops")
    both = _validate(run("gradcheck", "circuit", "detach", "--json").stdout, "gradcheck")
    assert len(both["files"]) == 2 and both["score"]["possible"] > 0


def test_a_whole_document_is_valid_too(run):
    document = json.loads(run("trace", "relu_layer", "--mode", "both", "--json").stdout)
    json_validator("backprop.trace").validate(document)
    bad = {**document, "values": {**document["values"], "x": [[1.0, "NaN"]]}}  # the schema can fail
    with pytest.raises(jsonschema.ValidationError):
        json_validator("backprop.trace").validate(bad)


def test_the_schemas_hold_the_versions_the_documents_say():
    for command in ("trace", "gradcheck", "jacobian", "hessian", "derivatives", "train", "examples", "ops"):
        result = schema(f"backprop.{command}")["$defs"]["result"]["properties"]
        assert result["schema"]["const"] == f"backprop.{command}"
        from backprop_cli.outputs.formats.json import header

        assert result["version"]["const"] == header(command)["version"]
