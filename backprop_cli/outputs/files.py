"""Files the commands write: paths checked before any work, then written whole, exactly where named.

Every file backprop writes goes through `replacing`: a temporary file in the same folder, flushed to
disk, then renamed over the old one. A write that fails (disk full, a quota, a read-only folder, a
crash) leaves the old file as it was and no temporary file behind. An output that is also an input of
the run (the graph file, a data file, a plugin module) is refused: writing it would destroy what the
run reads.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import UsageError

FRAME = re.compile(r"step-\d+\.(svg|png)")  # the frames render --steps writes: replaced, never left stale


def check_output(option: str, path: str, suffixes: tuple[str, ...] | None = None) -> None:
    """A file we may create or replace: the right kind of name, not a directory, in a folder that exists
    and that we may write in; an existing file must be writable."""
    target = Path(path)
    if suffixes is not None and target.suffix.lower() not in suffixes:
        raise UsageError(f"{option} {path}: the file name must end in {', '.join(suffixes)}")
    if target.is_dir():
        raise UsageError(f"{option} {path}: is a directory")
    folder = target.resolve().parent
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: no such directory {str(target.parent)!r}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: cannot write in the folder {str(folder)!r} (permission denied)")
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(f"{option} {path}: the file is read-only")


def check_folder(option: str, path: str) -> None:
    """A folder we may create (its parent must exist and be writable) or fill."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{option} {path}: exists and is not a directory")
    parent = target.resolve().parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: no such directory {str(target.parent)!r}")
    writable = target if target.is_dir() else parent
    if not os.access(writable, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: cannot write in {str(writable)!r} (permission denied)")


def check_not_overwriting(option: str, path: str, force: bool) -> None:
    """A file written beside the one named on the command line (a worksheet's answer key): an existing
    file of that name is someone's, and is replaced only with --force."""
    if not force and Path(path).exists():
        raise UsageError(f"{option} would replace {path}, which exists; add --force to replace it")


def check_not_inputs(outputs: Iterable[tuple[str, str]], inputs: Iterable[str | Path]) -> None:
    """Refuse (exit 2) an output that is one of the run's inputs: writing it would destroy what the run reads."""
    read = [Path(p) for p in inputs if p and Path(p).is_file()]
    for option, path in outputs:
        for source in read:
            if _same(Path(path), source):
                raise UsageError(
                    f"{option} {path} is {source}, which this run reads; write to another file "
                    "(and rename it afterwards if you want to replace the input)"
                )


def inputs_of(graph) -> list[Path]:
    """The files a graph was read from: the graph file, its data files (`file:`), its plugin modules."""
    source = Path(graph.source)
    stdin = graph.source == "<stdin>"  # read from stdin: its paths are relative to the current directory
    if not source.is_file() and not stdin:
        return []
    folder = Path.cwd() if stdin else source.resolve().parent
    paths = [] if stdin else [source]
    paths += [folder / str(n.attrs["file"]) for n in graph.leaves if n.attrs.get("file") is not None]
    for spec in graph.plugin_ops.values():
        if isinstance(spec, dict) and isinstance(spec.get("module"), str):
            paths.append(folder / spec["module"])
    return paths


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


@contextlib.contextmanager
def replacing(path: str) -> Iterator[str]:
    """The one way backprop writes a file. Yields a temporary file's name (same folder, same suffix) for
    the caller to fill; then flushes it to disk and renames it over path. If anything fails, path is as
    it was and the temporary file is removed. OSError becomes UsageError("cannot write path: ...")."""
    target = Path(path)
    folder = target.parent
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=folder)
        os.close(fd)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        yield temp
        _settle(temp, target)
        os.replace(temp, target)
    except OSError as err:
        _remove(temp)
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        _remove(temp)
        raise
    with contextlib.suppress(OSError):  # the rename itself, on disk (not every system can sync a folder)
        directory = os.open(folder if str(folder) else ".", os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _settle(temp: str, target: Path) -> None:
    """On disk before the rename, with the permissions a new file (or the old one) would have."""
    try:
        mode = target.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        mode = 0o666 & ~mask
    os.chmod(temp, mode)
    with open(temp, "rb+") as stream:
        os.fsync(stream.fileno())


def _remove(temp: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temp)


def write_bytes(path: str, data: bytes) -> None:
    with replacing(path) as temp, open(temp, "wb") as stream:
        stream.write(data)


def write_text(path: str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_files(files: dict[str, bytes]) -> None:
    """Several files that belong together (a worksheet and its key, a graph and its .npy files): all are
    written to temporary files first, and renamed into place, in the order given (the file that names the
    others last), only when every one was written. A failure leaves every old file as it was."""
    with contextlib.ExitStack() as stack:
        for path, data in reversed(files.items()):  # the stack renames the last entered first
            temp = stack.enter_context(replacing(path))
            try:
                with open(temp, "wb") as stream:
                    stream.write(data)
            except OSError as err:
                raise UsageError(f"cannot write {path}: {err.strerror or err}") from None


def write_folder(path: str, files: dict[str, bytes]) -> None:
    """Files (by name) into a folder, created if missing. Frames of an earlier run (step-N.svg or .png)
    that this run does not write again are removed; nothing else in the folder is touched."""
    folder = Path(path)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create {path}: {err.strerror or err}") from None
    names = sorted(files, key=lambda name: name == "index.html")  # the page last: it names the frames
    write_files({str(folder / name): files[name] for name in names})
    for old in folder.iterdir():
        if FRAME.fullmatch(old.name) and old.name not in files and old.is_file():
            with contextlib.suppress(OSError):
                old.unlink()
