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


def suggest(name: str, choices: object) -> str:
    import difflib  # only when there is an error to explain

    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


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
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        text = " ".join(self.message.split())  # always one line
        return f"{self.where}: {text}" if self.where else text


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
