from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
GRAPHS = ROOT / "graphs"


@pytest.fixture
def run():
    """Run the CLI in-process: run("trace", "circuit") -> click Result (exit_code, stdout, stderr)."""
    from backprop_cli.cli import main

    def invoke(*args: str, **kwargs):
        return CliRunner().invoke(main, list(args), catch_exceptions=False, **kwargs)

    return invoke


@pytest.fixture
def graph_file(tmp_path):
    """Write a graph file and return its path: graph_file("nodes: ...")."""

    def write(text: str, name: str = "g.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
