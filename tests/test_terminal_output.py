"""What the terminal shows is what the graph says (issue 11): no markup read from graph text, no escape
codes passed through, and on 80 columns every number whole (the oracle: the same numbers as the piped,
uncut output), tables stacked or one block per row instead of cut."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
from conftest import GRAPHS, ROOT
from rich.cells import cell_len

EXAMPLES = sorted(p.stem for p in GRAPHS.glob("*.yaml"))
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TERMINAL_80 = {"COLUMNS": "80", "LINES": "50", "TTY_COMPATIBLE": "1", "NO_COLOR": "1"}
PIPED = {"COLUMNS": "80", "TTY_COMPATIBLE": "0"}


def _numbers(text: str) -> set[str]:
    return set(NUMBER.findall(ANSI.sub("", text)))


def _assert_nothing_cut(narrow: str, wide: str) -> None:
    text = ANSI.sub("", narrow)
    cut = [line for line in text.splitlines() if re.search(r"[\w.)\]]…", line)]
    assert not cut, "\n".join(cut)
    assert _numbers(narrow) == _numbers(wide), sorted(_numbers(narrow) ^ _numbers(wide))[:20]


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("command", [["trace"], ["gradcheck"]])
def test_80_columns_cut_no_number(run, example, command):
    narrow = run(*command, example, env=TERMINAL_80)
    wide = run(*command, example, env=PIPED)
    assert narrow.exit_code == wide.exit_code == 0, narrow.stderr
    _assert_nothing_cut(narrow.stdout, wide.stdout)
    table_lines = [line for line in ANSI.sub("", narrow.stdout).splitlines() if line[:1] in "┃│┏┡└├"]
    assert all(cell_len(line) <= 80 for line in table_lines), max(table_lines, key=cell_len)


@pytest.mark.parametrize("command", [["ops"], ["examples"], ["train", "perceptron", "--steps", "3", "-q"]])
def test_80_columns_other_commands(run, command):
    narrow, wide = run(*command, env=TERMINAL_80), run(*command, env=PIPED)
    assert narrow.exit_code == wide.exit_code == 0
    _assert_nothing_cut(narrow.stdout, wide.stdout)


def test_piped_ops_is_never_cut(run):
    out = run("ops", env=PIPED).stdout
    assert "broadcast=False" in out and "…" not in out


def test_narrow_terminal_gets_a_block_per_leaf(run):
    out = ANSI.sub("", run("gradcheck", "sigmoid_neuron", env={**TERMINAL_80, "COLUMNS": "40"}).stdout)
    assert "reverse" in out and "0.393224" in out and "…" not in out
    assert not any(line.startswith(("┏", "│")) for line in out.splitlines())  # blocks, no table


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a pseudo-terminal")
@pytest.mark.parametrize("example", ["relu_layer", "sigmoid_neuron"])
def test_80_column_pseudo_terminal(run, example):
    """A real terminal (the full sweep over every example: python3 tests/terminal_sweep.py); the piped output, the
    oracle, in-process."""
    # stdout on the terminal (stderr, where a slow run's progress bar goes, is not what is compared)
    shell = f"stty cols 80; {sys.executable} -m backprop_cli gradcheck {example} 2>/dev/null; "
    shell += f"{sys.executable} -m backprop_cli trace {example} --explain"
    result = subprocess.run(["script", "-qc", shell, "/dev/null"], capture_output=True, text=True, cwd=ROOT)
    assert "PASS" in result.stdout
    piped = run("gradcheck", example, env=PIPED).stdout + run("trace", example, "--explain", env=PIPED).stdout
    _assert_nothing_cut(result.stdout, piped)


# ------------------------------------------------------------ graph text shown verbatim
HOSTILE_TEXT = {
    "markup": ("L = -Σ y[i] · log p[i], dL/d[w1] [bold]x[/bold] [link=https://example.com]here[/link]", None),
    "bad markup": ("weights w[/2] halved [/b]", None),
}


@pytest.mark.parametrize("about", [t for t, _ in HOSTILE_TEXT.values()], ids=list(HOSTILE_TEXT))
@pytest.mark.parametrize("env", [TERMINAL_80, PIPED], ids=["terminal", "piped"])
def test_about_is_shown_as_written(run, graph_file, about, env):
    path = graph_file(f'about: "{about}"\ninputs: {{a: -1}}\nnodes:\n  h: relu(a)\noutput: h\n')
    result = run("trace", str(path), env={**env, "COLUMNS": "400"})
    assert result.exit_code == 0, result.stderr
    assert about in ANSI.sub("", result.stdout)
    assert "\x1b]8;" not in result.stdout  # no live link


@pytest.mark.parametrize("env", [TERMINAL_80, PIPED], ids=["terminal", "piped"])
def test_relu_local_gradient_keeps_its_brackets(run, env):
    out = ANSI.sub("", run("trace", "relu_layer", env={**env, "COLUMNS": "200"}).stdout)
    assert "1[a > 0]" in out


@pytest.mark.parametrize(
    "text", ["\x1b[2J\x1b[H", "\x1b]0;owned\x07", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "\u202eevil", "\x9b31m"]
)
@pytest.mark.parametrize("command", [["trace"], ["trace", "--format", "markdown"], ["gradcheck"], ["examples"]])
def test_escape_sequences_never_reach_the_terminal(run, graph_file, text, command):
    body = json.dumps(f"before{text}after")  # a JSON string is a YAML double-quoted string
    path = graph_file(f"name: {body}\nabout: {body}\ninputs: {{x: 2}}\nnodes:\n  f: x * x\noutput: f\n")
    args = [*command, str(path)] if command != ["examples"] else command
    for env in (TERMINAL_80, PIPED):
        result = run(*args, env={**env, "COLUMNS": "300"})
        assert "\x1b]" not in result.stdout and "\x1b[2J" not in result.stdout and "\u202e" not in result.stdout
        assert "\x9b" not in result.stdout and "\x07" not in result.stdout
        if command[0] == "trace":
            assert "before" in result.stdout and "after" in result.stdout


def test_escape_sequences_in_error_lines_are_shown_not_run(run, graph_file):
    path = graph_file('inputs: {x: 1}\nnodes:\n  f: "x\\e[2J"\noutput: f\n')
    result = run("trace", str(path))
    assert result.exit_code == 2 and "\x1b" not in result.stderr


# ------------------------------------------------------------ --explain on tensors
def test_explain_shows_small_tensors_numbers_and_upstream_times_local(run):
    out = run("trace", "relu_layer", "--explain", env=PIPED).stdout
    assert "dL/da = dL/dh1 ⊙ ∂h1/∂a = [0.75, 0, 0.35, 0] ⊙ [1[a > 0]] = [0.75, 0, 0.35, 0]" in out
    assert "dL/dL.sum1 = dL/dL · ∂L/∂L.sum1 = 1 · 0.5 = 0.5" in out  # upstream d, local ∂: never the same


def test_explain_full_shows_every_number_in_one_style(run):
    out = run("trace", "relu_layer", "--explain", "--full", env=PIPED).stdout
    assert "[[0.75, -1.5, 0.375], [0, 0, 0], [0.35, -0.7, 0.175], [0, 0, 0]] (4×3)" in out
    assert "1." not in re.sub(r"\d1\.|1\.\d", "", out)  # no NumPy style `[1. 2.]`


def test_explain_summarises_big_tensors(run):
    out = run("trace", "two_layer", "--explain", env=PIPED).stdout
    assert "(64×100) ‖·‖=" in out and "w1ᵀ (100×1000)" in out


def test_a_name_with_dollars_is_a_plot_title_as_written(run, graph_file, tmp_path):
    path = graph_file(
        'name: "cost $x^$ here"\ninputs: {x: 2}\nparams: {w: 0.5}\nnodes:\n  loss: (w * x - 1) ** 2\noutput: loss\n'
    )
    result = run("train", str(path), "--steps", "3", "-q", "--plot", str(tmp_path / "p.svg"))
    assert result.exit_code == 0, result.stderr  # matplotlib would read $\frac$ as (broken) mathtext
