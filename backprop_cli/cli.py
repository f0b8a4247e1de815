"""The `backprop` command: parse options, call the library, format the result. Nothing else."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import NoReturn

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
    """Turn the project's errors into one line on stderr and the documented exit code; with --json, the
    error is also the one JSON document on stdout (schema backprop.<command>)."""
    schema = f"backprop.{command.__name__}"

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        as_json = bool(kwargs.get("as_json")) or kwargs.get("fmt") == "json"
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            interrupted()
        except Exception as err:
            if isinstance(err, OSError) and output_failed(err):
                fail(f"cannot write the output: {err.strerror or err}", ExitCode.BAD_INPUT)
            label, line, code, message, where = explain_error(err)
            fail(line, code, schema if as_json else None, message, where, label)

    return wrapper


def explain_error(err: Exception) -> tuple[str, str, int, str, object]:
    """(label, the line to show, exit code, the message alone, its Position or None) for any exception."""
    if isinstance(err, BackpropError):
        return "error", str(err), int(err.exit_code), err.message, err.where
    if isinstance(err, MemoryError):
        return "error", "out of memory while evaluating the graph", int(ExitCode.EVALUATION), "out of memory", None
    if isinstance(err, RecursionError):
        return "error", "input nested too deeply", int(ExitCode.BAD_INPUT), "input nested too deeply", None
    import os  # a bug of ours: still one line, and a way to see the traceback

    if os.environ.get("BACKPROP_DEBUG"):
        raise err
    text = f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"
    line = f"{text} (a bug in backprop; run with BACKPROP_DEBUG=1 to see where, and please report it)"
    return "internal error", line, int(ExitCode.INTERNAL), f"internal error: {text}", None


def fail(
    line: str,
    code: int,
    schema: str | None = None,
    message: str | None = None,
    where: object = None,
    label: str = "error",
) -> NoReturn:
    """`backprop: <label>: <line>` on stderr; with a schema (a --json run) the error document on stdout too;
    then the exit code."""
    from .errors import printable

    if schema is not None:
        from .outputs.json_document import error_document, write

        try:
            write(error_document(schema, message or line, code, where))
        except OSError as err:
            if not output_failed(err):
                raise
    click.echo(f"backprop: {label}: {printable(' '.join(line.split()))}", err=True)
    sys.exit(int(code))


def output_failed(err: OSError) -> bool:
    """Whether an OSError is stdout refusing what we write (a full disk, a closed pipe), not a bug."""
    import errno

    if err.errno not in (errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, errno.EDQUOT, errno.EBADF):
        return False
    _silence_stdout()
    return True


def _silence_stdout() -> None:
    """After stdout failed: nothing more goes there, so Python's exit does not fail on it again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def interrupted() -> NoReturn:
    """Ctrl-C: one line and exit 130 (128 + SIGINT), as shells report it."""
    click.echo("backprop: interrupted", err=True)
    sys.exit(int(ExitCode.INTERRUPTED))


def load_graph(path: str, at: tuple[str, ...] = (), allow_python: bool = False):
    """The graph file, its warnings on stderr, and --at values (read as safely as the file) in place."""
    from . import load
    from .errors import printable
    from .fileformat.option_values import read_option_value

    overrides = dict(read_option_value("--at", item) for item in at)  # before the file: a usage error first
    graph = load(path, allow_python=allow_python)
    for warning in graph.warnings:
        click.echo(printable(warning), err=True)
    return graph.with_values(overrides) if overrides else graph


def chosen_mode(mode: str, wrt: str | None) -> str:
    """--wrt alone means forward mode; with an explicit --mode reverse it contradicts it."""
    if wrt is None or mode != "reverse":
        return mode
    if click.get_current_context().get_parameter_source("mode") is not click.core.ParameterSource.DEFAULT:
        from .errors import UsageError

        raise UsageError("--wrt is a forward-mode direction, and --mode reverse has none: use --mode forward or both")
    return "forward"


def parse_wrt(wrt: str | None) -> str | tuple[str, object] | None:
    """--wrt of trace and render: a leaf or an element as written, or (leaf, direction) for x=[...]."""
    if wrt is None or "=" not in wrt:
        return wrt
    from .fileformat.option_values import read_direction

    return read_direction(wrt)


# ------------------------------------------------------------ options shared by several commands
MAX_SEED = 2**63 - 1


class Finite(click.FloatRange):
    """A finite number in a range: nan, inf and 1e999 are usage errors naming the option and the range."""

    name = "number"

    def convert(self, value, param, ctx):  # type: ignore[override]
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number; it takes {self._describe_range()}", param, ctx)
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


def graph_options(command: Callable) -> Callable:
    """--at and --allow-python: how the graph file is read (trace, gradcheck, render, train)."""
    command = click.option(
        "--allow-python", is_flag=True, help="Allow the graph's plugin ops (ops:) to run their Python code."
    )(command)
    return click.option("--at", multiple=True, metavar="NAME=VALUE", help="Override a leaf's value, e.g. --at x=3.")(
        command
    )


COMMANDS = ("trace", "gradcheck", "render", "train", "examples", "ops")


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


class LazyGroup(click.Group):
    """Imports a command's module only when it runs: `trace` never pays for `render`'s imports.
    Usage errors are one line on stderr, like every other error (click's own take four)."""

    def main(self, args=None, prog_name=None, **extra):  # type: ignore[override]
        args = list(sys.argv[1:] if args is None else args)
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
