"""The worker: one process per graph file that runs its plugin code (the student's), and the protocol backprop
speaks with it. Requests are pickles backprop makes; replies are a JSON header and raw float64 bytes, never
pickles: backprop unpickles nothing the student's code made, and checks every reply (its number, the shapes
asked for, its size against --memory) before reading its numbers. The process is confined (confinement.py);
what it answers is asked again before a verdict (replay.py).

A worker that dies (os._exit, a signal, a crash), runs out of memory or time, or sends a reply that is not one
raises StudentCodeError: gradcheck's verdict `error`, never a pass.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
import pickle
import select
import signal
import sys
import tempfile
import time
import warnings
import weakref

import numpy as np

from ..errors import PluginError, StudentCodeError, printable, printable_lines
from . import confinement
from .replay import Journal, replay
from .sandbox import Limits, LoadRefused, memory_text
from .student import HEADER, LENGTH, serve

MAX_HEADER = 2**20  # bytes of a reply's JSON header

_LIVE: weakref.WeakSet[Worker] = weakref.WeakSet()


class Worker:
    def __init__(self, folder: str, limits: Limits) -> None:
        self.limits = limits
        self.spent = 0.0  # seconds waited for the student's code
        self.failure: StudentCodeError | None = None
        self.printed: str | None = None
        self.earlier = ""  # what the code printed in the processes this one replaced (audit)
        self.printed_to: list[str] = []  # its session's list of what its workers printed
        self.folder, self.specs = folder, {}
        self.journal: Journal | None = Journal()  # what was asked and answered, to ask a fresh process again
        self.pid: int | None = None
        self.requests = self.replies = None
        self._spawn()
        _LIVE.add(self)

    def _spawn(self) -> None:
        """A new process, with its own pipes and captured output."""
        for stream in (sys.stdout, sys.stderr):  # nothing of ours may be printed twice by the child
            with contextlib.suppress(Exception):
                stream.flush()
        _keep_to_ourselves()
        self.asked = 0  # requests sent; each reply must carry its request's number
        self.skip = 0  # bytes of captured output not to show (a replay's)
        self.capture = tempfile.TemporaryFile()
        requests_r, self.requests = os.pipe()
        self.replies, replies_w = os.pipe()
        folder, limits = self.folder, self.limits
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 3.12 warns of threads: the child execs no thread
            self.pid = os.fork()
        if self.pid == 0:  # the child: never returns
            capture = self.capture.fileno()
            confinement.run(lambda: serve(requests_r, replies_w, capture, folder, limits), limits, folder)
        os.close(requests_r)
        os.close(replies_w)
        os.set_blocking(self.requests, False)
        self.readable, self.writable = select.poll(), select.poll()
        self.readable.register(self.replies, select.POLLIN)
        self.writable.register(self.requests, select.POLLOUT)

    def load(self, specs: dict[str, dict]) -> dict[str, dict]:
        op = next(iter(specs))
        header, _ = self._ask(("load", specs), op, "importing the module", expect=[])
        if not header["ok"]:
            key, culprit = header.get("key"), header.get("op")
            key = key if isinstance(key, str) else None
            raise LoadRefused(culprit if culprit in specs else op, key, printable(header.get("message")))
        found = header.get("found")
        if not isinstance(found, dict) or set(found) != set(specs) or not all(map(_well_formed, found.values())):
            self._fail(op, "importing the module: the worker sent an unreadable reply")
        self.specs = specs
        return found

    def call(
        self, kind: str, op: str, what: str, *args: object, expect: list | None = None, nullable: bool = False
    ) -> list[np.ndarray | None]:
        """The worker's answer to one request: arrays, or PluginError with what the student's code did.
        expect: the shapes the arrays must have (None: not known yet; the reply is bounded by --memory);
        nullable: an array may be None (a backward's input that is not differentiable)."""
        header, arrays = self._ask((kind, op, *args), op, what, expect, nullable)
        if not header["ok"]:
            raise PluginError(op, printable(header.get("message", "failed")))  # the student's words, escaped
        if self.journal is not None:
            self.journal.record(kind, op, what, args, arrays)
        return arrays

    def audit(self) -> None:
        """Every question asked so far asked again (replay.py) of a fresh process, which then takes this one's
        place; StudentCodeError if an answer differs. The old process ends first, so that nothing it holds (a
        lock, a process, a file) can tell the fresh one what it answered."""
        if self.journal is None or not self.journal.questions:
            return
        if self.failure is not None:
            raise self.failure
        self.earlier += self._end()
        self._spawn()
        journal, spent, self.journal, self.spent = self.journal, self.spent, None, 0.0  # the replay's own budget
        try:
            try:
                self.load(self.specs)
            except LoadRefused as err:  # it imported the first time
                raise StudentCodeError(
                    err.op, f"importing the module again in a fresh process: {err.message}"
                ) from None
            replay(journal, self)
        except StudentCodeError as err:
            self.failure = err
            self._kill()
            raise
        finally:
            self.journal, self.spent = Journal(), spent
        self.skip = os.fstat(self.capture.fileno()).st_size  # what it printed again is not shown twice

    def _ask(
        self, request: tuple, op: str, what: str, expect: list | None = None, nullable: bool = False
    ) -> tuple[dict, list[np.ndarray | None]]:
        if self.failure is not None:
            raise self.failure
        limit = self.limits.timeout if self.limits.per_call else self.limits.timeout - self.spent
        started = time.monotonic()
        deadline = started + max(limit, 0.0)
        self.asked += 1
        try:
            data = pickle.dumps((self.asked, *request), protocol=pickle.HIGHEST_PROTOCOL)
            self._send(LENGTH.pack(len(data)) + data, deadline)
            header_size, data_size = HEADER.unpack(self._receive(HEADER.size, deadline))
            if header_size > MAX_HEADER:
                raise _Broken("sent a reply too large to be one")
            header = json.loads(self._receive(header_size, deadline))
            if not isinstance(header, dict) or not isinstance(header.get("ok"), bool):
                raise _Broken("sent an unreadable reply")
            if header.get("id") != self.asked:  # a reply written by the student's code, or one too many
                raise _Broken("sent a reply to another request")
            shapes = _shapes(header, [] if not header["ok"] else expect, nullable)
            size = 8 * sum(math.prod(s) for s in shapes if s is not None)
            if size != data_size:
                raise _Broken("sent a reply whose size is not that of its arrays")
            if size > self.limits.memory:  # before anything is read into backprop's memory
                raise _Broken(f"sent {memory_text(size)} of numbers, more than {self.limits.option('memory')} allows")
            arrays = self._receive_arrays(shapes, size, deadline)
        except _Timeout:
            self._fail(op, f"{what} did not finish within {self.limits.timeout:g} s ({self.limits.option('timeout')})")
        except _Broken as err:
            self._fail(op, f"{what}: the worker {err}")
        except (EOFError, BrokenPipeError, ConnectionResetError):
            self._fail(op, f"{what} {self._ended()}")
        except (ValueError, TypeError, KeyError, RecursionError, OverflowError):
            self._fail(op, f"{what}: the worker sent an unreadable reply")
        finally:
            self.spent += time.monotonic() - started
        if header.get("fatal") == "memory":
            allowed = memory_text(self.limits.memory)
            self._fail(op, f"{what} ran out of memory ({allowed} allowed; {self.limits.option('memory')})")
        return header, arrays

    def _receive_arrays(self, shapes: list, size: int, deadline: float) -> list[np.ndarray | None]:
        """The reply's float64 arrays, read straight into one buffer (no copy), each a view of it."""
        buffer = np.empty(size // 8, np.dtype("<f8"))
        view, done = memoryview(buffer).cast("B"), 0
        while done < size:
            _wait(self.readable, deadline)
            got = os.readv(self.replies, [view[done : done + 2**24]])
            if not got:
                raise EOFError
            done += got
        if not buffer.dtype.isnative:
            buffer = buffer.astype(np.float64)
        arrays, offset = [], 0
        for shape in shapes:
            if shape is None:
                arrays.append(None)
                continue
            count = math.prod(shape)
            arrays.append(buffer[offset : offset + count].reshape(shape))
            offset += count
        return arrays

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            _wait(self.writable, deadline)
            view = view[os.write(self.requests, view) :]

    def _receive(self, size: int, deadline: float) -> bytearray:
        buffer = bytearray()
        while len(buffer) < size:
            _wait(self.readable, deadline)
            chunk = os.read(self.replies, min(size - len(buffer), 2**20))
            if not chunk:
                raise EOFError
            buffer += chunk
        return buffer

    def _ended(self) -> str:
        """How the child ended (it closed its pipe: it is gone, or about to be)."""
        status = self._reap(grace=1.0)
        if status is None:
            return "closed the connection to backprop"
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            if number == signal.SIGXFSZ:
                return f"printed (or wrote to a file) more than {memory_text(self.limits.output)}: stopped"
            name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
            return f"crashed: the process was killed by signal {name}"
        return f"ended the process (exit code {os.WEXITSTATUS(status)}: os._exit or a crash) before returning"

    def _reap(self, grace: float = 0.0) -> int | None:
        if self.pid is None:
            return None
        end = time.monotonic() + grace
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = None
                return status
            if time.monotonic() >= end:
                return None
            time.sleep(0.005)

    def _fail(self, op: str, message: str) -> None:
        self.failure = StudentCodeError(op, message)
        self._kill()
        raise self.failure

    def _kill(self) -> None:
        if self.pid is not None:
            confinement.stop(self.pid)  # the worker and every process it started
            self.pid = None
        for fd in ("requests", "replies"):
            if getattr(self, fd) is not None:
                os.close(getattr(self, fd))
                setattr(self, fd, None)

    def close(self) -> str:
        """Kill the worker; what the student's code printed (at most limits.output bytes)."""
        if self.printed is None:
            self.printed = (self.earlier + self._end())[: self.limits.output]
            _LIVE.discard(self)
            if self.printed:
                self.printed_to.append(self.printed)
        return self.printed

    def _end(self) -> str:
        """Kill the process; what its code printed, escaped."""
        self._kill()
        self.capture.seek(self.skip)
        printed = self.capture.read(self.limits.output).decode("utf-8", "replace")
        self.capture.close()
        return printable_lines(printed)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


@atexit.register
def _kill_all() -> None:
    for worker in list(_LIVE):
        worker.close()


def _well_formed(found: object) -> bool:
    """What the worker says it found for one op: the shape StudentOps.load gives it."""
    if not isinstance(found, dict) or not isinstance(found.get("module"), str):
        return False
    inputs, attrs, names = found.get("inputs"), found.get("attrs"), found.get("names")
    return (
        isinstance(inputs, list)
        and bool(inputs)
        and all(isinstance(i, str) for i in inputs)
        and isinstance(attrs, dict)
        and all(isinstance(v, (bool, int, float, str, type(None))) for v in attrs.values())
        and isinstance(names, dict)
        and all(isinstance(v, str) for v in names.values())
        and "forward" in names
        and "backward" in names
    )


def _keep_to_ourselves() -> None:
    """Linux: backprop's process becomes non-dumpable, so code running as the same (non-root) user cannot
    open its /proc entries: no writing into its stdout through /proc/PID/fd/1, no reading its memory."""
    global _PROTECTED
    if not _PROTECTED:
        _PROTECTED = True
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None).prctl(4, 0)  # PR_SET_DUMPABLE


_PROTECTED = False


class _Timeout(Exception):
    pass


class _Broken(Exception):
    pass


def _wait(poll: select.poll, deadline: float) -> None:
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Timeout
        if poll.poll(left * 1000):
            return  # ready, or the other end is gone (the read or write says which)


def _shapes(header: dict, expect: list | None, nullable: bool) -> list[tuple[int, ...] | None]:
    """The reply's array shapes, as the header declares them: lists of whole numbers ≥ 0 (None where nullable),
    and the shapes asked for where they are known; anything else is refused before any data is read."""
    shapes = header.get("arrays", [])
    if not isinstance(shapes, list):
        raise _Broken("sent an unreadable reply")
    found = []
    for shape in shapes:
        if shape is None and nullable:
            found.append(None)
            continue
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
            raise _Broken("sent an unreadable reply")
        if any(d < 0 for d in shape) or len(shape) > 64:
            raise _Broken("sent an unreadable reply")
        found.append(tuple(shape))
    if expect is not None:
        asked = [None if e is None else tuple(e) for e in expect]
        if len(found) != len(asked) or any(f is not None and f != a for f, a in zip(found, asked, strict=False)):
            shown = ", ".join(str(f) for f in found) or "none"
            raise _Broken(f"sent arrays of shapes {shown} for a request of shapes {', '.join(map(str, asked))}")
    return found
