"""The package as users get it (issue 10): the sdist and the wheel built from this checkout, the wheel installed
into a fresh virtual environment, every command run from a folder that has nothing of the checkout in it.

An editable install (`pip install -e .`) reads the modules from the checkout, so it cannot see a module that the
wheel leaves out; these tests can. The wheel is built from the unpacked sdist, as pip builds from a source
release, so both are checked at once. Its dependencies come from the package index as for any user
(pip's cache makes that quick after `.ci/setup`).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "__pycache__", "*.pyc", "build", "dist", "*.egg-info", "out", ".*cache", ".hypothesis"
)
BUILD = "import sys; from setuptools import build_meta as b; print(getattr(b, sys.argv[1])(sys.argv[2]))"

pytestmark = pytest.mark.slow


def _run(args: list, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _clean_environment() -> dict:
    """No PYTHONPATH, no active virtual environment, no BACKPROP_ settings: nothing of the checkout leaks in."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "BACKPROP_"))}


def _checked(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, f"{done.args}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _build_and_install(work: Path) -> None:
    """The sdist from a copy of the checkout, the wheel from the unpacked sdist, the wheel in a fresh venv."""
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    dist = work / "dist"
    sdist = _checked(_run([sys.executable, "-c", BUILD, "build_sdist", str(dist)], source)).stdout.split()[-1]
    with tarfile.open(dist / sdist) as archive:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python 3.11.4 and later
        archive.extractall(work / "unpacked", **safe)
    (unpacked,) = (work / "unpacked").iterdir()
    wheel = _checked(_run([sys.executable, "-c", BUILD, "build_wheel", str(dist)], unpacked)).stdout.split()[-1]
    venv = work / "venv"
    _checked(_run([sys.executable, "-m", "venv", "--without-pip", str(venv)], work))
    # --no-compile: pip compiled every module of the dependencies (pygments' lexers, numpy's tests: 5 s of CPU); the
    # commands below compile what they import at their first start, as the environment writes bytecode
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-compile"]
    _checked(_run([*pip, "--disable-pip-version-check", str(dist / wheel)], work, _clean_environment(), timeout=900))
    (work / "built.json").write_text(json.dumps({"sdist": sdist, "wheel": wheel}))


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict:
    """Built and installed once per test run: under pytest-xdist the first worker to get here does it, the others
    wait for it on a lock and use the same files."""
    base = tmp_path_factory.getbasetemp()
    work = base.parent / "wheel" if os.environ.get("PYTEST_XDIST_WORKER") else base / "wheel"
    work.mkdir(exist_ok=True)
    with open(work.parent / "wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (work / "built.json").exists():
            _build_and_install(work)
    names = json.loads((work / "built.json").read_text())
    return {"sdist": work / "dist" / names["sdist"], "wheel": work / "dist" / names["wheel"], "venv": work / "venv"}


@pytest.fixture(scope="session")
def installed(built, tmp_path_factory) -> dict:
    """The wheel installed in a fresh virtual environment, and an environment to run it in."""
    venv = built["venv"]
    env = _clean_environment()
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin", COLUMNS="120", NO_COLOR="1")
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # nothing of the checkout here, nor on sys.path
    return {"bin": venv / "bin", "python": venv / "bin" / "python", "env": env, "cwd": elsewhere}


def backprop(installed: dict, *args: str) -> subprocess.CompletedProcess:
    return _run([str(installed["bin"] / "backprop"), *args], installed["cwd"], installed["env"], timeout=120)


def test_the_wheel_holds_every_module_and_example_of_the_checkout(built):
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    package = ROOT / "backprop_cli"
    modules = {f"backprop_cli/{p.relative_to(package).as_posix()}" for p in package.rglob("*.py")}
    examples = {
        f"backprop_cli/graphs/{p.relative_to(ROOT / 'graphs').as_posix()}"
        for p in (ROOT / "graphs").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")
    }
    assert modules and examples
    assert not modules - names, f"modules missing from the wheel: {sorted(modules - names)}"
    assert not examples - names, f"example files missing from the wheel: {sorted(examples - names)}"
    metadata = zipfile.ZipFile(built["wheel"]).read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    for requirement in ("click", "numpy", "rich", "graphviz", "pyyaml", "threadpoolctl"):
        assert re.search(rf"^Requires-Dist: {requirement}\b", metadata.decode(), re.MULTILINE | re.IGNORECASE)


def test_the_sdist_holds_the_examples_and_the_build_files(built):
    with tarfile.open(built["sdist"]) as archive:
        names = {name.split("/", 1)[-1] for name in archive.getnames()}
    examples = {f"graphs/{p.name}" for p in (ROOT / "graphs").glob("*.yaml")}
    assert {"pyproject.toml", "setup.py", "README.md", "backprop_cli/verify/__init__.py"} <= names
    assert not examples - names, sorted(examples - names)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed):
    code = "import backprop_cli, sys; print(backprop_cli.__file__); print(backprop_cli.__version__)"
    where, version = _checked(
        _run([str(installed["python"]), "-c", code], installed["cwd"], installed["env"])
    ).stdout.split()
    assert Path(where).is_relative_to(installed["python"].parent.parent), where
    declared = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)
    assert version == declared
    assert _checked(backprop(installed, "--version")).stdout.strip() == f"backprop {declared}"
    module = _run([str(installed["python"]), "-m", "backprop_cli", "--version"], installed["cwd"], installed["env"])
    assert _checked(module).stdout.strip() == f"backprop {declared}"


def test_help_lists_every_command(installed):
    listed = _checked(backprop(installed, "--help")).stdout.split("Commands:")[-1].split()
    from backprop_cli.cli import COMMANDS

    assert set(COMMANDS) <= set(listed), listed


def test_trace_gradcheck_and_the_api_work_from_another_folder(installed):
    out = json.loads(_checked(backprop(installed, "trace", "circuit", "--json")).stdout)
    # the lecture's circuit f = (x + y) z at x = -2, y = 5, z = -4
    assert out["values"]["f"] == -12 and out["gradients"] == {"x": -4, "y": -4, "z": 3, "q": -4, "f": 1}
    verdict = _checked(backprop(installed, "gradcheck", "circuit"))
    assert "pass" in verdict.stdout.lower()
    api = "import backprop_cli; print(backprop_cli.gradcheck(backprop_cli.load('circuit')).passed)"
    assert (
        _checked(_run([str(installed["python"]), "-c", api], installed["cwd"], installed["env"])).stdout.strip()
        == "True"
    )
    examples = _checked(backprop(installed, "examples")).stdout
    assert all(p.stem in examples for p in (ROOT / "graphs").glob("*.yaml"))


def test_render_and_train_from_another_folder(installed):
    trained = _checked(backprop(installed, "train", "rosenbrock", "--steps", "5"))
    assert "Traceback" not in trained.stderr and trained.stdout
    _checked(backprop(installed, "render", "circuit", "-o", "c.dot"))
    assert (installed["cwd"] / "c.dot").read_text().lstrip().startswith("digraph")
    if shutil.which("dot") is None and os.environ.get("CI") != "true":
        pytest.skip("Graphviz's dot is not installed (CI installs it)")
    _checked(backprop(installed, "render", "circuit", "-o", "c.svg"))
    assert "<svg" in (installed["cwd"] / "c.svg").read_text()
