"""`backprop examples`: the bundled example graphs: a list, one of them printed, or copied to edit."""

from __future__ import annotations

from pathlib import Path

import click

from .options import complete_dir, complete_graph, epilog, reports_errors
from .output_options import output_options


@click.command(epilog=epilog("examples"))
@click.argument("name", required=False, shell_complete=complete_graph)
@click.option(
    "--copy",
    "copy_to",
    is_flag=False,
    flag_value=".",
    metavar="[DIR]",
    shell_complete=complete_dir,
    help="Write NAME's graph file (and the data files it reads) into DIR (default: the current folder), to edit.",
)
@click.option("--force", is_flag=True, help="With --copy: replace files of the same names.")
@output_options(
    "examples",
    kinds=("example",),
    format_help="Output format of the list: table (default), markdown, json (schema backprop.examples, version 1); "
    "yaml: NAME's graph file, as without --format.",
)
@reports_errors
def examples(name: str | None, copy_to: str | None, force: bool, output) -> None:
    """List the bundled example graphs, one line each; print NAME's graph file; or copy it with --copy."""
    from ..errors import UsageError

    asked = output.stdout  # on stdout (-o FILE's format is checked by output.check)
    if name is None:
        if copy_to is not None:
            raise UsageError("--copy copies one example: give its name, as in backprop examples circuit --copy")
        if asked == "yaml":
            raise UsageError("yaml is one example's graph file: give its NAME, as in backprop examples circuit")
        output.check()
        output.show(_listing())
        return
    if asked in ("json", "markdown"):
        how = "--json" if asked == "json" else f"--format {asked}"
        raise UsageError(f"{how} lists the examples: leave NAME out, or leave {how} out to print NAME's file")
    output.kind = "example"
    path = _example(name)
    if copy_to is None:
        output.check()
        output.show(path.read_text(encoding="utf-8"))  # backprop examples circuit > mine.yaml
        return
    files = _copies(path, Path(copy_to), force)
    from ..outputs.files import write_files

    for _, target in files:  # every check passed: now the folders
        target.parent.mkdir(parents=True, exist_ok=True)
    write_files({str(target): source.read_bytes() for source, target in reversed(files)})  # the graph file last
    output.wrote([str(target) for _, target in files])


def _listing() -> list[dict]:
    """name, file and about of each bundled example (the JSON's "examples")."""
    from ..examples import bundled
    from ..fileformat import load

    return [{"name": path.stem, "file": str(path), "about": load(path).about} for path in bundled()]


def _example(name: str) -> Path:
    from ..errors import UsageError, suggest
    from ..examples import bundled, examples_dir

    path = examples_dir() / f"{name}.yaml"
    if not path.is_file() or "/" in name:
        names = [p.stem for p in bundled()]
        raise UsageError(f"no bundled example {name!r}{suggest(name, names)} (`backprop examples` lists them)")
    return path


def _copies(path: Path, folder: Path, force: bool) -> list[tuple[Path, Path]]:
    """(source, target) for the graph file and every file it reads (`file:` leaves, plugin modules), checked
    before anything is written: a target that exists is replaced only with --force."""
    import yaml

    from ..errors import UsageError
    from ..outputs.files import check_folder, check_output

    check_folder("--copy", str(folder))
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}  # a bundled file: trusted, and already valid
    names = []
    for section in ("inputs", "params"):
        for leaf in (document.get(section) or {}).values():
            if isinstance(leaf, dict) and isinstance(leaf.get("file"), str):
                names.append(leaf["file"])
    for spec in (document.get("ops") or {}).values():
        if isinstance(spec, dict) and isinstance(spec.get("module"), str):
            names.append(spec["module"])
    files = [(path, folder / path.name)] + [(path.parent / n, folder / n) for n in dict.fromkeys(names)]
    for _, target in files:
        if target.exists() and not force:
            raise UsageError(f"--copy: {target} exists; add --force to replace it")
        if target.parent.is_dir():  # else it is made, in a folder check_folder found writable
            check_output("--copy", str(target))
    return files


command = examples
