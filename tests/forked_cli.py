"""`backprop ARGS` as a process of its own under resource limits, forked from a server that imported backprop once.

tests/test_hostile.py runs every case that could hang, recurse or allocate without bound in a process limited in
CPU time and address space. `python -m backprop_cli` costs ~0.35 s of CPU before it reads its file (Python, numpy,
click, yaml, the ops); a fork of a process that has imported them costs ~30 ms. The child is still a process of its
own: its own limits (its CPU time starts at 0), its own exit code or the signal that killed it, its stdout and
stderr in files, its working folder and environment. The server is multiprocessing's forkserver: started once per
test process with backprop's trace path imported; each case is a fresh fork of it. (The test process itself, with
torch loaded, maps more than the 1 GiB a case may use.)
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import subprocess
import tempfile
from pathlib import Path

import backprop_cli.cli

# imported by the server (Python 3.11's forkserver ignores sys.path: only installed modules can be preloaded), so
# that a case does not import them again; a child imports this small module
_CONTEXT = multiprocessing.get_context("forkserver")
PRELOAD = ("cli", "arguments", "examples", "fileformat", "engines.api", "engines.trace", "commands.trace")
PRELOAD += ("outputs.files", "outputs.formats.json", "outputs.terminal")
_CONTEXT.set_forkserver_preload([f"backprop_cli.{name}" for name in PRELOAD])


def _case(args: list[str], cwd: str, env: dict[str, str], limits: dict[int, int], out: str, err: str) -> None:
    """In the child: the limits, the streams, the folder and the environment, then the CLI as __main__ runs it."""
    for kind, value in limits.items():
        resource.setrlimit(kind, (value, value + 1 if kind == resource.RLIMIT_CPU else value))
    for fd, path in ((0, os.devnull), (1, out), (2, err)):
        opened = os.open(path, os.O_RDONLY if fd == 0 else os.O_WRONLY)
        os.dup2(opened, fd)
        os.close(opened)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    backprop_cli.cli.main(args, prog_name="backprop")


def backprop(
    *args: str, cwd: Path, env: dict[str, str], limits: dict[int, int], timeout: float
) -> subprocess.CompletedProcess:
    """Run the CLI in a forked child under the limits (resource.RLIMIT_* -> value); killed after timeout seconds of
    wall time. returncode is the exit code, or minus the signal that ended the child."""
    with tempfile.TemporaryDirectory() as folder:
        out, err = Path(folder, "stdout"), Path(folder, "stderr")
        out.touch()
        err.touch()
        child = _CONTEXT.Process(target=_case, args=(list(args), str(cwd), env, limits, str(out), str(err)))
        child.start()
        child.join(timeout)
        if child.exitcode is None:
            child.kill()
            child.join()
        code = child.exitcode
        child.close()
        stdout, stderr = (path.read_text(errors="replace") for path in (out, err))
    return subprocess.CompletedProcess(["backprop", *args], code, stdout, stderr)
