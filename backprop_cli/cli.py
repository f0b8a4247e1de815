"""The `backprop` command: parse options, call the library, format the result. Nothing else."""

from __future__ import annotations

import sys

import click

# The shared options live in commands/options.py, so that commands never import this module; their names
# stay importable from here for code that did.
from .commands.options import (  # noqa: F401
    EXIT_CODES,
    GIVEN_ARGS,
    fail,
    graph_options,
    interrupted,
    load_graph,
    mode_options,
    output_failed,
    reports_errors,
    stdout_failed,
)
from .errors import ExitCode

COMMANDS = (
    "trace", "gradcheck", "render", "train", "jacobian", "hessian", "derivatives", "worksheet", "examples", "ops"
)  # fmt: skip


def _output_of(ctx: click.Context | None, args: list[str]):
    """The output (outputs.destination.Output) of a run click refused before it started, so that its error
    still reaches the format asked for (--json, a grader's results file): the command line read again by
    click's own parser, leniently (unknown options, missing values and wrong choices are passed over)."""
    command = ctx.command if ctx is not None else None
    how = getattr(getattr(command, "callback", None), "output_kind", None)
    if how is None:
        return None
    from .commands.output_options import read_output

    given = list(args)
    if ctx.info_name in given:  # what follows the command's name
        given = given[given.index(ctx.info_name) + 1 :]
    try:
        parsed = command.make_context(
            ctx.info_name, given, resilient_parsing=True, ignore_unknown_options=True, allow_extra_args=True
        )
        params = parsed.params
    except click.ClickException:
        params = {}
    valid = {key: value for key, value in params.items() if value is not None}
    return read_output(ctx.info_name, how, valid, lenient=True, args=valid)


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


class _Messages:
    """stderr that never fails the run: a write error there (closed, full, a pipe whose reader left) loses
    the messages, never the result or the exit code; fd 2 then goes to /dev/null."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError:
            self._lost()
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError:
            self._lost()

    def _lost(self) -> None:
        import os

        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


STOPS = ("SIGTERM", "SIGHUP")  # unwound like Ctrl-C: temporary files removed, workers killed, 128 + n


def _on_stop(signum: int, _frame) -> None:
    import signal

    from .errors import Stopped

    for name in STOPS:  # one cleanup and one line, however many signals follow
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise Stopped(signum)


def _catch_stops() -> dict:
    """SIGTERM and SIGHUP end the run as Ctrl-C does; the handlers they had before (to restore)."""
    import signal

    before = {}
    for name in STOPS:
        number = getattr(signal, name, None)
        if number is not None:
            try:
                before[number] = signal.signal(number, _on_stop)
            except (ValueError, OSError):  # not the main thread
                pass
    return before


def _restore(handlers: dict) -> None:
    import signal

    for number, handler in handlers.items():
        signal.signal(number, handler if handler is not None else signal.SIG_DFL)


class LazyGroup(click.Group):
    """Imports a command's module only when it runs: `trace` never pays for `render`'s imports.
    Usage errors are one line on stderr, like every other error (click's own take four)."""

    def main(self, args=None, prog_name=None, **extra):  # type: ignore[override]
        handlers = _catch_stops()  # first: from here on SIGTERM and SIGHUP end the run as Ctrl-C does
        args = list(sys.argv[1:] if args is None else args)
        extra.setdefault("complete_var", "_BACKPROP_COMPLETE")  # also under `python -m backprop_cli` and in tests
        try:
            try:
                _closed_streams()
                if sys.stderr is sys.__stderr__:  # the process's own stderr (not a test's capture)
                    sys.stderr = _Messages(sys.stderr)
                if not _unicode_ok():
                    from .outputs.terminal import use_ascii_fallback

                    use_ascii_fallback()
                code = super().main(args, prog_name, standalone_mode=False, **extra)
            finally:
                sys.stdout.flush()  # a full disk shows here, not in Python's exit (sys.exit of a command too)
        except click.exceptions.NoArgsIsHelpError as err:  # bare `backprop`: the help, as usual
            click.echo(err.ctx.get_help(), err=True)
            sys.exit(int(ExitCode.BAD_INPUT))
        except click.UsageError as err:
            hint = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
            output = _output_of(err.ctx, args)
            fail(f"{err.format_message()}{hint}", ExitCode.BAD_INPUT, output, err.format_message())
        except click.ClickException as err:
            fail(err.format_message(), err.exit_code, _output_of(getattr(err, "ctx", None), args))
        except (click.Abort, KeyboardInterrupt) as err:
            interrupted(err)
        except OSError as err:
            if not output_failed(err):
                raise
            stdout_failed(err)
        finally:
            _restore(handlers)
        sys.exit(code if isinstance(code, int) else int(ExitCode.OK))

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[override]
        ctx = super().make_context(info_name, list(args), parent, **extra)
        ctx.meta[GIVEN_ARGS] = list(args)  # the command line as given: a suggestion repeats it with a change
        return ctx

    def resolve_command(self, ctx: click.Context, args: list[str]):  # type: ignore[override]
        """A mistyped command gets the nearest one (`backprop trac` -> did you mean 'trace'?); an option given
        twice with different values is refused (click would keep the last)."""
        name = args[0] if args else ""
        if name not in COMMANDS and not name.startswith("-") and not ctx.resilient_parsing:
            from .errors import suggest

            close = suggest(name, COMMANDS)  # "; did you mean 'trace'?"
            hint = (
                f" Did you mean{close.split('did you mean', 1)[1]}"
                if close
                else f" The commands: {', '.join(COMMANDS)}."
            )
            raise click.UsageError(f"No such command {name!r}.{hint}", ctx)
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and not ctx.resilient_parsing:
            from .commands.option_slips import check_given_once

            check_given_once(command, rest)  # click would keep the last of two values
        return name, command, rest

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


MAIN_EPILOG = f"""{EXIT_CODES}

Manual: docs/index.md in backprop's repository; `backprop COMMAND --help` shows examples of each command.
Shell completion (bash, zsh, fish): docs/completion.md."""


@click.group(cls=LazyGroup, epilog=MAIN_EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
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

    GRAPH is a graph file (graphs/circuit.yaml), the name of a bundled example (circuit), or - to read the graph
    file from stdin.
    """
