"""Shell completion (bash, zsh, fish; docs/completion.md): a GRAPH completes to the bundled examples' names and,
where none matches, to file names; an option that names a file or a folder to the shell's own file names."""

from __future__ import annotations

from collections.abc import Callable

import click


def complete_graph(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """GRAPH: the bundled examples whose names start with what is typed; else the shell's own file names."""
    from click.shell_completion import CompletionItem

    from ..examples import bundled

    names = [CompletionItem(p.stem) for p in bundled() if p.stem.startswith(incomplete)]
    return [CompletionItem(incomplete, type="file"), *names]  # bash: file names only where no name matches


def complete_file(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """-o FILE and the like: the shell's own file-name completion."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(incomplete, type="file")]


def complete_dir(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    from click.shell_completion import CompletionItem

    return [CompletionItem(incomplete, type="dir")]


def graph_argument(command: Callable) -> Callable:
    """GRAPH: a graph file, a bundled example's name, or - for stdin."""
    return click.argument("graph", shell_complete=complete_graph)(command)
