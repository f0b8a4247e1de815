"""`backprop examples`: the bundled example graphs: a list, one of them printed, or copied to edit."""

from __future__ import annotations

from pathlib import Path

import click

from .options import complete_dir, complete_graph, epilog, quiet_option, reports_errors, say_wrote

SCHEMA = "backprop.examples"


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
@quiet_option()
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object (schema backprop.examples, version 1): name, file, about."
)
@reports_errors
def examples(name: str | None, copy_to: str | None, force: bool, quiet: bool, as_json: bool) -> None:
    """List the bundled example graphs, one line each; print NAME's graph file; or copy it with --copy."""
    from ..errors import UsageError

    if name is None:
        if copy_to is not None:
            raise UsageError("--copy copies one example: give its name, as in backprop examples circuit --copy")
        _list(as_json)
        return
    if as_json:
        raise UsageError("--json lists the examples: leave NAME out, or leave --json out to print NAME's file")
    path = _example(name)
    if copy_to is None:
        click.echo(path.read_text(encoding="utf-8"), nl=False)  # backprop examples circuit > mine.yaml
        return
    files = _copies(path, Path(copy_to), force)
    from ..outputs.files import write_files

    for _, target in files:  # every check passed: now the folders
        target.parent.mkdir(parents=True, exist_ok=True)
    write_files({str(target): source.read_bytes() for source, target in reversed(files)})  # the graph file last
    say_wrote([str(target) for _, target in files], quiet)


def _list(as_json: bool) -> None:
    from ..errors import printable
    from ..examples import bundled
    from ..fileformat import load

    items = [{"name": path.stem, "file": str(path), "about": load(path).about} for path in bundled()]
    if as_json:
        from ..outputs.json_document import VERSION
        from ..outputs.json_output import emit_json as write

        write({"schema": SCHEMA, "version": VERSION, "examples": items})
        return
    from ..outputs.terminal import terminal_width

    width = max((len(i["name"]) for i in items), default=0)
    columns = terminal_width()  # piped: one line each, whole (for grep); on a terminal, short of its last column
    columns = None if columns is None else columns - 1
    for item in items:
        about = printable(item["about"])
        if columns is None or width + 2 + len(about) <= columns:
            click.echo(f"{item['name']:<{width}}  {about}")
            continue
        import textwrap  # on a terminal: the about wrapped under itself

        lines = textwrap.wrap(about, max(20, columns - width - 2), break_on_hyphens=False)
        click.echo(f"{item['name']:<{width}}  {lines[0]}")
        for line in lines[1:]:
            click.echo(f"{'':<{width}}  {line}")


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
