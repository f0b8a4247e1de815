"""The registry of presenters: which formats each kind of result has, and which module presents them.

A command computes a result (a trace, a gradcheck run, a Jacobian, a Hessian, a training run, the op table,
the examples) and hands it to a presenter: one module per format in this folder, with one function per kind
of result it presents (`json.trace`, `gradescope.gradcheck`, ...). The table below is data, so that the
options of every command (`--format` and its help) are known without importing a presenter; adding a format
is one module and one line here, and touches no command.

A presenter is `function(result, settings) -> str | bytes | Document | Files | None`: text or bytes; a JSON
document whose arrays json_output streams; several files (`{path: bytes}`, a trained graph and its .npy
files); or None when it printed to the terminal itself (rich tables).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module

KINDS = (
    "trace", "gradcheck", "grade", "jacobian", "hessian", "derivatives", "train", "examples", "example", "ops", "error"
)  # fmt: skip


@dataclass(frozen=True)
class Format:
    name: str
    suffixes: tuple[str, ...]  # file names that say this format (-o FILE)
    about: str  # for --help and docs/commands
    stream: bool = True  # a document: may go to stdout while -o FILE takes another format
    binary: bool = False  # never to a terminal


FORMATS = {
    f.name: f
    for f in (
        Format("table", (".txt",), "the terminal's text: tables, matrices, summary lines"),
        Format("json", (".json",), "one JSON object (schema backprop.<command>)"),
        Format("markdown", (".md", ".markdown"), "Markdown, for write-ups and CI summaries"),
        Format("latex", (".tex",), "LaTeX, for answer keys"),
        Format("gradescope", (".json",), "Gradescope's results.json"),
        Format("prairielearn", (".json",), "PrairieLearn's external grader results.json"),
        Format("junit", (".xml",), "JUnit XML (GitLab, GitHub test reports)"),
        Format("csv", (".csv",), "a CSV table, a row per student (gradcheck --answers)"),
        Format("svg", (".svg",), "an SVG drawing", stream=False),
        Format("png", (".png",), "a PNG picture", stream=False, binary=True),
        Format("pdf", (".pdf",), "a PDF drawing", stream=False, binary=True),
        Format("dot", (".dot", ".gv"), "Graphviz's DOT text", stream=False),
        Format("html", (".html", ".htm"), "a web page", stream=False),
        Format("gif", (".gif",), "an animated GIF", stream=False, binary=True),
        Format("yaml", (".yaml", ".yml"), "a graph file", stream=False),
    )
}

# module -> (the formats it presents, the kinds of result it presents)
PRESENTERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "table": (
        ("table",),
        ("trace", "gradcheck", "gradcheck_file", "grade", "jacobian", "hessian", "derivatives", "train", "examples")
        + ("example", "ops"),
    ),
    "json": (
        ("json",),
        ("trace", "gradcheck", "grade", "jacobian", "hessian", "derivatives", "train", "examples", "ops", "error"),
    ),
    "markdown": (("markdown",), ("trace", "gradcheck", "grade", "jacobian", "hessian", "examples", "ops")),
    "latex": (("latex",), ("trace", "jacobian", "hessian")),
    "gradescope": (("gradescope",), ("gradcheck", "grade", "error")),
    "prairielearn": (("prairielearn",), ("gradcheck", "grade", "error")),
    "junit": (("junit",), ("gradcheck", "grade", "error")),
    "csv": (("csv",), ("grade",)),
    "drawing": (("svg", "png", "pdf", "dot", "html"), ("trace",)),
    "heatmap": (("svg", "png"), ("jacobian", "hessian")),
    "plots": (("svg", "png", "pdf", "gif", "html"), ("train",)),
    "yaml": (("yaml",), ("train", "example")),
}


@dataclass
class Document:
    """A JSON document: plain data and numpy arrays (written by json_output.emit_json, arrays streamed)."""

    data: dict
    pretty: bool | None = None  # None: indented when small


@dataclass
class Settings:
    """What a presenter may be asked besides the result: the format, --full, --pretty/--compact, --quiet,
    whether stdout is a terminal (and how wide), the graph the result is of, and a command's own choices."""

    format: str
    full: bool = False
    pretty: bool | None = None
    quiet: bool = False
    terminal: bool = False
    width: int | None = None
    graph: object = None
    options: dict = field(default_factory=dict)
    path: str | None = None  # the file written (None: stdout)


def _table() -> dict[tuple[str, str], str]:
    return {(kind, fmt): module for module, (formats, kinds) in PRESENTERS.items() for fmt in formats for kind in kinds}


REGISTRY = _table()  # (kind, format) -> module


def formats_of(kind: str) -> list[str]:
    """The formats a kind of result has, in the order of FORMATS."""
    return [name for name in FORMATS if (kind, name) in REGISTRY]


def named_format(kind: str, path: str) -> str | None:
    """The format a file name says (-o results.xml: junit), among the kind's; None when it says none."""
    from pathlib import PurePath

    suffix = PurePath(path).suffix.lower()
    return next((name for name in formats_of(kind) if suffix in FORMATS[name].suffixes), None)


def fits(fmt: str, path: str) -> bool:
    """Whether a file name suits a format (results.json suits json, gradescope and prairielearn)."""
    from pathlib import PurePath

    return PurePath(path).suffix.lower() in FORMATS[fmt].suffixes


def present(kind: str, fmt: str, result: object, settings: Settings):
    """The result in the format: the presenter's return value (see the module docstring)."""
    module = import_module(f"{__name__}.{REGISTRY[(kind, fmt)]}")
    return getattr(module, kind)(result, settings)
