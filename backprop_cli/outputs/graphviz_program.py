"""Running Graphviz's `dot`: found on PATH, fed on stdin, read from stdout, bounded in time and effort.

No file is written here: the caller writes the bytes to exactly the path the user named.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..errors import BackpropError, UsageError

FORMATS = ("svg", "png", "pdf", "dot", "html")  # dot: the DOT text itself, which needs no Graphviz; html: a page
INSTALL = "apt-get install graphviz, brew install graphviz, or see https://graphviz.org/download/"
TIMEOUT = 60.0  # seconds for one drawing
LAYOUT_LIMITS = {  # bound dot's iterative phases, so a big graph is laid out a little worse, not forever
    "nslimit": 4.0,  # network simplex (ranking, x coordinates): iterations × nodes
    "nslimit1": 4.0,
    "mclimit": 0.5,  # crossing minimisation passes
    "searchsize": 30,  # edges searched for a better simplex pivot
}


SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".html": "html", ".htm": "html"}


class GraphvizError(BackpropError):
    """`dot` is missing, failed, or took too long (exit 2: fix the setup, or draw less)."""


def drawing_format(path: str | None, fmt: str | None) -> str:
    """The format from --format or from the file name's suffix (svg for stdout); they must agree."""
    if path is None or path == "-":
        return fmt or "svg"
    named = SUFFIXES.get(Path(path).suffix.lower())
    if fmt is not None and named is not None and fmt != named:
        raise UsageError(f"-o {path}: the name says {named}, --format says {fmt}")
    if fmt is None and named is None:
        raise UsageError(
            f"-o {path}: cannot tell the format from the name: end it in .svg, .png, .pdf, .dot or .html, or give --format"
        )
    return fmt or named


def find_dot() -> str:
    path = shutil.which("dot")
    if path is None:
        raise GraphvizError(f"drawing svg, png or pdf needs Graphviz's `dot` program: {INSTALL} (or use --format dot)")
    return path


def box_sizes(dot_text: str, timeout: float = TIMEOUT) -> dict[str, tuple[float, float]]:
    """Each box's (width, height) in inches as dot lays it out (from `dot -Tplain`)."""
    sizes = {}
    for line in run_dot(dot_text, "plain", timeout).decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) > 5 and parts[0] == "node":  # node <id> <x> <y> <width> <height> <label> ...
            sizes[parts[1]] = (float(parts[4]), float(parts[5]))
    return sizes


def run_dot(dot_text: str, fmt: str, timeout: float = TIMEOUT, dpi: int | None = None) -> bytes:
    """The drawing as bytes in fmt (svg, png, pdf); fmt "dot" returns the DOT text without running anything."""
    if fmt == "dot":
        return dot_text.encode("utf-8")
    command = [find_dot(), f"-T{fmt}", *(f"-G{key}={value}" for key, value in LAYOUT_LIMITS.items())]
    if dpi is not None and fmt == "png":
        command.append(f"-Gdpi={dpi}")
    try:
        done = subprocess.run(command, input=dot_text.encode("utf-8"), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise GraphvizError(
            f"dot did not finish the drawing within {timeout:g} s: draw less with --collapse, "
            "or allow more time with --timeout"
        ) from None
    except OSError as err:
        raise GraphvizError(f"cannot run dot: {err.strerror or err}") from None
    if done.returncode != 0 or not done.stdout:
        message = next((line for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()), "")
        raise GraphvizError(f"dot failed (exit {done.returncode}): {message or 'no output'}")
    return done.stdout
