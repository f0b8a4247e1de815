"""Output paths under attack (issue 20): only regular files are replaced; nothing a run reads is written,
through a link or a hard link either; no two outputs of a run are one file; `--steps` touches only the
frames it can prove it wrote; SIGTERM and SIGHUP leave no temporary file; a closed pipe ends as cat does."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backprop_cli.errors import UsageError
from backprop_cli.outputs import files

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
TRAINABLE = "inputs: {x: 2}\nparams: {w: 0.5}\nnodes:\n  loss: (w * x - 1) ** 2\noutput: loss\n"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")

# every option that writes a file: (command, its arguments before the path, the option, a suffix it takes)
WRITERS = [
    ("render", [], "-o", ".svg"),
    ("render", ["--worksheet", "-o", "{dir}/sheet.svg", "--force"], None, ".key.svg"),  # the key beside it
    ("jacobian", [], "-o", ".svg"),
    ("hessian", [], "-o", ".png"),
    ("train", ["--steps", "2", "-q"], "-o", ".yaml"),
    ("train", ["--steps", "2", "-q"], "--plot", ".svg"),
    ("train", ["--steps", "2", "-q"], "--animate", ".html"),
]
IDS = [f"{c}{' ' + o if o else ' --worksheet key'}" for c, _, o, _ in WRITERS]


def _needs(command: str) -> None:
    if command == "render" and shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")


def _args(tmp_path: Path, graph: Path, writer, target: Path) -> list[str]:
    command, before, option, _ = writer
    args = [command, str(graph), *(a.format(dir=tmp_path) for a in before)]
    return args + ([option, str(target)] if option else [])


def _kinds(folder: Path) -> dict[str, str]:
    """Every entry of folder: what it is and, for a file, its content."""
    out = {}
    for p in sorted(folder.iterdir()):
        if p.is_symlink():
            out[p.name] = f"link to {os.readlink(p)}"
        elif p.is_fifo():
            out[p.name] = "fifo"
        elif p.is_char_device():
            out[p.name] = "device"
        elif p.is_socket():
            out[p.name] = "socket"
        elif p.is_dir():
            out[p.name] = "dir"
        else:
            out[p.name] = p.read_bytes().decode("latin-1")
    return out


# ------------------------------------------------------------ never over an input, whatever the path
@pytest.mark.parametrize("writer", WRITERS, ids=IDS)
@pytest.mark.parametrize("how", ["the file", "a symbolic link", "a hard link"])
def test_no_output_replaces_the_graph_file(run, tmp_path, writer, how):
    _needs(writer[0])
    suffix = writer[3]
    graph = tmp_path / ("sheet.key.svg" if writer[2] is None else f"g{suffix}")
    graph.write_text(TRAINABLE)
    target = graph
    if how != "the file" and writer[2] is not None:
        target = tmp_path / f"other{suffix}"
        (target.symlink_to(graph.name) if how == "a symbolic link" else os.link(graph, target))
    elif how != "the file":
        pytest.skip("the key's name follows the worksheet's")
    before = _kinds(tmp_path)
    result = run(*_args(tmp_path, graph, writer, target))
    assert result.exit_code == 2 and "which this run reads" in result.stderr, result.stderr
    assert _kinds(tmp_path) == before


def test_an_output_is_checked_against_the_inputs_again_at_its_rename(tmp_path):
    """The safety net: even a command that forgot to check writes nothing over a file it noted as read."""
    graph = tmp_path / "g.svg"
    graph.write_text(TRAINABLE)
    with files.one_run():
        files.note_inputs([graph])
        with pytest.raises(UsageError, match="which this run reads"):
            files.write_bytes(str(tmp_path / "g.svg"), b"<svg/>")
    assert graph.read_text() == TRAINABLE and _kinds(tmp_path) == {"g.svg": TRAINABLE}


# ------------------------------------------------------------ only regular files are replaced
def _device(path: Path) -> None:
    """A character device of our own, like /dev/null (1, 3): never the system's, which a regression would
    replace for every program on the machine when the tests run as root."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        pytest.skip("making a device node needs root (CAP_MKNOD)")


def _special(tmp_path: Path, kind: str, suffix: str) -> Path:
    path = tmp_path / f"out{suffix}"
    if kind == "device":
        _device(path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()
    elif kind == "directory":
        path.mkdir()
    elif kind == "link to a device":
        _device(tmp_path / "null")
        path.symlink_to("null")
    elif kind == "link to a directory":
        (tmp_path / "folder").mkdir()
        path.symlink_to("folder")
    elif kind == "link to nothing":
        path.symlink_to("nowhere")
    return path


@pytest.mark.parametrize("writer", [w for w in WRITERS if w[2] is not None], ids=[i for i in IDS if "key" not in i])
@pytest.mark.parametrize(
    "kind", ["device", "fifo", "socket", "directory", "link to a device", "link to a directory", "link to nothing"]
)
def test_devices_pipes_sockets_folders_and_odd_links_are_refused_and_left_as_they_were(run, tmp_path, writer, kind):
    _needs(writer[0])
    graph = tmp_path / "g.yaml"
    graph.write_text(TRAINABLE)
    target = _special(tmp_path, kind, writer[3])
    before = _kinds(tmp_path)
    result = run(*_args(tmp_path, graph, writer, target))
    assert result.exit_code == 2, result.stderr
    assert str(target) in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert _kinds(tmp_path) == before


@needs_dot
def test_a_link_to_an_unrelated_regular_file_writes_that_file_and_stays_a_link(run, tmp_path):
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "c.svg"
    real.write_text("an older drawing")
    link = tmp_path / "c.svg"
    link.symlink_to(real)
    assert run("render", "circuit", "-o", str(link)).exit_code == 0
    assert link.is_symlink() and real.read_text().lstrip().startswith("<?xml")
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["c.svg"]  # no temporary file left


def test_train_through_a_link_puts_the_npy_files_beside_the_file_it_names(run, tmp_path):
    graph = tmp_path / "big.yaml"
    graph.write_text("params:\n  w: {shape: [40, 40], init: xavier}\nnodes:\n  loss: sum(w * w)\noutput: loss\n")
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "t.yaml").write_text("old")
    (tmp_path / "latest.yaml").symlink_to("runs/t.yaml")
    assert run("train", str(graph), "--steps", "1", "-q", "-o", str(tmp_path / "latest.yaml")).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["t.w.npy", "t.yaml"]
    assert run("trace", str(tmp_path / "latest.yaml"), "--json").exit_code == 0


def test_a_destination_that_changes_kind_before_the_rename_is_not_replaced(tmp_path):
    """Between the check and the rename (a long training) the file became a named pipe: left as it is."""
    target = tmp_path / "out.svg"
    target.write_text("old")
    with pytest.raises(UsageError, match="became a named pipe"), files.replacing(str(target)) as temp:
        Path(temp).write_text("new")
        target.unlink()
        os.mkfifo(target)
    assert _kinds(tmp_path) == {"out.svg": "fifo"}


def test_long_names_are_a_clear_error_and_temporary_names_stay_short(run, tmp_path):
    name = "w" * 250
    graph = tmp_path / "g.yaml"
    graph.write_text(
        f"params:\n  {name}: {{shape: [40, 40], init: xavier}}\nnodes:\n  loss: sum({name} ** 2)\noutput: loss\n"
    )
    result = run("train", str(graph), "--steps", "1", "-q", "-o", str(tmp_path / "t.yaml"))
    assert result.exit_code == 2 and "longer than the 255 bytes of a file name" in result.stderr, result.stderr
    assert len(result.stderr) < 600
    files.write_text(str(tmp_path / ("x" * 240 + ".svg")), "fits")  # its temporary name must fit too
    assert (tmp_path / ("x" * 240 + ".svg")).read_text() == "fits"


# ------------------------------------------------------------ the outputs of one run, against each other
@needs_dot
@pytest.mark.parametrize(
    "args",
    [
        ["-o", "{d}/s.svg", "--worksheet", "--steps", "{d}/s.svg"],
        ["-o", "{d}/frames/index.html", "--steps", "{d}/frames"],
        ["-o", "{d}/frames/step-1.svg", "--steps", "{d}/frames"],
        ["-o", "{d}/frames/../frames/step-0.svg", "--steps", "{d}/frames"],
    ],
)
def test_outputs_that_collide_are_refused_before_anything_is_written(run, tmp_path, args):
    (tmp_path / "frames").mkdir()
    result = run("render", "circuit", *(a.format(d=tmp_path) for a in args))
    assert result.exit_code == 2 and "give each output its own" in result.stderr, result.stderr
    assert _kinds(tmp_path) == {"frames": "dir"} and not list((tmp_path / "frames").iterdir())


# ------------------------------------------------------------ --steps: only what it can prove it wrote
@needs_dot
def test_steps_never_replaces_nor_removes_a_users_own_frames(run, tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "step-1.svg").write_text("my own drawing")
    (folder / "step-7.png").write_text("my own picture")
    result = run("render", "circuit", "--steps", str(folder))
    assert result.exit_code == 2 and "step-1.svg was not written by render --steps" in result.stderr
    assert _kinds(folder) == {"step-1.svg": "my own drawing", "step-7.png": "my own picture"}
    (folder / "step-1.svg").unlink()
    assert run("render", "two_layer", "--steps", str(folder)).exit_code == 0  # step-7.png is not one it writes
    assert (folder / "step-7.png").read_text() == "my own picture"
    (folder / "step-3.svg").write_text("changed after the run")
    assert run("render", "circuit", "--steps", str(folder)).exit_code == 0  # 3 frames: step-3 is stale
    assert (folder / "step-3.svg").read_text() == "changed after the run"  # changed since: not provably ours
    assert not (folder / "step-4.svg").exists()  # ours, unchanged, not drawn again: removed
    result = run("render", "two_layer", "--steps", str(folder))
    assert result.exit_code == 2 and "step-3.svg" in result.stderr
    assert run("render", "two_layer", "--steps", str(folder), "--force").exit_code == 0
    assert (folder / "step-7.png").read_text() == "my own picture"


@needs_dot
def test_steps_replaces_a_link_in_its_folder_not_the_file_it_names(run, tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    elsewhere = tmp_path / "notes.txt"
    elsewhere.write_text("mine")
    (folder / "step-0.svg").symlink_to(elsewhere)
    assert run("render", "circuit", "--steps", str(folder)).exit_code == 2
    assert run("render", "circuit", "--steps", str(folder), "--force").exit_code == 0
    assert elsewhere.read_text() == "mine" and not (folder / "step-0.svg").is_symlink()


# ------------------------------------------------------------ SIGTERM and SIGHUP, as Ctrl-C
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_signal_during_a_write_leaves_no_temporary_file_and_says_so(tmp_path, name):
    graph = tmp_path / "big.yaml"
    graph.write_text("params:\n  w: {shape: [1500, 1500], init: normal}\nnodes:\n  loss: sum(w * w)\noutput: loss\n")
    for _attempt in range(3):  # the signal must arrive while a temporary file exists
        process = subprocess.Popen(
            [sys.executable, "-m", "backprop_cli", "train", str(graph), "--steps", "1", "-q", "-o", "t.yaml"],
            cwd=tmp_path,
            env=ENV,
            stderr=subprocess.PIPE,
            text=True,
        )
        sent = False
        while process.poll() is None and not sent:
            if any(".tmp" in n for n in os.listdir(tmp_path)):
                process.send_signal(getattr(signal, name))
                sent = True
            time.sleep(0.001)
        _, stderr = process.communicate(timeout=60)
        if sent:
            break
        for extra in set(os.listdir(tmp_path)) - {"big.yaml"}:
            os.unlink(tmp_path / extra)
    assert sent, "the write was too fast to be interrupted"
    assert process.returncode == 128 + getattr(signal, name), stderr
    assert stderr == f"backprop: stopped by {name}\n"
    assert sorted(os.listdir(tmp_path)) == ["big.yaml"]


# ------------------------------------------------------------ a closed pipe ends quietly, as cat does
def _closed_pipe(*args: str, stderr_closed: bool = False) -> subprocess.CompletedProcess:
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "backprop_cli", *args],
            stdout=subprocess.PIPE if stderr_closed else write,
            stderr=write if stderr_closed else subprocess.PIPE,
            env=ENV,
            cwd=ROOT,
            timeout=120,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "args",
    [
        ["trace", "two_layer"],  # plain text (was exit 0)
        ["gradcheck", "two_layer"],  # rich's table (rich alone would exit 1)
        ["gradcheck", "circuit", "two_layer", "--json"],  # JSON, streamed (was exit 2 "Broken pipe")
    ],
    ids=" ".join,
)
def test_a_closed_pipe_on_stdout_ends_quietly_with_141(args):
    result = _closed_pipe(*args)
    assert result.returncode == 141 and result.stderr == b"", result.stderr[-500:]


@needs_dot
def test_a_closed_pipe_on_stderr_loses_the_messages_not_the_result(tmp_path):
    out = tmp_path / "sheet.svg"
    result = _closed_pipe("render", "circuit", "--worksheet", "-o", str(out), stderr_closed=True)
    assert result.returncode == 0 and out.exists() and (tmp_path / "sheet.key.svg").exists()
    assert _closed_pipe("trace", "nothere", stderr_closed=True).returncode == 2


# ------------------------------------------------------------ nothing written where the user did not ask
def test_matplotlib_writes_nothing_into_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in ENV.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_cli", "hessian", "rosenbrock", "-o", "h.png"],  # matplotlib draws it
        cwd=tmp_path,
        env={**env, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and (tmp_path / "h.png").exists(), result.stderr
    assert list(home.iterdir()) == [], "matplotlib's cache went into $HOME"


def test_a_file_without_write_permission_is_refused_also_for_root(run, tmp_path):
    target = tmp_path / "kept.svg"
    target.write_text("the instructor's figure")
    target.chmod(0o444)
    result = run("jacobian", "circuit", "-o", str(target))
    assert result.exit_code == 2 and "the file is read-only" in result.stderr
    assert target.read_text() == "the instructor's figure"


def test_an_npy_beside_an_existing_output_is_replaced_only_when_that_output_names_it(run, tmp_path):
    graph = tmp_path / "g.yaml"
    graph.write_text("params:\n  w: {shape: [40, 40], init: xavier}\nnodes:\n  loss: sum(w * w)\noutput: loss\n")
    (tmp_path / "u.yaml").write_text("my notes, not a graph backprop wrote\n")
    (tmp_path / "u.w.npy").write_bytes(b"my own array")
    result = run("train", str(graph), "--steps", "1", "-q", "-o", str(tmp_path / "u.yaml"))
    assert result.exit_code == 2 and "--force" in result.stderr  # was: replaced, since u.yaml existed
    assert (tmp_path / "u.w.npy").read_bytes() == b"my own array"
    assert run("train", str(graph), "--steps", "1", "-q", "-o", str(tmp_path / "t.yaml")).exit_code == 0
    assert run("train", str(graph), "--steps", "2", "-q", "-o", str(tmp_path / "t.yaml")).exit_code == 0  # its own
