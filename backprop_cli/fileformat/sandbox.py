"""Student code in a child process: backprop's own process never imports it, and nothing it does can
change what backprop computes or reports.

Each graph file with plugin ops gets its own worker (worker.py), forked when the file loads (so one file's
imports never meet another's) and killed when its session ends. The worker gets copies of its inputs (an
in-place change stays in the worker), writes what it prints into a captured file (never onto the
`--json` document), runs confined under hard limits (confinement.py), and is timed by the parent: a worker
that does not answer in time is killed. This module holds the limits and the sessions: which workers a
run owns, and what their code printed.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .worker import Worker


@dataclass(frozen=True)
class Limits:
    """What a worker may use. timeout: seconds of the student's code per file (per call with per_call)."""

    timeout: float = 30.0
    memory: int = 2 * 2**30  # bytes the student's code may allocate on top of what the worker starts with
    per_call: bool = False
    output: int = 2**20  # bytes it may print (more: the worker is stopped)
    command: str = ""  # whose --timeout and --memory set them ("gradcheck"); "" for the built-in limit per call

    def option(self, name: str) -> str:
        return f"{self.command} --{name}" if self.command else "the limit per call of plugin code"


def memory_text(size: int) -> str:
    return f"{size / 2**30:g} GiB" if size >= 2**30 else f"{size / 2**20:g} MiB"


class LoadRefused(Exception):
    """The student's module cannot be used (import raised, no such function, odd signature)."""

    def __init__(self, op: str, key: str | None, message: str) -> None:
        super().__init__(message)
        self.op, self.key, self.message = op, key, message


# ------------------------------------------------------------------ sessions: which workers a run owns
class Session:
    """The workers started while it is active; closing it kills them and keeps what they printed.
    A weak session (the default one, for the Python API and trace, render, train) does not keep its
    workers alive: a worker also ends when its graph is garbage."""

    def __init__(self, limits: Limits, weak: bool = False) -> None:
        self.limits = limits
        self.weak = weak
        self.workers: list = []
        self.printed: list[str] = []

    def add(self, worker: Worker) -> None:
        self.workers.append(weakref.ref(worker) if self.weak else worker)
        worker.printed_to = self.printed  # a worker closed early (its graph was garbage) still reports it

    def close(self) -> None:
        for entry in self.workers:
            worker = entry() if self.weak else entry
            if worker is not None:
                worker.close()
        self.workers = []

    @property
    def output(self) -> str:
        return "".join(self.printed)


_SESSIONS: list[Session] = []
_DEFAULT = Session(Limits(per_call=True), weak=True)


@contextlib.contextmanager
def session(limits: Limits) -> Iterator[Session]:
    """Workers started inside run under these limits and are killed on leaving."""
    current = Session(limits)
    _SESSIONS.append(current)
    try:
        yield current
    finally:
        _SESSIONS.remove(current)
        current.close()


def finish() -> str:
    """Kill the workers started outside any session (trace, render, train); what their code printed."""
    _DEFAULT.close()
    printed, _DEFAULT.printed = _DEFAULT.output, []
    return printed


def start(folder: str, specs: dict[str, dict]) -> tuple[Worker, dict[str, dict]]:
    """A worker for one graph file's plugin ops, and what it found: {op: {inputs, attrs, module, names}}."""
    from .worker import Worker

    owner = _SESSIONS[-1] if _SESSIONS else _DEFAULT
    worker = Worker(folder, owner.limits)
    owner.add(worker)
    return worker, worker.load(specs)


def __getattr__(name: str) -> object:
    """Worker and the set of live workers, from worker.py (imported when first used)."""
    if name in ("Worker", "_LIVE"):
        from . import worker

        return getattr(worker, name)
    raise AttributeError(name)
