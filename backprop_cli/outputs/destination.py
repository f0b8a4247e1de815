"""Where a command's result goes: the shared output options (--format, --json, -o, --pretty/--compact,
--quiet) of every command, checked before any work and written after it; and the error that stops a run,
written in the same format (a grader still gets its results file).

    -o FILE      the output in the format FILE's name says (.json, .md, .tex, .xml, .svg, .png, .yaml, ...),
                 or --format's where the name fits it (results.json: gradescope) or says none
    --format F   what stdout shows; with -o, what FILE gets. A drawing's name and a document's format part
                 ways: `jacobian --json -o m.svg` draws m.svg and prints the JSON
    stdout       beside -o FILE, the command's text (none for render), unless --quiet
    -o DIR       where a run may write a folder (a class's grades): a file per part of the result (a student's
                 results file each, ID.json), in --format; named as a folder: one that exists, a name ending
                 in /, or a name without a suffix
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import click

from ..errors import Position, UsageError, printable, shortened
from .formats import FORMATS, REGISTRY, Document, Settings, fits, formats_of, named_format, present


@dataclass
class Stop:
    """A run that stopped on an error, as the error presenters receive it (the line on stderr says the same)."""

    command: str
    message: str
    exit_code: int
    where: Position | None = None


@dataclass
class Output:
    """The formats a run writes and where: stdout's (None: nothing), -o FILE's, and other files (--plot)."""

    command: str
    kind: str
    stdout: str | None
    file: str | None = None
    file_format: str | None = None
    pretty: bool | None = None
    quiet: bool = False
    also: list[tuple[str, str, str]] = field(default_factory=list)  # (option, path, format)
    piped: bool = False  # -o - : stdout named
    folder: str | None = None  # -o DIR: a file for each part of the result, in folder_format
    folder_format: str | None = None
    named: list[str] = field(default_factory=list)  # the run's other arguments: files an error form never replaces

    # ------------------------------------------------------------ before any work
    def add(self, option: str, path: str, kind: str | None = None) -> None:
        """Another file of the run (train --plot FILE), in the format its name says."""
        fmt = named_format(kind or self.kind, path)
        if fmt is None:
            known = sorted({s for name in formats_of(kind or self.kind) for s in FORMATS[name].suffixes})
            raise UsageError(f"{option} {shortened(path, 200)}: the file name must end in {', '.join(known)}")
        self.also.append((option, path, fmt))

    @property
    def files(self) -> list[tuple[str, str, str]]:
        """(option, path, format) of every file the run writes."""
        own = [("-o", self.file, self.file_format)] if self.file is not None else []
        return own + self.also

    def check(self) -> None:
        """Every file writable and distinct; no binary format for a terminal."""
        from .files import check_distinct, check_folder, check_output
        from .terminal import stdout_is_terminal

        if self.folder is not None:
            if (self.kind, self.folder_format) not in REGISTRY:
                raise UsageError(f"--format {self.folder_format}: backprop {self.command} does not write it here")
            check_folder("-o", self.folder)
        for option, path, fmt in self.files:
            if (self.kind, fmt) not in REGISTRY:
                raise UsageError(f"{option} {shortened(path, 200)}: backprop {self.command} does not write {fmt}")
            check_output(option, path)
        check_distinct([(option, path) for option, path, _ in self.files])
        if self.stdout is not None and (self.kind, self.stdout) not in REGISTRY:
            known = ", ".join(formats_of(self.kind))
            raise UsageError(f"--format {self.stdout}: backprop {self.command} writes {known} here, not {self.stdout}")
        if self.stdout is not None and FORMATS[self.stdout].binary and stdout_is_terminal():
            raise UsageError(f"{self.stdout.upper()} is binary, not for a terminal: give -o FILE (or redirect stdout)")

    def check_not_inputs(self, inputs=()) -> None:
        """After the graph is loaded: no output replaces a file the run reads."""
        from .files import check_not_inputs

        check_not_inputs([(option, path) for option, path, _ in self.files], inputs)

    # ------------------------------------------------------------ after the work
    def settings(self, fmt: str, graph=None, terminal: bool = False, path: str | None = None, **options) -> Settings:
        from .terminal import terminal_width

        width = terminal_width() if terminal else None
        full = options.pop("full", False)
        return Settings(fmt, full, self.pretty, self.quiet, terminal, width, graph, options, path)

    def show(self, result, graph=None, **options) -> None:
        """The result in every format the run asked for: the files first (whole, or not at all), then stdout."""
        from .terminal import stdout_is_terminal

        for _, path, fmt in self.files:
            self._write(path, present(self.kind, fmt, result, self.settings(fmt, graph, path=path, **options)))
        if self.folder is not None:
            self._write_folder(result, graph, **options)
        if self.stdout is not None:
            terminal = stdout_is_terminal()
            _print(present(self.kind, self.stdout, result, self.settings(self.stdout, graph, terminal, **options)))

    def stream(self, kind: str, item, graph=None, **options) -> None:
        """A part of the result as soon as it is known (one file's line of gradcheck GRAPH...), where stdout's
        format shows parts."""
        if self.stdout is not None and not self.quiet and (kind, self.stdout) in REGISTRY:
            _print(present(kind, self.stdout, item, self.settings(self.stdout, graph, **options)))

    def wrote(self, what: str | list[str]) -> None:
        """`wrote FILE` (or `wrote A, B and C`) on stderr, unless --quiet."""
        if self.quiet:
            return
        names = [what] if isinstance(what, str) else list(what)
        text = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        click.echo(f"wrote {printable(text)}", err=True)

    def note(self, text: str) -> None:
        """A line on stderr about how the run went, unless --quiet."""
        if not self.quiet:
            click.echo(printable(text), err=True)

    def _write(self, path: str, presented) -> None:
        from .files import write_files, write_text

        if isinstance(presented, dict):  # several files: a trained graph and the .npy files it names
            write_files(presented)
            self.wrote([path, *[p for p in presented if p != path]])
            return
        if isinstance(presented, Document):
            presented = document_text(presented)
        if isinstance(presented, bytes):
            write_files({path: presented})
        else:
            write_text(path, presented if presented.endswith("\n") else presented + "\n")
        self.wrote(path)

    def _write_folder(self, result, graph=None, **options) -> None:
        """-o DIR: each part of the result (result.each(): name -> a result of the same kind) as NAME.suffix in
        the folder, all written or none; none may replace a file the run reads."""
        from .files import check_not_inputs, write_folder

        fmt, suffix = self.folder_format, FORMATS[self.folder_format].suffixes[0]
        files = {}
        for name, part in result.each().items():
            path = f"{self.folder.rstrip('/')}/{name}{suffix}"
            presented = present(self.kind, fmt, part, self.settings(fmt, graph, path=path, **options))
            if isinstance(presented, Document):
                presented = document_text(presented)
            if isinstance(presented, str):
                presented = (presented if presented.endswith("\n") else presented + "\n").encode("utf-8")
            files[f"{name}{suffix}"] = presented
        from pathlib import Path

        check_not_inputs([("-o", str(Path(self.folder) / name)) for name in files])
        write_folder(self.folder, files)
        self.wrote(f"{len(files)} {fmt} file{'s' * (len(files) != 1)} to {self.folder}")

    # ------------------------------------------------------------ a run that stopped
    def error(self, stop: Stop) -> None:
        """The error in each format that has an error form (JSON, the graders'): on stdout, in -o FILE."""
        if self.file is not None and ("error", self.file_format) in REGISTRY and not self._reads(self.file):
            try:
                self._write(self.file, present("error", self.file_format, stop, self.settings(self.file_format)))
            except Exception:  # the error may be the file itself (no such folder): stderr still says it
                pass
        if self.stdout is not None and ("error", self.stdout) in REGISTRY:
            _print(present("error", self.stdout, stop, self.settings(self.stdout)))

    def _reads(self, path: str) -> bool:
        """Whether the run reads the file at path: an input it noted, or a file another of its arguments names
        (a graph file that did not load, an answers file, before anything noted them)."""
        import os

        from .files import _input_at

        if _input_at(path) is not None:
            return True
        try:
            here = os.stat(path)
        except (OSError, ValueError):
            return False  # nothing there yet: nothing to lose
        for other in self.named:
            try:
                if os.path.samestat(here, os.stat(other)):
                    return True
            except (OSError, ValueError):
                continue
        return False


def document_text(document: Document) -> str:
    """A JSON document as text (for a file: written whole)."""
    from .json_output import emit_json

    parts: list[str] = []
    emit_json(document.data, document.pretty, parts.append)
    return "".join(parts)


def _print(presented) -> None:
    from .json_output import emit_json

    if presented is None:  # shown on the terminal already
        return
    if isinstance(presented, Document):
        emit_json(presented.data, presented.pretty)
    elif isinstance(presented, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(presented)
        sys.stdout.flush()
    else:
        click.echo(presented if presented.endswith("\n") else presented + "\n", nl=False)


# ------------------------------------------------------------ the options, read
def choose(
    command: str,
    kind: str,
    *,
    fmt: str | None = None,
    as_json: bool = False,
    out: str | None = None,
    pretty: bool | None = None,
    quiet: bool = False,
    default: str = "table",
    text: str | None = "table",
    kinds: tuple[str, ...] = (),
    only: tuple[str, ...] | None = None,
    lenient: bool = False,
    folder: bool = False,
) -> Output:
    """The Output of a run's options (see the module docstring). kinds: the other kinds of result the command
    may give (examples: the list, or one example); only: the formats it writes, where not all of its kinds'
    (render: drawings). lenient: never refuse, guess (for the error of a run whose options click refused).
    folder: -o may name a folder (see the module docstring), which gets a file per part in --format."""
    known = set(only) if only is not None else {f for k in (kind, *kinds) for f in formats_of(k)}
    if as_json and fmt not in (None, "json"):
        if not lenient:
            raise UsageError(f"--json and --format {fmt} ask for two outputs; give one of them")
        fmt = "json"
    asked = "json" if as_json else fmt
    if asked is not None and asked not in known:
        if not lenient:
            raise UsageError(f"--format {asked}: backprop {command} writes {', '.join(sorted(known))}")
        asked = None
    output = Output(command, kind, asked or default, pretty=pretty, quiet=quiet)
    if out is None:
        return output
    if out == "-":  # stdout, named
        output.piped = True
        return output
    if folder and _names_folder(out):
        if asked is None or asked not in FORMATS or not FORMATS[asked].stream:
            if lenient:
                return output
            raise UsageError(
                f"-o {shortened(out, 200)} names a folder, which gets a file per student: say in which format with "
                f"--format ({', '.join(f for f in sorted(known) if FORMATS[f].stream)})"
            )
        output.folder, output.folder_format = out, asked
        output.stdout = None if quiet else text
        return output
    if not lenient:
        from .files import destination

        destination("-o", out)  # a folder, a FIFO, a device: said as such
    named = next((named_format(k, out) for k in (kind, *kinds) if named_format(k, out) in known), None)
    if asked is not None and (named is None or fits(asked, out)):
        output.file_format = asked
    elif named is not None and asked is not None and FORMATS[asked].stream and not FORMATS[named].stream:
        output.file_format = named  # a drawing named, a document asked: both (jacobian --json -o m.svg)
    elif named is not None and asked is None:
        output.file_format = named
    elif lenient:
        return output
    elif named is None:
        suffixes = sorted({s for f in known for s in FORMATS[f].suffixes})
        raise UsageError(
            f"-o {shortened(out, 200)}: cannot tell the format from the name: end it "
            f"in {', '.join(suffixes)}, or give --format"
        )
    else:
        raise UsageError(f"-o {shortened(out, 200)}: the name says {named}, --format says {asked}")
    output.file = out
    if output.file_format == asked or asked is None:
        output.stdout = None if quiet else text  # beside the file: the command's text
    return output


def _names_folder(out: str) -> bool:
    """-o DIR: a folder that exists, a name ending in a slash, or a name without a suffix."""
    import os
    from pathlib import PurePath

    return os.path.isdir(out) or out.endswith(("/", os.sep)) or not PurePath(out).suffix
