"""The `backprop` command: parse options, call the library, format the result. Nothing else."""

from __future__ import annotations

import sys

import click

# The shared options live in commands/options.py, so that commands never import this module; their names
# stay importable from here for code that did.
from .commands.options import (  # noqa: F401
    EXIT_CODES,
    fail,
    graph_options,
    interrupted,
    load_graph,
    mode_options,
    output_failed,
    reports_errors,
)
from .errors import ExitCode

COMMANDS = ("trace", "gradcheck", "render", "train", "jacobian", "hessian", "derivatives", "examples", "ops")


def _json_schema(args: list[str]) -> str | None:
    """The schema of a --json run (`--format json` too) that click refused before it started, else None."""
    wants = (
        "--json" in args
        or "--format=json" in args
        or any(a == "--format" and b == "json" for a, b in zip(args, args[1:], strict=False))
    )
    command = next((a for a in args if a in COMMANDS), None)
    return f"backprop.{command}" if wants and command else None


def _unicode_ok() -> bool:
    """Whether stdout and stderr take Unicode (checked without importing anything)."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("_", "-")
        if not encoding.startswith("utf"):
            return False
    return True


def _closed_streams() -> None:
    """A closed stdout (`>&-`) is a write error, exit 2, as a full disk is; a closed stderr loses only messages.
    (Python leaves sys.stdout None then: every write would be an internal error.)"""
    import os

    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # for the whole run
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # so that the exit below flushes nothing
        click.echo("backprop: error: cannot write the output: stdout is closed", err=True)
        sys.exit(int(ExitCode.BAD_INPUT))


class LazyGroup(click.Group):
    """Imports a command's module only when it runs: `trace` never pays for `render`'s imports.
    Usage errors are one line on stderr, like every other error (click's own take four)."""

    def main(self, args=None, prog_name=None, **extra):  # type: ignore[override]
        args = list(sys.argv[1:] if args is None else args)
        _closed_streams()
        if not _unicode_ok():
            from .outputs.terminal import use_ascii_fallback

            use_ascii_fallback()
        try:
            try:
                code = super().main(args, prog_name, standalone_mode=False, **extra)
            finally:
                sys.stdout.flush()  # a full disk shows here, not in Python's exit (sys.exit of a command too)
        except click.exceptions.NoArgsIsHelpError as err:  # bare `backprop`: the help, as usual
            click.echo(err.ctx.get_help(), err=True)
            sys.exit(int(ExitCode.BAD_INPUT))
        except click.UsageError as err:
            hint = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
            fail(f"{err.format_message()}{hint}", ExitCode.BAD_INPUT, _json_schema(args), err.format_message())
        except click.ClickException as err:
            fail(err.format_message(), err.exit_code, _json_schema(args))
        except (click.Abort, KeyboardInterrupt):
            interrupted()
        except OSError as err:
            if not output_failed(err):
                raise
            fail(f"cannot write the output: {err.strerror or err}", ExitCode.BAD_INPUT)
        sys.exit(code if isinstance(code, int) else int(ExitCode.OK))

    def list_commands(self, ctx: click.Context) -> list[str]:
        # every one is listed: a module missing from the installation is exit 4, not "no such command"
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from importlib import import_module

        if name not in self.list_commands(ctx):
            return None
        try:
            return import_module(f"backprop_cli.commands.{name}").command
        except Exception as err:  # a module missing from the installation, or a bug: exit 4, not a traceback
            import os

            if os.environ.get("BACKPROP_DEBUG"):
                raise
            text = " ".join(str(err).split())[:300]
            click.echo(
                f"backprop: internal error: the command '{name}' could not be loaded: {type(err).__name__}: {text} "
                "(a broken installation or a bug in backprop: reinstall it, run with BACKPROP_DEBUG=1 to see where, "
                "and please report it)",
                err=True,
            )
            sys.exit(int(ExitCode.INTERNAL))


def show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """--version: the installed package's version, read from its metadata only when asked."""
    if value and not ctx.resilient_parsing:
        from . import __version__

        click.echo(f"backprop {__version__}")
        ctx.exit()


@click.group(cls=LazyGroup, epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=show_version,
    help="Show the version and exit.",
)
def main() -> None:
    """Make backpropagation visible and verifiable.

    GRAPH is a graph file (graphs/circuit.yaml) or the name of a bundled example (circuit).
    """
