"""The worker's confinement (issue 20, fileformat/confinement.py): no process outlives backprop, the terminal and
the student's folder are out of reach, and limits stay hard; with namespaces (the default where the system allows
them) and without (forced here, as on systems without user namespaces)."""

from __future__ import annotations

import json
import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest
from test_hostile import ENV, ROOT  # tests/ is on sys.path (pytest's prepend import mode)

from backprop_cli import load

GRAPH = "ops:\n  k: {module: layers.py, forward: f, backward: b}\ninputs: {x: [1.5, -2.0, 0.7, 3.0]}\nnodes:\n"
GRAPH += "  y: k(x)\n  L: sum(y)\noutput: L\n"
CORRECT = "\n\ndef f(x):\n    return x * x\n\n\ndef b(g, x):\n    return (2 * x * g,)\n"
MODES = ("namespaces", "no namespaces")
needs_linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc, prctl and namespaces: Linux")


def folder_with(tmp_path: Path, name: str, module: str) -> Path:
    (tmp_path / name).mkdir()
    (tmp_path / name / "layers.py").write_text(module)
    (tmp_path / name / "hw.yaml").write_text(GRAPH)
    return tmp_path / name / "hw.yaml"


@pytest.fixture
def backprop(run, monkeypatch):
    """backprop(mode, *args): the CLI in-process (its workers fork from here), with or without namespaces (as on
    a system that allows none)."""
    from backprop_cli.fileformat import confinement

    def invoke(mode: str, *args: str):
        if mode == "no namespaces":
            monkeypatch.setattr(confinement, "_isolate", lambda *_: False)
        return run(*args)

    return invoke


def named(marker: str) -> list[int]:
    """The processes whose name (comm) is marker."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and Path(f"/proc/{entry}/comm").read_text().strip() == marker:
                found.append(int(entry))
        except OSError:
            pass
    return found


ORPHAN = """import ctypes, os, time

if os.fork() == 0:  # on import: a child that leaves its session, and a grandchild that hides under a name of its own
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, b"MARKER", 0, 0, 0)
        time.sleep(30)
    os._exit(0)
"""


@needs_linux
@pytest.mark.parametrize("mode", MODES)
def test_no_process_outlives_backprop(tmp_path, backprop, mode):
    marker = f"bporphan{os.getpid() % 10000}{len(mode)}"
    path = folder_with(tmp_path, "orphan", ORPHAN.replace("MARKER", marker) + CORRECT)
    result = backprop(mode, "gradcheck", str(path), "--allow-python", "-q")
    assert result.exit_code == 0, result.stderr
    deadline = time.monotonic() + 2
    while named(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = named(marker)
    for pid in survivors:  # not to leave them to the next test if this one fails
        os.kill(pid, 9)
    assert not survivors, f"{mode}: a process the student's code started outlived backprop"


TERMINAL = """import glob, os

def f(x):
    for path in ["/dev/tty", *glob.glob("/dev/pts/[0-9]*")]:
        try:
            with open(path, "w") as terminal:
                terminal.write("\\x1b[2KPASS FORGED\\n")
        except OSError:
            pass
    return x * x
"""


@needs_linux
def test_the_terminal_is_out_of_reach(tmp_path):
    """backprop on a pseudo-terminal: the student's code writes to /dev/tty and every /dev/pts/N it can open;
    nothing of it reaches the terminal (no controlling terminal; the terminals' device files hidden)."""
    path = folder_with(tmp_path, "tty", TERMINAL + CORRECT.split("\n\n\n")[1])
    pid, master = pty.fork()
    if pid == 0:  # the child: backprop on the terminal
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "backprop_cli", "gradcheck", str(path), "--allow-python"], ENV)
    seen, deadline = b"", time.monotonic() + 60
    while time.monotonic() < deadline:
        if select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif os.waitpid(pid, os.WNOHANG)[0]:
            break
    os.close(master)
    with __import__("contextlib").suppress(ChildProcessError):
        os.waitpid(pid, 0)
    assert b"PASS" in seen and b"FORGED" not in seen, seen[-2000:]


@pytest.mark.parametrize("mode", MODES)
def test_the_students_folder_is_left_as_it_was(tmp_path, backprop, mode):
    """No bytecode in __pycache__, and with namespaces no file at all: the file system is read-only to it."""
    path = folder_with(tmp_path, "student", "from helper import TWO\n" + CORRECT.replace("2 * x", "TWO * x"))
    (path.parent / "helper.py").write_text("TWO = 2\n")
    writer = (
        "from pathlib import Path\ntry:\n    Path(__file__).with_name('notes.txt').write_text('x')\nexcept OSError:\n"
    )
    (path.parent / "helper.py").write_text("TWO = 2\n" + writer + "    pass\n")
    before = sorted(p.name for p in path.parent.iterdir())
    result = backprop(mode, "gradcheck", str(path), "--allow-python", "-q")
    assert result.exit_code == 0, result.stderr
    after = sorted(p.name for p in path.parent.iterdir())
    assert "__pycache__" not in after
    if mode == "namespaces":
        assert after == before


@needs_linux
def test_without_namespaces_the_limits_stay_hard(tmp_path, backprop):
    """The hostile students that raise their limits again, on a system without user namespaces."""
    corpus = Path(__file__).parent / "hostile" / "students"
    paths = [
        folder_with(tmp_path, case, (corpus / f"{case}.py").read_text())
        for case in ("142_raises_its_memory_limit", "143_raises_its_print_limit")
    ]
    args = ["gradcheck", *map(str, paths), "--allow-python", "--json", "--memory", "300MiB", "--timeout", "5"]
    result = backprop("no namespaces", *args)
    files = json.loads(result.stdout)["files"]
    assert [f["status"] for f in files] == ["error", "error"], result.stdout[-2000:]
    assert "ran out of memory" in files[0]["error"] and "more than 1 MiB" in files[1]["error"]


COUNTING = """CALLS = []

def f(x):
    return x * x

def b(g, x):
    CALLS.append(1)
    if len(CALLS) == 1:  # the first call answers the expect: block (the student's hand-derived 3x)...
        return (3 * x * g,)
    return (2 * x * g,)  # ...the next the gradient check
"""


def test_a_backward_that_counts_its_calls_is_an_error(tmp_path):
    """The expected gradients (the student's own, wrong: 3x) and the checked backward come from two calls of b: a
    backward that answers each as needed made "2/2 expected answers right" and a pass."""
    from backprop_cli import gradcheck
    from backprop_cli.errors import StudentCodeError

    path = folder_with(tmp_path, "counting", COUNTING)
    path.write_text(GRAPH + "expect:\n  gradients: {x: [4.5, -6.0, 2.1, 9.0]}\n")
    with pytest.raises(StudentCodeError, match="b is not a function of its inputs"):
        gradcheck(load(path, allow_python=True))


def test_a_stateful_forward_is_an_error_with_order_2_too(tmp_path):
    from backprop_cli import gradcheck
    from backprop_cli.errors import StudentCodeError

    corpus = Path(__file__).parent / "hostile" / "students"
    path = folder_with(tmp_path, "anchored", (corpus / "147_anchored_at_the_first_point.py").read_text())
    with pytest.raises(StudentCodeError, match="f is not a function of its inputs"):
        gradcheck(load(path, allow_python=True), order=2)
