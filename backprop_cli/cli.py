"""The `backprop` command: parse options, call the library, format the result. Nothing else."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

import click

from .errors import BackpropError, ExitCode

EXIT_CODES = """\b
Exit codes:
  0  success
  1  a check failed (gradcheck, a wrong `expect`)
  2  bad usage or a bad graph file
  3  evaluation error (NaN/inf, log of 0, ...), naming the node
  4  internal error: a bug in backprop (BACKPROP_DEBUG=1 shows the traceback)"""


def reports_errors(command: Callable) -> Callable:
    """Turn the project's errors into one line on stderr and the documented exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BackpropError as err:
            click.echo(f"backprop: error: {err}", err=True)
            sys.exit(int(err.exit_code))
        except MemoryError:
            click.echo("backprop: error: out of memory while evaluating the graph", err=True)
            sys.exit(int(ExitCode.EVALUATION))
        except RecursionError:
            click.echo("backprop: error: input nested too deeply", err=True)
            sys.exit(int(ExitCode.BAD_INPUT))
        except Exception as err:  # a bug of ours: still one line, and a way to see the traceback
            import os

            if os.environ.get("BACKPROP_DEBUG"):
                raise
            text = " ".join(str(err).split())[:300]
            click.echo(
                f"backprop: internal error: {type(err).__name__}: {text} "
                "(a bug in backprop; run with BACKPROP_DEBUG=1 to see where, and please report it)",
                err=True,
            )
            sys.exit(int(ExitCode.INTERNAL))

    return wrapper


def load_graph(path: str, at: tuple[str, ...] = (), allow_python: bool = False):
    from . import load
    from .errors import UsageError

    graph = load(path, allow_python=allow_python)
    for warning in graph.warnings:
        click.echo(warning, err=True)
    overrides = {}
    for item in at:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--at takes name=value, not {item!r}")
        overrides[name.strip()] = value
    return graph.with_values(overrides) if overrides else graph


# ------------------------------------------------------------ options shared by several commands


class FiniteFloat(click.ParamType):
    """A finite number (NaN and inf refused: a tolerance or a damping of NaN means nothing), at least `low`."""

    name = "number"

    def __init__(self, low: float | None = None) -> None:
        self.low = low

    def convert(self, value, param, ctx):  # type: ignore[override]
        import math

        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.low is not None and number < self.low:
            self.fail(f"{value!r} is below {self.low:g}", param, ctx)
        return number


def mode_options(command: Callable) -> Callable:
    """--mode and --wrt: which way the derivatives are taken (trace, render)."""
    command = click.option(
        "--wrt", metavar="LEAF", help="Forward-mode direction: a leaf (x), an element (x[2,3]) or x=[...]."
    )(command)
    return click.option(
        "--mode",
        type=click.Choice(["reverse", "forward", "both"]),
        default="reverse",
        show_default=True,
        help="Reverse mode (backpropagation, gradients), forward mode (tangents), or both.",
    )(command)


def grad_output_option(command: Callable) -> Callable:
    """--grad-output: the upstream gradient at the output (trace, render)."""
    return click.option(
        "--grad-output",
        metavar="VALUE",
        help="The upstream gradient at the output (a number or a list of its shape; default all ones), "
        "as torch's y.backward(v).",
    )(command)


def graph_options(command: Callable) -> Callable:
    """--at and --allow-python: how the graph file is read (trace, gradcheck, render, train)."""
    command = click.option(
        "--allow-python", is_flag=True, help="Allow the graph's plugin ops (ops:) to run their Python code."
    )(command)
    return click.option("--at", multiple=True, metavar="NAME=VALUE", help="Override a leaf's value, e.g. --at x=3.")(
        command
    )


COMMANDS = ("trace", "gradcheck", "render", "train", "jacobian", "hessian", "examples", "ops")


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
