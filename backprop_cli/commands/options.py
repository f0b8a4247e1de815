"""Options and error handling shared by the commands: one decorator per shared option."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import NoReturn

import click

from ..errors import BackpropError, ExitCode
from .completion import complete_dir, complete_file, complete_graph, graph_argument  # noqa: F401  (the commands')
from .help_examples import epilog  # noqa: F401
from .suggestions import GIVEN_ARGS, bundled_instead, command_line  # noqa: F401

EXIT_CODES = """\b
Exit codes:
  0  success
  1  a check failed (gradcheck, a wrong `expect`)
  2  bad usage or a bad graph file
  3  evaluation error (NaN/inf, log of 0, ...), naming the node
  4  internal error: a bug in backprop (BACKPROP_DEBUG=1 shows the traceback)
  130  interrupted (Ctrl-C; SIGTERM 143, SIGHUP 129)
  141  the program reading stdout went away (`| head`), as for cat"""


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
    """Turn the project's errors into one line on stderr and the documented exit code; where the run asked for a
    format with an error form (--json, a grader's results file), the error is also written in it (schema
    backprop.<command>). Reads the output options (output_options.py) into the command's `output`. Bare
    (@reports_errors) or with the command's own argument -> flag names (@reports_errors(flags=...))."""
    if command is None:
        return functools.partial(reports_errors, flags=flags)
    name = command.__name__

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from ..outputs.files import one_run
        from .output_options import NAMES, read_output

        how = getattr(wrapper, "output_kind", None)
        given = {key: kwargs.pop(key) for key in NAMES if key in kwargs} if how is not None else {}
        output = None
        try:
            with one_run():  # the files it reads are never among those it writes; no temporary file stays
                if how is not None:
                    output = kwargs["output"] = read_output(name, how, given, args=kwargs)
                return command(*args, **kwargs)
        except KeyboardInterrupt as err:
            interrupted(err)
        except Exception as err:
            if isinstance(err, OSError) and output_failed(err):
                stdout_failed(err)
            label, line, code, message, where = explain_error(err, flags)
            if output is None and how is not None:
                output = read_output(name, how, given, lenient=True, args=kwargs)
            fail(line, code, output, message, where, label)
        finally:
            _show_plugin_output()

    return wrapper


def explain_error(err: Exception, flags: dict[str, str] | None = None) -> tuple[str, str, int, str, object]:
    """(label, the line to show, exit code, the message alone, its Position or None) for any exception."""
    if isinstance(err, BackpropError):
        line = in_flag_words(err, flags)
        from ..errors import printable

        message = line.replace(f"{printable(err.where)}: ", "", 1) if err.where else line  # apart in JSON
        return "error", line, int(err.exit_code), message, err.where
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
    output=None,
    message: str | None = None,
    where: object = None,
    label: str = "error",
) -> NoReturn:
    """`backprop: <label>: <line>` on stderr; where the run's output (outputs.destination.Output) has a format
    with an error form (JSON, a grader's results file), the error in it too; then the exit code."""
    from ..errors import clipped, printable

    line, message = clipped(line), clipped(message) if message is not None else None
    if output is not None:
        from ..outputs.destination import Stop

        try:
            output.error(Stop(output.command, message or line, code, where))
        except OSError as err:  # stdout full or closed: the line on stderr still says what happened
            if not output_failed(err):
                raise
    try:
        click.echo(f"backprop: {label}: {printable(' '.join(line.split()))}", err=True)
        sys.stderr.flush()  # click may keep a failed line in the buffer: find out now, not in Python's exit
    except OSError:  # stderr full or closed: the line is lost, the exit code still says what happened
        _silence(sys.stderr)
    sys.exit(int(code))


def output_failed(err: OSError) -> bool:
    """Whether an OSError is stdout refusing what we write (a full disk, a closed pipe), not a bug."""
    import errno

    if err.errno not in (errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, errno.EDQUOT, errno.EBADF):
        return False
    _silence(sys.stdout)
    return True


def stdout_failed(err: OSError) -> NoReturn:
    """stdout refused what we wrote. A closed pipe (`backprop trace g --json | head`) ends quietly with 141,
    the status of a process SIGPIPE ended, as cat and git end there; a full disk (`> /dev/full`) or an I/O
    error is exit 2 with the system's reason."""
    import errno

    _silence(sys.stdout)
    if err.errno == errno.EPIPE:
        sys.exit(int(ExitCode.PIPE_CLOSED))
    fail(f"cannot write the output: {err.strerror or err}", ExitCode.BAD_INPUT)


def _silence(stream) -> None:
    """After a stream failed: nothing more goes there, so Python's exit does not fail on it again (exit 120)
    while flushing what is left in its buffer."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def interrupted(err: BaseException | None = None) -> NoReturn:
    """Ctrl-C: one line and exit 130 (128 + SIGINT), as shells report it; SIGTERM and SIGHUP (errors.Stopped,
    also as the cause of click's Abort) likewise with 128 + their number."""
    import signal

    from ..errors import Stopped

    stop = err if isinstance(err, Stopped) else getattr(err, "__cause__", None) or getattr(err, "__context__", None)
    if isinstance(stop, Stopped):
        click.echo(f"backprop: stopped by {signal.Signals(stop.signum).name}", err=True)
        sys.exit(128 + stop.signum)
    click.echo("backprop: interrupted", err=True)
    sys.exit(int(ExitCode.INTERRUPTED))


def _show_plugin_output() -> None:
    """What plugin code printed (captured in its worker, so stdout stays ours), on stderr after the command."""
    sandbox = sys.modules.get("backprop_cli.fileformat.sandbox")
    printed = sandbox.finish() if sandbox is not None else ""
    if printed:
        click.echo("backprop: the plugin code printed:", err=True)
        click.echo(printed.rstrip("\n"), err=True)


def load_graph(path: str, at: tuple[str, ...] = (), allow_python: bool = False):
    """The graph file, its warnings on stderr, and --at values (read as safely as the file) in place."""
    from ..errors import clipped, printable
    from ..examples import resolve
    from ..fileformat import load
    from ..fileformat.option_values import read_overrides
    from ..outputs.files import inputs_of, note_inputs

    overrides = read_overrides("--at", at)  # before the file: a usage error first
    bundled_instead(path)  # graphs/circuit.yaml outside a clone: the command with the name instead
    graph = load(path, allow_python=allow_python, values=overrides or None)  # the values masks are counted at
    try:
        note_inputs([resolve(path), *inputs_of(graph)])  # no output of the command may replace them
    except BackpropError:  # not a file (standard input)
        note_inputs(inputs_of(graph))
    for warning in graph.warnings:
        click.echo(printable(clipped(warning)), err=True)
    if any(node.op in ("matmul", "conv2d") for node in graph.gates):  # the only ops that call BLAS
        from .threads import choose_blas_threads

        choose_blas_threads(graph)  # one BLAS thread for small products, unless the user chose (threads.py)
    return graph


def chosen_mode(mode: str, direction: str | None) -> str:
    """--direction alone means forward mode; with an explicit --mode reverse it contradicts it."""
    if direction is None or mode != "reverse":
        return mode
    if click.get_current_context().get_parameter_source("mode") is not click.core.ParameterSource.DEFAULT:
        from ..errors import UsageError

        raise UsageError(
            "--direction is a forward-mode direction, and --mode reverse has none: use --mode forward or both"
        )
    return "forward"


def parse_direction(direction: str | None) -> str | tuple[str, object] | None:
    """--direction of trace and render: a leaf or an element as written, or (leaf, values) for x=[...]."""
    if direction is None or "=" not in direction:
        return direction
    from ..fileformat.option_values import read_direction

    return read_direction(direction)


# ------------------------------------------------------------ options shared by several commands
class Finite(click.FloatRange):
    """A finite number in a range: nan, inf and 1e999 are usage errors naming the option and the range."""

    name = "number"

    def convert(self, value, param, ctx):  # type: ignore[override]
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number; it takes {self._describe_range()}", param, ctx)
        return number

    def _describe_range(self) -> str:
        """click's range with its ends written as numbers are (0, 1e12), not as floats print (0.0, 1000000000000.0)."""

        def written(end: float) -> str:  # 1e-08 -> 1e-8, 1e+12 -> 1e12
            return f"{end:g}".replace("e+", "e").replace("e0", "e").replace("e-0", "e-")

        low, high = (None if end is None else written(end) for end in (self.min, self.max))
        if low is None:
            return f"x{'<' if self.max_open else '<='}{high}"
        if high is None:
            return f"x{'>' if self.min_open else '>='}{low}"
        return f"{low}{'<' if self.min_open else '<='}x{'<' if self.max_open else '<='}{high}"


class Whole(click.IntRange):
    """A whole number in a range, whose help writes a large end of 2ᵏ or 2ᵏ - 1 as x<=2^k or x<2^k, not as
    9223372036854775807."""

    def _describe_range(self) -> str:
        text, high = super()._describe_range(), self.max
        if high is not None and high >= 2**20 and not self.max_open:
            if high & (high - 1) == 0:
                text = text.replace(f"<={high}", f"<=2^{high.bit_length() - 1}")
            elif (high + 1) & high == 0:
                text = text.replace(f"<={high}", f"<2^{high.bit_length()}")
        return text


def rule_type(parameter: str) -> click.ParamType:
    """The option type of an argument the Python API takes too: its range from the shared rules (arguments.py)."""
    from ..arguments import RULES

    rule = RULES[parameter]
    if rule.kind is int:
        return Whole(int(rule.low), int(rule.high), min_open=rule.low_open, max_open=rule.high_open)
    high = None if rule.high == float("inf") else rule.high
    return Finite(rule.low, high, min_open=rule.low_open, max_open=rule.high_open and high is not None)


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


def trace_options(command: Callable) -> Callable:
    """--mode, --direction, --grad-output, --at and --allow-python: what a trace computes (trace, render)."""
    command = click.option(
        "--grad-output",
        metavar="VALUE",
        help="The upstream gradient at the output (a number or a list of its shape; default all ones), "
        "as torch's y.backward(v).",
    )(graph_options(command))
    return mode_options(command)


def graph_options(command: Callable) -> Callable:
    """--at and --allow-python: how the graph file is read (trace, gradcheck, render, train)."""
    command = click.option(
        "--allow-python", is_flag=True, help="Allow the graph's plugin ops (ops:) to run their Python code."
    )(command)
    return click.option("--at", multiple=True, metavar="NAME=VALUE", help="Override a leaf's value, e.g. --at x=3.")(
        command
    )


def seed_option(help: str) -> Callable:
    """--seed: the seed of what a command samples (gradcheck, train)."""
    return click.option("--seed", type=rule_type("seed"), default=0, show_default=True, help=help)


def split_names(wrt: tuple[str, ...], option: str = "--wrt") -> list[str]:
    """The names of a repeatable --wrt, each one comma-separated: ("a,b", "c") -> [a, b, c]. An empty name
    (`--wrt ,`) or one given twice is a usage error."""
    from ..fileformat.option_values import name_list

    return name_list(option, ",".join(wrt)) if wrt else []


def matrix_options(noun: str, reference: str, rtol_default: str) -> Callable:
    """--no-check, --rtol, --atol and --full: the options of a checked matrix (jacobian, hessian)."""
    options = [
        click.option("--no-check", is_flag=True, help=f"Skip the check against {reference}."),
        click.option(
            "--rtol", type=rule_type("rtol"), help=f"Relative tolerance of the check (default {rtol_default})."
        ),
        click.option("--atol", type=rule_type("atol"), help="Absolute tolerance of the check (default 0)."),
        click.option("--full", is_flag=True, help="Print every row and column (default: the corners of a big matrix)."),
    ]

    def decorate(command: Callable) -> Callable:
        for option in reversed(options):  # the order of --help is the order above
            command = option(command)
        return command

    return decorate


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
        if value is None or ctx.resilient_parsing:
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
