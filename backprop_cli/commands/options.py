"""Options and error handling shared by the commands: one decorator per shared option."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

import click

from ..errors import BackpropError, ExitCode

EXIT_CODES = """\b
Exit codes:
  0  success
  1  a check failed (gradcheck, a wrong `expect`)
  2  bad usage or a bad graph file
  3  evaluation error (NaN/inf, log of 0, ...), naming the node
  4  internal error: a bug in backprop (BACKPROP_DEBUG=1 shows the traceback)"""


FLAGS = {"values": "--at", "direction": "--direction"}  # library argument -> its flag, where the names differ


def in_flag_words(err: BackpropError, flags: dict[str, str] | None = None) -> str:
    """The error's line with the flag to change, where the error names the library argument at fault
    (flags: a command's own argument -> flag names; otherwise wrt -> --wrt, batch_size -> --batch-size).
    A value suggested last as `lr=0.1` becomes `--lr 0.1`; otherwise the flag leads the line."""
    parameter = err.parameter
    if parameter is None:
        return str(err)
    flag = (flags or {}).get(parameter) or FLAGS.get(parameter) or "--" + parameter.replace("_", "-")
    head, suggested, value = str(err).rpartition(f" {parameter}=")  # the last one: the suggestion
    return f"{head} {flag} {value}" if suggested else f"{flag}: {err}"


def reports_errors(command: Callable | None = None, *, flags: dict[str, str] | None = None) -> Callable:
    """Turn the project's errors into one line on stderr and the documented exit code.
    Bare (@reports_errors) or with the command's own argument -> flag names (@reports_errors(flags=...))."""
    if command is None:
        return functools.partial(reports_errors, flags=flags)

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BackpropError as err:
            click.echo(f"backprop: error: {in_flag_words(err, flags)}", err=True)
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
        finally:
            _show_plugin_output()

    return wrapper


def _show_plugin_output() -> None:
    """What plugin code printed (captured in its worker, so stdout stays ours), on stderr after the command."""
    sandbox = sys.modules.get("backprop_cli.fileformat.sandbox")
    printed = sandbox.finish() if sandbox is not None else ""
    if printed:
        click.echo("backprop: the plugin code printed:", err=True)
        click.echo(printed.rstrip("\n"), err=True)


def load_graph(path: str, at: tuple[str, ...] = (), allow_python: bool = False):
    from ..errors import UsageError
    from ..fileformat import load

    graph = load(path, allow_python=allow_python)
    for warning in graph.warnings:
        click.echo(warning, err=True)
    overrides = {}
    for item in at:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--at takes name=value, not {item!r}")
        overrides[name.strip()] = value
    graph = graph.with_values(overrides) if overrides else graph
    if any(node.op in ("matmul", "conv2d") for node in graph.gates):  # the only ops that call BLAS
        from .threads import choose_blas_threads

        choose_blas_threads(graph)  # one BLAS thread for small products, unless the user chose (threads.py)
    return graph


# ------------------------------------------------------------ options shared by several commands


def mode_options(command: Callable) -> Callable:
    """--mode and --direction: which way the derivatives are taken (trace, render)."""
    command = renamed_option(
        "--wrt",
        "--direction",
        metavar="LEAF",
        help="Forward-mode direction: a leaf (x), an element (x[2,3]) or x=[...]; makes the default mode forward.",
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


# ------------------------------------------------------------ renamed options


def renamed_option(old: str, *decls: str, **attrs: object) -> Callable:
    """click.option(*decls, **attrs), also reached for one release by its old spelling `old`: a hidden option
    that says on stderr, in one line, which flag to use instead. Giving both spellings is a usage error."""
    name = click.Option(decls).name
    key = f"backprop.renamed.{name}"

    class Renamed(click.Option):
        def consume_value(self, ctx: click.Context, opts: dict) -> tuple:
            value, source = super().consume_value(ctx, opts)
            given = source is click.core.ParameterSource.COMMANDLINE
            if key in ctx.meta:  # the old spelling was given (and processed first: given options go first)
                if given:
                    raise click.UsageError(f"{old} is the old name of {self.opts[0]}: give {self.opts[0]} only", ctx)
                return ctx.meta[key], click.core.ParameterSource.COMMANDLINE
            ctx.meta[f"{key}.given"] = given
            return value, source

    def from_old(ctx: click.Context, param: click.Parameter, value: object) -> None:
        if value is None:
            return
        flag = next(p for p in ctx.command.params if p.name == name).opts[0]
        click.echo(f"backprop: warning: {old} is deprecated and will be removed: use {flag}", err=True)
        if ctx.meta.get(f"{key}.given"):
            raise click.UsageError(f"{old} is the old name of {flag}: give {flag} only", ctx)
        ctx.meta[key] = value

    def decorate(command: Callable) -> Callable:
        command = click.option(*decls, cls=Renamed, **attrs)(command)
        same = {k: v for k, v in attrs.items() if k in ("type", "metavar")}
        return click.option(old, f"{name}_old_spelling", hidden=True, expose_value=False, callback=from_old, **same)(
            command
        )

    return decorate
