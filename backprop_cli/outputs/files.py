"""Files the commands write: paths checked before any work, then written whole, exactly where named."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError


def check_output(option: str, path: str, suffixes: tuple[str, ...] | None = None) -> None:
    """A file we may create or replace: the right kind of name, not a directory, in a folder that exists."""
    target = Path(path)
    if suffixes is not None and target.suffix.lower() not in suffixes:
        raise UsageError(f"{option} {path}: the file name must end in {', '.join(suffixes)}")
    if target.is_dir():
        raise UsageError(f"{option} {path}: is a directory")
    if not target.resolve().parent.is_dir():
        raise UsageError(f"{option} {path}: no such directory {str(target.parent)!r}")


def check_folder(option: str, path: str) -> None:
    """A folder we may create (its parent must exist) or fill."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{option} {path}: exists and is not a directory")
    if not target.resolve().parent.is_dir():
        raise UsageError(f"{option} {path}: no such directory {str(target.parent)!r}")


def write_folder(path: str, files: dict[str, bytes]) -> None:
    """Files (by name) into a folder, created if missing."""
    try:
        Path(path).mkdir(exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create {path}: {err.strerror or err}") from None
    for name, data in files.items():
        write_bytes(str(Path(path) / name), data)


def write_bytes(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None


def write_text(path: str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
