"""Files the commands write: paths checked before any work, then written whole, exactly where named.

Every file backprop writes goes through `replacing`: a temporary file in the same folder, flushed to
disk, then renamed over the old one. A write that fails (disk full, a quota, a read-only folder, a
crash, SIGTERM) leaves the old file as it was and no temporary file behind. Only regular files are
replaced: a device, a named pipe, a socket or a folder is refused; a symbolic link is followed to the
regular file it names, which is replaced (the link stays). An output that is also an input of the run
(the graph file, a data file, a plugin module; through a link too) is refused, and no two outputs of a
run may be the same file: all are checked before any work, and each again just before its rename.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import UsageError, shortened

FRAME = re.compile(r"step-\d+\.(svg|png)")  # the frames render --steps writes
STEPS_FILES = re.compile(rf"index\.html|{FRAME.pattern}")  # every file a --steps folder gets

# ------------------------------------------------------------ the run: its inputs, its temporary files
_inputs: dict[tuple[int, int], str] = {}  # (device, inode) -> path of every file the command reads
_temporaries: set[str] = set()  # written, not yet renamed: removed if the run ends early


def note_inputs(paths: Iterable[str | Path]) -> None:
    """Files the running command reads: no output may replace them (checked again at every rename)."""
    for path in paths:
        with contextlib.suppress(OSError, ValueError):
            info = os.stat(path)
            if stat.S_ISREG(info.st_mode):
                _inputs[(info.st_dev, info.st_ino)] = str(path)


@contextlib.contextmanager
def one_run() -> Iterator[None]:
    """One command: the inputs it noted are forgotten after it, and its temporary files removed."""
    _inputs.clear()
    try:
        yield
    finally:
        _inputs.clear()
        remove_temporaries()


def remove_temporaries() -> None:
    """Every temporary file not yet renamed into place (a run stopped by a signal)."""
    for temp in list(_temporaries):
        _remove(temp)


def _kind(mode: int) -> str | None:
    """None for a regular file, else what it is ("a directory", "a named pipe (FIFO)", "a device", ...)."""
    from ..fileformat.data_files import not_a_file  # the words data files are refused with, too

    return not_a_file(mode)


def destination(option: str, path: str, follow: bool = True) -> Path:
    """Where the bytes of an output named `path` go: the path itself, or the regular file a symbolic link
    names (follow=False: the link itself is replaced). Refused (UsageError): a device, a FIFO, a socket, a
    folder, a link to one or to nothing, a name ending in a slash (a folder's name, even before it exists)."""
    if str(path).endswith(("/", os.sep)):  # Path() would drop the slash and write a file of the folder's name
        raise UsageError(
            f"{option} {shortened(path, 200)}: ends in {str(path)[-1]}, which names a folder: give a file's name"
        )
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return Path(path)
    except (OSError, ValueError) as err:
        raise UsageError(f"{option} {shortened(path, 200)}: {_reason(err)}") from None
    if stat.S_ISLNK(info.st_mode):
        if not follow:
            return Path(path)
        real = os.path.realpath(path)
        try:
            kind = _kind(os.stat(real).st_mode)
        except OSError:
            raise UsageError(
                f"{option} {shortened(path, 200)}: is a symbolic link to {shortened(real, 200)}, which does not "
                "exist: name the file itself"
            ) from None
        if kind is not None:
            raise UsageError(
                f"{option} {shortened(path, 200)}: is a symbolic link to {kind} ({shortened(real, 200)}); backprop "
                "replaces only regular files"
            )
        return Path(real)
    kind = _kind(info.st_mode)
    if kind == "a directory":
        raise UsageError(f"{option} {shortened(path, 200)}: is a directory")
    if kind is not None:
        raise UsageError(
            f"{option} {shortened(path, 200)}: is {kind}, not a file; backprop replaces only regular files"
        )
    return Path(path)


def _reason(err: Exception) -> str:
    if isinstance(err, ValueError):  # a NUL byte in the name
        return "the name holds a NUL character (\\x00)"
    return err.strerror or str(err)


def check_output(option: str, path: str, suffixes: tuple[str, ...] | None = None) -> None:
    """A file we may create or replace: the right kind of name, a regular file (or none yet; a link to a
    regular file), in a folder that exists and that we may write in; an existing file must be writable."""
    shown = shortened(path, 200)
    if suffixes is not None and Path(path).suffix.lower() not in suffixes:
        raise UsageError(f"{option} {shown}: the file name must end in {', '.join(suffixes)}")
    target = destination(option, path)
    folder = target.parent
    try:
        if not folder.is_dir():
            raise UsageError(f"{option} {shown}: no such directory {shortened(str(Path(path).parent), 200)!r}")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UsageError(
                f"{option} {shown}: cannot write in the folder {shortened(str(folder.resolve()), 200)!r} (permission denied)"
            )
        if target.exists() and (not os.access(target, os.W_OK) or not target.stat().st_mode & 0o222):
            raise UsageError(f"{option} {shown}: the file is read-only")
    except OSError as err:  # a name too long, a loop of links
        raise UsageError(f"{option} {shown}: {_reason(err)}") from None


def check_folder(option: str, path: str) -> None:
    """A folder we may create (its parent must exist and be writable) or fill."""
    target = Path(path)
    shown = shortened(path, 200)
    try:
        if target.exists() and not target.is_dir():
            raise UsageError(f"{option} {shown}: exists and is not a directory")
        parent = target.resolve().parent
        if not parent.is_dir():
            raise UsageError(f"{option} {shown}: no such directory {shortened(str(target.parent), 200)!r}")
        writable = target if target.is_dir() else parent
        if not os.access(writable, os.W_OK | os.X_OK):
            raise UsageError(f"{option} {shown}: cannot write in {shortened(str(writable), 200)!r} (permission denied)")
    except (OSError, ValueError) as err:
        raise UsageError(f"{option} {shown}: {_reason(err)}") from None


def check_not_overwriting(option: str, path: str, force: bool) -> None:
    """A file written beside the one named on the command line (a worksheet's answer key): an existing
    file of that name is someone's, and is replaced only with --force."""
    if not force and os.path.lexists(path):
        raise UsageError(f"{option} would replace {shortened(path, 200)}, which exists; add --force to replace it")


def check_distinct(files: Iterable[tuple[str, str]], folders: Iterable[tuple[str, str]] = ()) -> None:
    """No two outputs of a run are the same file, and no file is written where a folder output goes (the
    folder itself, or a name --steps writes in it): checked before anything is written."""
    seen: dict[str, tuple[str, str]] = {}
    for option, path in files:
        key = _identity(path)
        if key in seen:
            first, named = seen[key]
            raise UsageError(
                f"{first} {shortened(named, 200)} and {option} {shortened(path, 200)} are the same file: "
                "give each output its own name"
            )
        seen[key] = (option, path)
    for option, folder in folders:
        home = _identity(folder)
        for key, (other, named) in seen.items():
            inside = Path(key).parent == Path(home) and STEPS_FILES.fullmatch(Path(key).name)
            if key == home or inside:
                raise UsageError(
                    f"{other} {shortened(named, 200)} and {option} {shortened(folder, 200)} would write the same "
                    f"{'path' if key == home else 'file'}: give each output its own place"
                )


def _identity(path: str) -> str:
    """The one name of a file or folder, links and `..` resolved (the folder resolved for a new file)."""
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return os.path.abspath(path)


def check_not_inputs(outputs: Iterable[tuple[str, str]], inputs: Iterable[str | Path] = ()) -> None:
    """Refuse (exit 2) an output that is one of the run's inputs (those given, and every file the command
    noted as read): writing it would destroy what the run reads. Links and hard links count as the file."""
    note_inputs(inputs)
    for option, path in outputs:
        source = _input_at(path)
        if source is not None:
            raise UsageError(
                f"{option} {shortened(path, 200)} is {shortened(source, 200)}, which this run reads; write to "
                "another file (and rename it afterwards if you want to replace the input)"
            )


def _input_at(path: str | Path) -> str | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return _inputs.get((info.st_dev, info.st_ino))


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


# ------------------------------------------------------------ matplotlib's own files
def matplotlib_home() -> None:
    """Before matplotlib is imported: it writes a font cache into ~/.config or ~/.cache/matplotlib (or a
    warning when it cannot), and backprop writes nothing the user did not name. Unless MPLCONFIGDIR is set,
    it gets a folder of backprop's own in the temporary folder, made private (0700) and kept between runs
    so the font list is built once; if that name is taken by someone else, a fresh one, removed at exit."""
    import sys
    import tempfile

    if os.environ.get("MPLCONFIGDIR") or "matplotlib" in sys.modules:
        return
    uid = getattr(os, "getuid", lambda: 0)()
    home = os.path.join(tempfile.gettempdir(), f"backprop-matplotlib-{uid}")
    try:
        os.makedirs(home, mode=0o700, exist_ok=True)
        info = os.lstat(home)
        ours = stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o077
    except OSError:
        ours = False
    if not ours:
        import atexit
        import shutil

        home = tempfile.mkdtemp(prefix="backprop-matplotlib-")
        atexit.register(shutil.rmtree, home, True)
    os.environ["MPLCONFIGDIR"] = home


# ------------------------------------------------------------ writing
def _temporary_name(target: Path) -> tuple[str, str]:
    """(prefix, suffix) of the temporary file beside target: short enough for any file system's 255 bytes."""
    stem = target.stem if len(os.fsencode(target.stem)) <= 40 else target.stem[:20]
    suffix = target.suffix if len(target.suffix) <= 16 else ""
    return f".{stem}.", f".tmp{suffix}"


@contextlib.contextmanager
def replacing(path: str, option: str = "", follow: bool = True) -> Iterator[str]:
    """The one way backprop writes a file. Yields a temporary file's name (in the destination's folder,
    same suffix) for the caller to fill; then flushes it to disk and renames it over the destination (the
    path, or the regular file a link at path names). If anything fails, the old file is as it was and the
    temporary file is removed. OSError becomes UsageError("cannot write path: ...")."""
    target = destination(option or "cannot write", path, follow)
    folder = target.parent
    import tempfile

    prefix, suffix = _temporary_name(target)
    try:
        with _signals_held():  # made and noted at once: a signal between the two would leave it behind
            fd, temp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
            os.close(fd)
            _temporaries.add(temp)
    except OSError as err:
        raise UsageError(f"cannot write {shortened(path, 200)}: {_reason(err)}") from None
    try:
        yield temp
        _settle(temp, target)
        _still_replaceable(path, target)
        with _signals_held():
            os.replace(temp, target)
            _temporaries.discard(temp)
    except OSError as err:
        raise UsageError(f"cannot write {shortened(path, 200)}: {_reason(err)}") from None
    finally:
        if temp in _temporaries:  # not renamed: a failure, an exception, a signal
            _remove(temp)
    with contextlib.suppress(OSError):  # the rename itself, on disk (not every system can sync a folder)
        directory = os.open(folder if str(folder) else ".", os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _still_replaceable(path: str, target: Path) -> None:
    """Just before the rename: the destination is still a regular file (or none), and not an input. The
    check at the start of the run could be minutes old."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    kind = None if stat.S_ISLNK(mode) and target == Path(path) else _kind(mode)  # a link replaced as asked
    if kind is not None:
        raise UsageError(
            f"cannot write {shortened(path, 200)}: it became {kind} while backprop ran; nothing was replaced"
        )
    source = _input_at(target)
    if source is not None:
        raise UsageError(f"cannot write {shortened(path, 200)}: it is {shortened(source, 200)}, which this run reads")


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
    with _signals_held():
        with contextlib.suppress(OSError):
            os.unlink(temp)
        _temporaries.discard(temp)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP wait (they are delivered at the end) while a temporary file is made and
    noted, renamed and forgotten, or removed: never half of one of these."""
    import signal

    held = {signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)}
    try:
        before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):  # no POSIX signal masks (Windows)
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def write_bytes(path: str, data: bytes) -> None:
    with replacing(path) as temp, open(temp, "wb") as stream:
        stream.write(data)


def write_text(path: str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_files(files: dict[str, bytes], follow: bool = True) -> None:
    """Several files that belong together (a worksheet and its key, a graph and its .npy files): all are
    written to temporary files first, and renamed into place, in the order given (the file that names the
    others last), only when every one was written. A failure leaves every old file as it was. follow=False:
    a symbolic link among them is replaced itself, not the file it names."""
    check_distinct((("output", path) for path in files), ())
    with contextlib.ExitStack() as stack:
        for path, data in reversed(files.items()):  # the stack renames the last entered first
            temp = stack.enter_context(replacing(path, follow=follow))
            try:
                with open(temp, "wb") as stream:
                    stream.write(data)
            except OSError as err:
                raise UsageError(f"cannot write {shortened(path, 200)}: {_reason(err)}") from None


def write_folder(path: str, files: dict[str, bytes], stale: dict[str, str] | None = None) -> None:
    """Files (by name) into a folder, created if missing. stale: files of an earlier run (name -> sha256 of
    what that run wrote) that this run does not write again; each is removed only if it still holds exactly
    what was written then. Nothing else in the folder is touched."""
    import hashlib

    folder = Path(path)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create {shortened(path, 200)}: {_reason(err)}") from None
    names = sorted(files, key=lambda name: name == "index.html")  # the page last: it names the frames
    write_files({str(folder / name): files[name] for name in names}, follow=False)  # a link there: replaced
    for name, digest in (stale or {}).items():
        old = folder / name
        if name in files or not FRAME.fullmatch(name) or old.is_symlink() or not old.is_file():
            continue
        with contextlib.suppress(OSError):
            if hashlib.sha256(old.read_bytes()).hexdigest() == digest:
                old.unlink()
