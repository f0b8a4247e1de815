"""A class roster for `backprop worksheet --students`: a CSV file whose first column is each student's
identifier (a header row allowed). Identifiers become file names (ID.svg, ID.key.svg), so each must be safe
as one, and unique (ignoring case: two files differing in case are one file on macOS and Windows)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..errors import GraphFileError, Position, shortened

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")  # no /, no .., no spaces: a file name anywhere
HEADERS = {"id", "student", "student_id", "studentid", "sid", "uid", "user", "username", "login", "email", "name"}
RESERVED = {"answers", "manifest", "graded"}  # the folder's own files: answers.csv, manifest.json
MAX_STUDENTS = 100_000
MAX_BYTES = 16 * 2**20


def check_student_id(student: str, where: Position) -> str:
    """A student identifier safe as a file name, or GraphFileError saying what to change."""
    if not SAFE_ID.fullmatch(student) or student.endswith(".key") or ".." in student:
        raise GraphFileError(
            f"student id {shortened(student)!r} cannot be a file name: use letters, digits and . _ @ + - "
            "(starting with a letter or digit, at most 100 characters)",
            where,
        )
    if student.lower().endswith(".graph"):
        raise GraphFileError(
            f"student id {student!r} ends in .graph, as the drawings beside LaTeX sheets do (ID.graph.pdf): rename it",
            where,
        )
    if student.lower() in RESERVED:
        raise GraphFileError(f"student id {student!r} is the name of one of the folder's own files", where)
    return student


def read_roster(path: str) -> list[str]:
    """The identifiers of the roster's first column, in file order; GraphFileError naming the line."""
    place = Path(path)
    try:
        data = place.read_bytes()[: MAX_BYTES + 1]
    except IsADirectoryError:
        raise GraphFileError("is a directory, not a roster (a CSV file)", Position(path)) from None
    except OSError as err:
        raise GraphFileError(f"cannot read the roster: {err.strerror}", Position(path)) from None
    if len(data) > MAX_BYTES:
        raise GraphFileError(f"a roster larger than {MAX_BYTES // 2**20} MiB", Position(path))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise GraphFileError("the roster is not UTF-8 text", Position(path, line)) from None
    sample = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if ";" in sample else "\t" if "\t" in sample else ","
    ids: list[str] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        student = row[0].strip()
        if not ids and not seen and student.lower().replace(" ", "_") in HEADERS:
            seen[""] = number  # the header row
            continue
        where = Position(path, number, 1)
        check_student_id(student, where)
        if student.lower() in seen:
            raise GraphFileError(
                f"student id {student!r} is listed twice (first on line {seen[student.lower()]}); ids must be "
                "unique, ignoring case",
                where,
            )
        seen[student.lower()] = number
        ids.append(student)
        if len(ids) > MAX_STUDENTS:
            raise GraphFileError(f"more than {MAX_STUDENTS:,} students", where)
    if not ids:
        raise GraphFileError("the roster lists no students (their ids go in the first column)", Position(path))
    return ids
