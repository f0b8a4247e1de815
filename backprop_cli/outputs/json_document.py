"""Every --json run prints exactly one JSON document on stdout: its result, or the error that stopped it.
json_output.emit_json writes every document; here is the form of the error one, the same for every command:
    {"schema": "backprop.<command>", "version": 1, "exit_code": N,
     "error": {"message": ..., "file": ..., "line": ..., "column": ..., "exit_code": N}}
"""

from __future__ import annotations

from ..errors import Position

VERSION = 1


def error_object(message: str, exit_code: int, where: Position | None = None) -> dict:
    """What went wrong and where: file, line and column are null where unknown."""
    return {
        "message": " ".join(message.split()),
        "file": where.file if where else None,
        "line": where.line if where else None,
        "column": where.column if where else None,
        "exit_code": int(exit_code),
    }


def error_document(schema: str, message: str, exit_code: int, where: Position | None = None) -> dict:
    """The document of a run that stopped on an error (the line on stderr says the same)."""
    return {
        "schema": schema,
        "version": VERSION,
        "exit_code": int(exit_code),
        "error": error_object(message, exit_code, where),
    }
