"""Suggestions that run as printed: the command line as the user typed it, with one change."""

from __future__ import annotations

import shlex

import click

GIVEN_ARGS = "backprop.args"  # ctx.meta: the command line's arguments as given (cli.LazyGroup)


def command_line(changes: dict[str, str]) -> str | None:
    """The command as the user typed it, with each option in changes (`--lr`: its new value) given that value
    instead of the one typed: a suggestion that runs as printed. None when the arguments are not known."""
    given = click.get_current_context().meta.get(GIVEN_ARGS)
    if given is None:
        return None
    args, skip = [], False
    for arg in given:
        if skip:
            skip = False
        elif arg in changes:
            skip = True  # and its value
        elif not any(arg.startswith(f"{option}=") for option in changes):
            args.append(arg)
    for option, value in changes.items():
        args += [option, value]
    return "backprop " + shlex.join(args)


def bundled_instead(path: str) -> None:
    """A bundled example's path given outside the clone (graphs/circuit.yaml): say its name, in the command
    (every such path of the command line replaced by its name: a suggestion that runs as printed)."""
    from ..errors import GraphFileError, Position

    name = bundled_name(path)
    if name is None:
        return
    ctx = click.get_current_context()
    args = ctx.meta.get(GIVEN_ARGS) or [ctx.info_name or "", path]
    again = shlex.join(["backprop", *[bundled_name(arg) or arg for arg in args]])
    raise GraphFileError(f"no such file; the bundled example is `{name}`: {again}", Position(path))


def bundled_name(path: str) -> str | None:
    """The example's name, if path names a missing file whose name is a bundled example's."""
    from pathlib import Path

    from ..examples import examples_dir

    given = Path(path)
    if path == "-" or not (given.suffix in (".yaml", ".yml") or "/" in path) or given.exists():
        return None
    return given.stem if (examples_dir() / f"{given.stem}.yaml").is_file() else None
