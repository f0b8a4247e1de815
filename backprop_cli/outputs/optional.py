"""The optional dependencies (the `plot` extra: matplotlib, and pillow for GIFs), checked before any work is
done, with the install line for both ways of installing backprop."""

from __future__ import annotations

from importlib.util import find_spec

from ..errors import UsageError

PACKAGES = {"matplotlib": "matplotlib", "PIL": "pillow"}  # module -> the package that provides it
INSTALL = "pip install 'backprop-cli[plot]', or for a pipx install: pipx inject backprop-cli matplotlib pillow"


def missing(*modules: str) -> list[str]:
    """The packages of modules that cannot be imported (found without importing them: no cost when present)."""
    return [PACKAGES[m] for m in modules if find_spec(m) is None]


def require(what: str, *modules: str) -> None:
    """UsageError (exit 2) naming what needs the missing packages and how to install them."""
    absent = missing(*modules)
    if absent:
        raise UsageError(f"{what} needs {' and '.join(absent)}: {INSTALL}")
