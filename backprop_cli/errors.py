"""One error tree: library code raises these, the CLI maps them to exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every command, documented in the README and in --help."""

    OK = 0
    FAILED = 1  # a check failed (gradcheck, a wrong `expect`)
    BAD_INPUT = 2  # bad usage or a bad graph file
    EVALUATION = 3  # NaN/inf, log of 0, divergence: names the node
    INTERNAL = 4  # a bug in backprop itself: one line instead of a traceback (BACKPROP_DEBUG=1 shows it)
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it (SIGTERM 143, SIGHUP 129: 128 + the signal)
    PIPE_CLOSED = 141  # 128 + SIGPIPE: the program reading stdout went away (`| head`), as cat and git end


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP: unwinds as Ctrl-C does (no temporary file left, plugin workers killed); the exit
    code is 128 + the signal, as shells report a process the signal ended."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def suggest(name: str, choices: object) -> str:
    import difflib  # only when there is an error to explain

    if len(name) > 200:  # nothing is close to it, and difflib would take seconds
        return ""
    choices = list(choices)
    close = [c for c in choices if str(c).lower() == name.lower()] or difflib.get_close_matches(name, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def printable(text: object) -> str:
    """Text from a graph file or the command line as it is written, never as a terminal would act on it:
    white space becomes a space; other invisible characters (escape sequences, bidi overrides) are shown as
    escapes like \\x1b or \\u202e."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else " " if c.isspace() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def printable_lines(text: str) -> str:
    """Text printed by code we do not trust (a student's plugin), shown verbatim line by line: the lines stay,
    everything a terminal or a log viewer would act on (a carriage return, escape and OSC sequences, bidi
    overrides) is shown as an escape, so no line can be drawn over another or hidden."""
    return "\n".join(printable(line) for line in text.split("\n"))


def shortened(text: object, limit: int = 60) -> str:
    """A value quoted in a message, cut in the middle when long: the message stays one readable line."""
    text = printable(text)
    return (
        text if len(text) <= limit else f"{text[: limit // 2]}…{text[-(limit // 2 - 1) :]} ({len(text):,} characters)"
    )


LONG_WORD = 200  # a run of characters without a space longer than this is cut in messages


def clipped(text: str) -> str:
    """A message with every over-long word (a 25 MB key, a name, a value) cut in the middle by shortened():
    what a user wrote is quoted, never echoed whole."""
    if len(text) <= LONG_WORD:
        return text
    import re

    return re.sub(rf"\S{{{LONG_WORD + 1},}}", lambda m: shortened(m.group(), 80), text)


@dataclass(frozen=True)
class Position:
    """Where in a graph file something was written (1-based line and column)."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class BackpropError(Exception):
    """Base of every error a user may see; its str() is one line."""

    exit_code = ExitCode.BAD_INPUT
    parameter: str | None = None  # the library argument to change, if one is at fault (the CLI names its flag;
    #                                a value the message suggests is written name=value, the CLI writes --flag value)

    def __init__(self, message: str, where: Position | None = None) -> None:
        message = clipped(message)
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        text = printable(" ".join(self.message.split()))  # always one line, nothing a terminal would act on
        return f"{printable(self.where)}: {text}" if self.where else text


class GraphFileError(BackpropError):
    """The graph file is not valid: YAML, keys, names, expressions."""


class ShapeError(GraphFileError):
    """Operand shapes do not fit; found before any array is allocated."""


class UsageError(BackpropError):
    """An argument whose value does not fit (the graph, or the other arguments). The message says what is
    wrong in the library's words; `parameter` names the argument, and the CLI adds which flag sets it."""

    def __init__(self, message: str, where: Position | None = None, parameter: str | None = None) -> None:
        super().__init__(message, where)
        self.parameter = parameter


class EvaluationError(BackpropError):
    """A value or gradient became NaN or inf, or an op got values outside its domain."""

    exit_code = ExitCode.EVALUATION


class StudentCodeError(BackpropError):
    """A plugin op's code crashed, was killed, or ran out of time or memory: no verdict can be had from it
    (gradcheck: the verdict `error`). Not an EvaluationError, so nothing treats it as a bad value."""

    exit_code = ExitCode.EVALUATION

    def __init__(self, op: str, message: str) -> None:
        super().__init__(f"op {op}: {message}")
        self.op = op


class PluginError(EvaluationError):
    """A plugin op's Python code raised or returned something unusable; gradcheck turns it into a verdict."""

    def __init__(self, op: str, message: str, where: Position | None = None) -> None:
        super().__init__(f"op {op}: {message}", where)
        self.op = op
