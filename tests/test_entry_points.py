"""How backprop is started: `python -m backprop_cli`, `--version`, and a command whose module cannot be imported."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

import backprop_cli

ROOT = Path(__file__).resolve().parent.parent


def declared_version() -> str:
    return re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)


def test_python_m_backprop_cli_is_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "backprop_cli", "trace", "circuit", "--json"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert '"f": -12.0' in done.stdout
    usage = subprocess.run([sys.executable, "-m", "backprop_cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert usage.returncode == 0 and usage.stdout.startswith("Usage: backprop "), usage.stdout[:200]


def test_version_is_the_package_metadata(run):
    try:
        expected = version("backprop-cli")
    except PackageNotFoundError:  # a checkout on PYTHONPATH without an install: pyproject.toml's
        expected = declared_version()
    assert backprop_cli.__version__ == expected
    result = run("--version")
    assert result.exit_code == 0 and result.stdout == f"backprop {expected}\n"


def test_a_checkout_that_is_not_installed_reports_pyproject_s_version(monkeypatch):
    def not_installed(name: str) -> str:
        raise PackageNotFoundError(name)

    monkeypatch.setattr("importlib.metadata.version", not_installed)
    assert backprop_cli._version() == declared_version()


@pytest.mark.parametrize("args", [["gradcheck", "circuit"], ["--help"], ["gradcheck", "--help"]])
def test_a_module_that_cannot_be_imported_is_one_line_and_exit_4(run, monkeypatch, args):
    """A wheel that misses a module (issue 10: backprop_cli.verify) must not look like a failed check (exit 1)."""
    monkeypatch.delenv("BACKPROP_DEBUG", raising=False)
    monkeypatch.setitem(sys.modules, "backprop_cli.commands.gradcheck", None)  # import raises ModuleNotFoundError
    result = run(*args)
    assert result.exit_code == 4
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("backprop: internal error: the command 'gradcheck' could not be loaded: ModuleNotFound")
    assert "Traceback" not in result.stderr


def test_a_module_that_cannot_be_imported_is_raised_with_backprop_debug(run, monkeypatch):
    monkeypatch.setenv("BACKPROP_DEBUG", "1")
    monkeypatch.setitem(sys.modules, "backprop_cli.commands.gradcheck", None)
    with pytest.raises(ModuleNotFoundError):
        run("gradcheck", "circuit")
