"""The example graphs that ship with the package: found by name or by path."""

from __future__ import annotations

from pathlib import Path

from .errors import GraphFileError, Position


def examples_dir() -> Path:
    """Installed wheels carry them in backprop_cli/graphs; a checkout has them in graphs/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "graphs", here.parent / "graphs"):
        if candidate.is_dir():
            return candidate
    return here / "graphs"


def bundled() -> list[Path]:
    return sorted(examples_dir().glob("*.yaml"))


def resolve(name: str) -> Path:
    """A path as given if it exists; else a bundled example by name (`circuit`)."""
    path = Path(name)
    if path.exists() or path.suffix in (".yaml", ".yml") or "/" in name:
        if not path.exists():
            raise GraphFileError("no such file", Position(name))
        return path
    candidate = examples_dir() / f"{name}.yaml"
    if candidate.exists():
        return candidate
    from .errors import suggest

    names = [p.stem for p in bundled()]
    raise GraphFileError(
        f"no such file or bundled example{suggest(name, names)} (`backprop examples` lists them)", Position(name)
    )
