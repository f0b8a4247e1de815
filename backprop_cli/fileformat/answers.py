"""A student's answers to grade (issue 25): a YAML file in the `expect:` form (`values:`, `gradients:`,
`tolerance:`, at the top or under `expect:`), a folder of such files named ID.yaml, or a CSV file with a row
per student in answers.csv's columns (`id`, then `q` for a value, `grad(x)` for a gradient; an empty cell
is a question not answered). Checked for form with file, line and column; their truth is verify/answer_grading.py's."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from ..errors import GraphFileError, Position, suggest
from .read_expect import check_expect_form
from .roster import check_student_id
from .yaml_source import MAX_BYTES, read_yaml

GRADIENT_COLUMN = re.compile(r"grad\((\w+)\)")
ANSWER_SUFFIXES = (".yaml", ".yml")


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise GraphFileError(f"is a directory, not {what}", Position(str(path))) from None
    except OSError as err:
        raise GraphFileError(f"cannot read {what}: {err.strerror}", Position(str(path))) from None
    if len(data) > MAX_BYTES:
        raise GraphFileError(f"{what} larger than {MAX_BYTES // 2**20} MiB", Position(str(path)))
    return data


def read_answers(path: str | Path, names: dict[str, object]) -> dict:
    """One student's answers file as the plain `expect:` block; GraphFileError at the place of a bad entry."""
    path = Path(path)
    doc = read_yaml(_read_bytes(path, "an answers file"), str(path))
    block = doc.value.get("expect", doc) if isinstance(doc.value, dict) else doc
    if isinstance(block.value, dict) and "expect" not in (doc.value or {}):
        extra = [k for k in block.value if k not in ("values", "gradients", "tolerance")]
        if extra:
            raise GraphFileError(
                f"unknown key {extra[0]!r} in the answers{suggest(extra[0], ['values', 'gradients'])} (an answers "
                "file holds values:, gradients: and tolerance:, as expect: does)",
                block.key_where[extra[0]],
            )
    if block.value is None:
        return {}
    check_expect_form(block, names)
    return block.plain()


def answers_folder(path: str | Path) -> list[tuple[str, Path]]:
    """(student id, file) for every ID.yaml of a folder, sorted by id."""
    files = []
    for item in sorted(Path(path).iterdir()):
        if item.suffix.lower() in ANSWER_SUFFIXES and item.is_file():
            files.append((check_student_id(item.stem, Position(str(item))), item))
    if not files:
        raise GraphFileError("the folder holds no answers files (ID.yaml, one per student)", Position(str(path)))
    return files


def read_answers_csv(path: str | Path, names: dict[str, object]) -> dict[str, dict | GraphFileError]:
    """Each student's answers from a CSV file in answers.csv's columns; a student whose row cannot be read
    gets its error instead (the others are still graded)."""
    path = Path(path)
    try:
        text = _read_bytes(path, "an answers CSV file").decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GraphFileError("the answers CSV file is not UTF-8 text", Position(str(path))) from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not rows[0] or rows[0][0].strip().lower() != "id":
        raise GraphFileError(
            "an answers CSV file starts with a header row: id, then the columns", Position(str(path), 1)
        )
    columns = []
    for number, column in enumerate(rows[0][1:], start=2):
        match = GRADIENT_COLUMN.fullmatch(column.strip())
        name = match.group(1) if match else column.strip()
        if name not in names:
            known = [n for n in names if "." not in n]
            raise GraphFileError(
                f"column {column!r} is not a node or grad(node){suggest(name, known)}", Position(str(path), 1, number)
            )
        columns.append(("gradients" if match else "values", name))
    out: dict[str, dict | GraphFileError] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        student = check_student_id(row[0].strip(), Position(str(path), line, 1))
        if student in out:
            raise GraphFileError(f"student {student!r} has two rows", Position(str(path), line, 1))
        block: dict = {"values": {}, "gradients": {}}
        try:
            for (kind, name), cell in zip(columns, row[1:], strict=False):
                if cell.strip():
                    block[kind][name] = _cell(cell, Position(str(path), line))
        except GraphFileError as err:
            out[student] = err
            continue
        out[student] = block
    return out


def _cell(text: str, where: Position) -> object:
    try:
        value = json.loads(text.strip().replace("−", "-"))
    except ValueError:
        value = None
    flat = json.dumps(value)
    if value is None or isinstance(value, (bool, str, dict)) or "true" in flat or "false" in flat or '"' in flat:
        raise GraphFileError(f"{text.strip()!r} is not a number (nor a list of numbers)", where)
    return value
