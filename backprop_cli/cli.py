"""The `backprop` command: parse options, call the library, format the result. Nothing else."""

from __future__ import annotations

import sys

import click

# The shared options live in commands/options.py, so that commands never import this module; their names
# stay importable from here for code that did.
from .commands.options import EXIT_CODES, graph_options, load_graph, mode_options, reports_errors  # noqa: F401
from .errors import ExitCode

COMMANDS = ("trace", "gradcheck", "render", "train", "examples", "ops")


class LazyGroup(click.Group):
    """Imports a command's module only when it runs: `trace` never pays for `render`'s imports.
    Usage errors are one line on stderr, like every other error (click's own take four)."""

    def main(self, args=None, prog_name=None, **extra):  # type: ignore[override]
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as err:  # bare `backprop`: the help, as usual
            click.echo(err.ctx.get_help(), err=True)
            sys.exit(int(ExitCode.BAD_INPUT))
        except click.UsageError as err:
            hint = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
            click.echo(f"backprop: error: {' '.join(err.format_message().split())}{hint}", err=True)
            sys.exit(int(ExitCode.BAD_INPUT))
        except click.ClickException as err:
            click.echo(f"backprop: error: {' '.join(err.format_message().split())}", err=True)
            sys.exit(err.exit_code)
        except click.Abort:
            click.echo("backprop: aborted", err=True)
            sys.exit(int(ExitCode.FAILED))
        sys.exit(code if isinstance(code, int) else int(ExitCode.OK))

    def list_commands(self, ctx: click.Context) -> list[str]:
        from importlib.util import find_spec

        return [name for name in COMMANDS if find_spec(f"backprop_cli.commands.{name}") is not None]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from importlib import import_module

        if name not in self.list_commands(ctx):
            return None
        return import_module(f"backprop_cli.commands.{name}").command


@click.group(cls=LazyGroup, epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="backprop-cli", message="backprop %(version)s")
def main() -> None:
    """Make backpropagation visible and verifiable.

    GRAPH is a graph file (graphs/circuit.yaml) or the name of a bundled example (circuit).
    """
